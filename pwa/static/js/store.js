// The phone's own copy: one IndexedDB database per signed-in user, holding the outbox (what
// waits to be sent, in mutation-id order), the records the server sent (notes, visit logs,
// conflicts) and a little state (cursor, next mutation id, last sync). A second small database
// names the current session, so that the service worker knows whose outbox to flush.

const USER_DB_VERSION = 1;
const SESSION_DB = "lotsenbuch";

export function promised(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function open(name, version, upgrade) {
  const request = indexedDB.open(name, version);
  request.onupgradeneeded = () => upgrade(request.result);
  return promised(request);
}

export function userDbName(userId) {
  return `lotsenbuch-${userId}`;
}

export async function openUserDb(userId) {
  const db = await open(userDbName(userId), USER_DB_VERSION, (created) => {
    created.createObjectStore("outbox", { keyPath: "mutation_id" }).createIndex("record", "key");
    created.createObjectStore("records", { keyPath: "key" });
    created.createObjectStore("state");
  });
  db.onversionchange = () => db.close();  // a wipe elsewhere must not wait for this tab
  return db;
}

function openSessionDb() {
  return open(SESSION_DB, 1, (db) => db.createObjectStore("session"));
}

// One transaction; `body` may await IndexedDB requests only (never fetch), then it commits.
export async function run(db, stores, mode, body) {
  const tx = db.transaction(stores, mode);
  const done = new Promise((resolve, reject) => {
    tx.oncomplete = resolve;
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new DOMException("aborted", "AbortError"));
  });
  const value = await body(tx);
  await done;
  return value;
}

export async function readSession() {
  const db = await openSessionDb();
  try {
    return await run(db, ["session"], "readonly", (tx) => promised(tx.objectStore("session").get("current")));
  } finally {
    db.close();
  }
}

export async function writeSession(session) {
  const db = await openSessionDb();
  try {
    await run(db, ["session"], "readwrite", (tx) => promised(tx.objectStore("session").put(session, "current")));
  } finally {
    db.close();
  }
}

export const recordKey = (entity, id) => `${entity}:${id}`;

// Store an edit before anyone says "saved". An edit of a record that already waits unsent is
// folded into that entry (one mutation, the latest values); otherwise it joins the outbox with
// the next mutation id of this phone, which only ever grows (R4).
export async function saveEdit(db, entity, id, fields, { op = "upsert", resolves = [] } = {}) {
  const key = recordKey(entity, id);
  return run(db, ["outbox", "records", "state"], "readwrite", async (tx) => {
    const outbox = tx.objectStore("outbox");
    const records = tx.objectStore("records");
    const state = tx.objectStore("state");
    const record = await promised(records.get(key));
    const waiting = await promised(outbox.index("record").getAll(key));
    const now = new Date().toISOString();
    const open = waiting.find((entry) => !entry.sending && entry.op === op);
    if (open && op === "upsert") {
      Object.assign(open.fields, fields);
      open.resolves = [...new Set([...open.resolves, ...resolves])];
      open.client_time = now;
      outbox.put(open);
    } else {
      const mutationId = (await promised(state.get("next_mutation_id"))) || 1;
      state.put(mutationId + 1, "next_mutation_id");
      const synced = record && record.version ? record.version : null;
      outbox.put({
        mutation_id: mutationId, key, entity, id, op, base_version: synced, fields: { ...fields }, client_time: now,
        resolves,
      });
    }
    if (record && record.rejected) {  // edited again after a refusal: it goes out anew
      delete record.rejected;
      records.put(record);
    }
  });
}

// What the phone shows: the server's copy with everything still waiting laid over it.
export async function readAll(db) {
  return run(db, ["outbox", "records", "state"], "readonly", async (tx) => {
    const records = await promised(tx.objectStore("records").getAll());
    const outbox = await promised(tx.objectStore("outbox").getAll());
    const lastSync = await promised(tx.objectStore("state").get("last_sync"));
    const byKey = new Map(records.map((record) => [record.key, {
      ...record, server: record.version ? record.fields : null,
      fields: { ...record.fields, ...(record.rejected ? record.rejected.fields : {}) }, pending: false,
    }]));
    for (const entry of outbox) {
      let record = byKey.get(entry.key);
      if (!record) {
        record = { key: entry.key, entity: entry.entity, id: entry.id, version: null, server: null, fields: {} };
        byKey.set(entry.key, record);
      }
      if (entry.op === "delete") {
        record.deleted = true;
      }
      Object.assign(record.fields, entry.fields);
      record.pending = true;
    }
    return { records: [...byKey.values()], outbox, lastSync };
  });
}

// A lost phone: what it holds is erased when the app starts after STALE_DAYS without a sync
// that reached the server (and a sync tried then fails too). Records of the past leave the phone
// after WINDOW_DAYS, as the server sends a phone starting from nothing no older ones either.
export const STALE_DAYS = 30;
export const WINDOW_DAYS = 56;
const DAY = 24 * 60 * 60 * 1000;

export function isStale(lastSync, now = Date.now()) {
  return Boolean(lastSync) && now - Date.parse(lastSync) > STALE_DAYS * DAY;
}

export async function lastSyncOf(db) {
  return run(db, ["state"], "readonly", (tx) => promised(tx.objectStore("state").get("last_sync")));
}

// Inside a sync's transaction: drop copies of the past that nothing waits to send. A record
// dated (a visit's date, an assignment's or offer's day) before the window goes; an undated one
// (a note) when the server has not sent it again within the window.
export async function pruneOld(tx, serverTime) {
  const cutoff = Date.parse(serverTime) - WINDOW_DAYS * DAY;
  const records = tx.objectStore("records");
  const waiting = new Set((await promised(tx.objectStore("outbox").getAll())).map((entry) => entry.key));
  for (const record of await promised(records.getAll())) {
    const day = record.fields && (record.fields.date || record.fields.day);
    const when = day ? Date.parse(day) : Date.parse(record.received || serverTime);
    if (!waiting.has(record.key) && !record.rejected && record.entity !== "conflict" && when < cutoff) {
      records.delete(record.key);
    }
  }
}

export async function countWaiting(db) {
  return run(db, ["outbox"], "readonly", (tx) => promised(tx.objectStore("outbox").count()));
}

// Logout and revocation: nothing of this user stays on the phone.
export async function wipeEverything() {
  const names = indexedDB.databases ? (await indexedDB.databases()).map((info) => info.name) : [];
  const session = await readSession().catch(() => null);
  if (session && session.user_id) {
    names.push(userDbName(session.user_id));
  }
  names.push(SESSION_DB);
  await Promise.all([...new Set(names)].filter((name) => name && name.startsWith("lotsenbuch")).map(
    (name) => promised(indexedDB.deleteDatabase(name)).catch(() => null)));
  if (self.caches) {
    await Promise.all((await caches.keys()).map((name) => caches.delete(name)));
  }
}
