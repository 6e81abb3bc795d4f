// Flush the outbox to POST /api/sync and apply what comes back (docs/sync-protocol.md).
// The page and the service worker both call syncNow; a Web Lock lets only one run at a time,
// and the server's idempotency (R5) makes a resend after a lost answer harmless.

import { openUserDb, promised, pruneOld, readSession, recordKey, run, wipeEverything, writeSession } from "./store.js";

export const SCHEMA = 1;
const BATCH = 200;
const ROUNDS = 50;  // at most this many round trips per run: a long backlog continues next time

export class SyncError extends Error {
  constructor(kind, message) {
    super(message || kind);
    this.kind = kind;  // offline | signed-out | no-device | wiped | upgrade | server | forbidden
  }
}

function withLock(name, body) {
  if (self.navigator && navigator.locks) {
    return navigator.locks.request(name, body);
  }
  return body();
}

export async function syncNow() {
  const session = await readSession();
  if (!session || !session.user_id) {
    throw new SyncError("signed-out");
  }
  if (!session.device_id) {
    throw new SyncError("no-device");
  }
  return withLock(`lotsenbuch-sync-${session.user_id}`, async () => {
    const db = await openUserDb(session.user_id);
    try {
      return await syncRounds(db, session);
    } finally {
      db.close();
    }
  });
}

async function syncRounds(db, session) {
  const summary = { sent: 0, applied: 0, conflicts: 0, rejected: 0, received: 0 };
  for (let round = 0; round < ROUNDS; round += 1) {
    const { entries, cursor } = await run(db, ["outbox", "state"], "readwrite", async (tx) => {
      const outbox = tx.objectStore("outbox");
      const batch = await promised(outbox.getAll(null, BATCH));
      for (const entry of batch) {
        entry.sending = true;  // edits made meanwhile start a new entry instead of changing this one
        outbox.put(entry);
      }
      return { entries: batch, cursor: (await promised(tx.objectStore("state").get("cursor"))) || null };
    });
    const body = {
      device_id: session.device_id, schema: SCHEMA, cursor,
      mutations: entries.map(({ mutation_id, entity, id, op, base_version, fields, client_time, resolves }) => (
        { mutation_id, entity, id, op, base_version, fields, client_time, resolves })),
    };
    const answer = await post(body, session);
    const more = await apply(db, entries, answer, summary);
    summary.sent += entries.length;
    if (!more) {
      break;
    }
  }
  return summary;
}

async function post(body, session, retried = false) {
  let response;
  try {
    response = await fetch("/api/sync", {
      method: "POST", credentials: "same-origin", cache: "no-store",
      headers: { "content-type": "application/json", "x-csrftoken": session.csrf || "" },
      body: JSON.stringify(body),
    });
  } catch (error) {
    throw new SyncError("offline", String(error));
  }
  if (response.headers.get("x-lotsenbuch-wipe")) {
    await wipeEverything();
    throw new SyncError("wiped");
  }
  if (response.ok) {
    return response.json();
  }
  if (response.status === 403 && !retried) {  // perhaps a stale CSRF token in a cached page
    const fresh = await fetch("/api/me", { credentials: "same-origin", cache: "no-store" }).catch(() => null);
    if (fresh && fresh.ok) {
      const me = await fresh.json();
      if (me.csrf_token && me.csrf_token !== session.csrf) {
        session.csrf = me.csrf_token;
        await writeSession(session);
        return post(body, session, true);
      }
    }
  }
  const detail = await response.json().catch(() => ({}));
  const message = detail.error || response.statusText;
  if (response.status === 401) {
    throw new SyncError("signed-out", message);
  }
  if (response.status === 426) {
    throw new SyncError("upgrade", message);
  }
  if (response.status === 403) {
    throw new SyncError("forbidden", message);
  }
  throw new SyncError("server", message);
}

// Results leave the outbox and the server's changes land, in one transaction: a crash in
// between can only mean the same push is sent again, which the server answers as before.
async function apply(db, entries, answer, summary) {
  const sent = new Map(entries.map((entry) => [entry.mutation_id, entry]));
  return run(db, ["outbox", "records", "state"], "readwrite", async (tx) => {
    const outbox = tx.objectStore("outbox");
    const records = tx.objectStore("records");
    const state = tx.objectStore("state");
    for (const result of answer.results) {
      const entry = sent.get(result.mutation_id);
      outbox.delete(result.mutation_id);
      if (result.status === "rejected" && entry) {
        summary.rejected += 1;
        const record = (await promised(records.get(entry.key))) || {
          key: entry.key, entity: entry.entity, id: entry.id, version: null, fields: {},
        };
        // Kept, with the reason, so that it can be corrected and sent again.
        record.rejected = { reason: result.reason, fields: entry.fields, op: entry.op };
        records.put(record);
      } else if (result.status === "conflict") {
        summary.conflicts += 1;
      } else {
        summary.applied += 1;
      }
    }
    if (answer.reset_required) {
      records.clear();
      state.delete("cursor");
      return true;
    }
    for (const change of answer.changes) {
      summary.received += 1;
      const key = recordKey(change.entity, change.id);
      if (change.op === "upsert") {
        const old = await promised(records.get(key));
        const record = {
          key, entity: change.entity, id: change.id, version: change.version, fields: change.fields,
          received: answer.server_time,
        };
        if (old && old.rejected) {
          record.rejected = old.rejected;
        }
        records.put(record);
      } else {
        records.delete(key);  // a delete, or a record this user may no longer see (R3)
      }
    }
    await pruneOld(tx, answer.server_time);
    state.put(answer.cursor, "cursor");
    state.put(answer.server_time, "last_sync");
    const waiting = await promised(outbox.count());
    return answer.has_more || waiting > 0 && answer.results.length > 0;
  });
}
