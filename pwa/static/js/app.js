// The volunteer's app on the phone: forms that save into the outbox first, lists drawn from
// the phone's own copy, sync by itself (app start, back online, every minute, Background
// Sync, the button), logout and revocation that leave nothing behind. Every sentence shown
// comes from the page (#lotsenbuch-strings, translated on the server) or from its templates.

import {
  isStale, lastSyncOf, openUserDb, readAll, readSession, recordKey, saveEdit, wipeEverything, writeSession,
} from "./store.js";
import { SyncError, syncNow } from "./sync.js";
import { fillDirectoryChoice, renderGuide } from "./guide.js";

const LOGOUT_PENDING = "lotsenbuch-logout-pending";
const FLASH = "lotsenbuch-flash";
const MINUTE = 60 * 1000;
const strings = readJson("lotsenbuch-strings") || {};
const session = readJson("lotsenbuch-session");
let db = null;
let failures = 0;
let timer = null;
let running = null;
let events = null;

function readJson(id) {
  const element = document.getElementById(id);
  return element ? JSON.parse(element.textContent) : null;
}

export function format(text, values) {
  return text.replace(/%\((\w+)\)[sd]/g, (_, name) => String(values[name] ?? ""));
}

function plural(key, count) {
  const forms = strings.plurals[key];  // text per CLDR category, as the server's catalogue has them
  const category = new Intl.PluralRules(strings.locale).select(count);
  return format(forms[category] ?? forms.other ?? Object.values(forms).pop(), { num: count });
}

function banner(text) {
  const element = document.querySelector("[data-sync-banner]");
  if (element) {
    element.textContent = text || "";
    element.hidden = !text;
  }
}

// --- the service worker ------------------------------------------------------------------

async function registerWorker() {
  if (!("serviceWorker" in navigator)) {
    return null;
  }
  return navigator.serviceWorker.register("/sw.js", { type: "module", scope: "/" }).catch(() => null);
}

async function askWorker(message) {
  if (!("serviceWorker" in navigator)) {
    return;
  }
  const registration = await navigator.serviceWorker.ready;
  if (registration.active) {
    registration.active.postMessage(message);
  }
}

// --- sync --------------------------------------------------------------------------------

export function runSync() {
  if (!running && db) {
    running = (async () => {
      try {
        await syncNow();
        failures = 0;
        banner("");
        await askWorker({ type: "refresh-pack" });
      } catch (error) {
        failures += 1;
        await explain(error);
      } finally {
        running = null;
        schedule();
        await render();
      }
    })();
  }
  return running;
}

async function explain(error) {
  const kind = error instanceof SyncError ? error.kind : "server";
  if (kind === "wiped") {
    db = null;
    listen();
    banner(strings.wiped);
    const registration = await navigator.serviceWorker?.getRegistration();
    await registration?.unregister();
    setTimeout(() => location.assign("/login"), 1500);
  } else if (kind === "upgrade") {
    banner(strings.upgrade);  // the outbox stays; the new version picks it up
    const registration = await navigator.serviceWorker?.getRegistration();
    await registration?.update().catch(() => null);
    setTimeout(() => location.reload(), 1500);
  } else if (kind === "offline") {
    banner(strings.offline);
  } else if (kind === "signed-out" || kind === "no-device") {
    banner(kind === "signed-out" ? strings.signed_out : strings.no_device);
  } else if (kind === "forbidden") {
    banner(format(strings.forbidden, { reason: error.message }));
  } else {
    banner(format(strings.failed, { reason: error.message }));
  }
}

function schedule() {
  clearTimeout(timer);
  if (!db) {
    return;  // wiped, or never set up
  }
  const delay = failures ? Math.min(5 * MINUTE, 2000 * 2 ** Math.min(failures, 8)) : MINUTE;
  timer = setTimeout(() => {
    if (document.visibilityState === "visible") {
      runSync();
    } else {
      schedule();
    }
  }, delay * (0.9 + Math.random() * 0.2));  // phones that came online together spread out
}

// While the app is on screen, the server says when new data waits (server/pokes.py): a
// coordinator's answer shows without waiting for the next minute. Closed in the background.
function listen() {
  if (db && document.visibilityState === "visible" && navigator.onLine && !events) {
    events = new EventSource("/api/sync/events");
    events.addEventListener("changed", () => runSync());
    events.addEventListener("error", () => {
      if (events && events.readyState === EventSource.CLOSED) {
        events = null;  // refused (signed out, revoked): the next sync says why
      }
    });
  } else if ((!db || document.visibilityState !== "visible") && events) {
    events.close();
    events = null;
  }
}

async function backgroundSync() {
  const registration = await navigator.serviceWorker?.getRegistration();
  await registration?.sync?.register("outbox").catch(() => null);
}

// --- forms -------------------------------------------------------------------------------

function readForm(form, submitter) {
  const values = {};
  for (const element of form.elements) {
    const name = element.name;
    if (!name || name === "id" || element.type === "submit") {
      continue;
    }
    const type = element.dataset.type || "text";
    if (type === "set") {
      values[name] = values[name] || [];
      if (element.checked) {
        values[name].push(element.value);
      }
    } else if (element.type === "radio") {
      if (element.checked || !(name in values)) {
        values[name] = element.checked ? element.value : null;
      }
    } else if (type === "bool") {
      values[name] = element.checked;
    } else if (type === "int") {
      values[name] = Number.parseInt(element.value, 10) || 0;
    } else if (type === "float") {
      values[name] = Number.parseFloat(element.value) || 0;
    } else if (type === "cents") {
      values[name] = Math.round((Number.parseFloat(element.value) || 0) * 100);
    } else if (type === "date" || type === "time" || type === "uuid") {
      values[name] = element.value || null;
    } else {
      values[name] = element.value;
    }
  }
  for (const [name, value] of Object.entries(values)) {
    if (Array.isArray(value)) {
      values[name] = [...value].sort();
    }
  }
  if (submitter && submitter.name === "status") {
    values.status = submitter.value;
  }
  return values;
}

function fillForm(form, fields) {
  for (const element of form.elements) {
    const name = element.name;
    if (!name || element.type === "submit" || !(name in fields)) {
      continue;
    }
    const value = fields[name];
    const type = element.dataset.type || "text";
    if (type === "set") {
      element.checked = Array.isArray(value) && value.includes(element.value);
    } else if (element.type === "radio") {
      element.checked = element.value === value;
    } else if (type === "bool") {
      element.checked = value === true || value === "true";
    } else if (type === "cents") {
      element.value = ((Number(value) || 0) / 100).toFixed(2);
    } else {
      element.value = value ?? "";
    }
  }
}

function same(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}

async function setupForm(form) {
  const entity = form.dataset.offlineForm;
  const params = new URLSearchParams(location.search);
  let id = params.get("id");
  let record = null;
  const { records } = await readAll(db);
  fillDirectoryChoice(form, records);  // before filling in: the entry chosen must be an option
  if (id) {
    record = records.find((candidate) => candidate.key === recordKey(entity, id) && !candidate.deleted);
    if (!record) {
      document.querySelector("[data-missing]").hidden = false;
      form.hidden = true;
      return;
    }
    fillForm(form, record.fields);
    showReview(record);
  } else {
    id = crypto.randomUUID();
    fillForm(form, Object.fromEntries(params));
    if (form.elements.date && !form.elements.date.value) {
      form.elements.date.value = new Date().toLocaleDateString("sv-SE");  // today, as YYYY-MM-DD
    }
  }
  form.elements.id.value = id;
  form.dispatchEvent(new Event("lotsenbuch:filled"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = readForm(form, event.submitter);
    const server = record && record.server;
    const fields = server ? Object.fromEntries(Object.entries(values).filter(([name, value]) => !same(value, server[name]))) : values;
    await saveEdit(db, entity, id, fields);  // stored before anything says "saved"
    form.querySelector("[data-saved]").textContent = strings.saved;
    sessionStorage.setItem(FLASH, strings.saved);
    await backgroundSync();
    location.assign("/records");
  });
}

function showReview(record) {
  const returned = document.querySelector("[data-returned]");
  if (returned && record.fields.status === "returned" && record.fields.coordinator_comment) {
    returned.querySelector("[data-slot=comment]").textContent = record.fields.coordinator_comment;
    returned.hidden = false;
  }
  const rejected = document.querySelector("[data-rejected]");
  if (rejected && record.rejected) {
    rejected.textContent = format(strings.rejected, { reason: record.rejected.reason });
    rejected.hidden = false;
  }
}

// --- lists -------------------------------------------------------------------------------

function title(record) {
  const fields = record.fields;
  if (record.entity === "visit_log") {
    const place = strings.place_types[fields.place_type] || strings.visit_log;
    return fields.place_name ? `${place} · ${fields.place_name}` : place;
  }
  const body = (fields.body || "").trim().split("\n")[0];
  return body.length > 80 ? `${body.slice(0, 79)}…` : body || strings.untitled_note;
}

function day(value) {
  if (!value) {
    return "";
  }
  const [year, month, date] = value.split("-").map(Number);
  return new Intl.DateTimeFormat(strings.locale, { dateStyle: "medium" }).format(new Date(year, month - 1, date));
}

function state(record, conflicted) {
  if (conflicted) {
    return [strings.in_conflict, "badge-warn"];
  }
  if (record.rejected) {
    return [format(strings.rejected, { reason: record.rejected.reason }), "badge-warn"];
  }
  if (record.pending) {
    return [strings.pending, "badge-pending"];
  }
  if (record.entity === "visit_log") {
    const status = record.fields.status;
    return [strings.statuses[status] || status, status === "approved" ? "badge-ok" : status === "returned" ? "badge-warn" : ""];
  }
  return [strings.synced, "badge-ok"];
}

function slot(node, name) {
  return node.querySelector(`[data-slot="${name}"]`);
}

function entryItem(template, record, conflicted) {
  const node = template.content.firstElementChild.cloneNode(true);
  const link = slot(node, "link");
  link.href = `/${record.entity === "visit_log" ? "visits" : "notes"}/form?id=${record.id}`;
  slot(node, "title").textContent = title(record);
  const meta = slot(node, "meta");
  if (meta) {
    meta.textContent = record.entity === "visit_log"
      ? [strings.visit_log, day(record.fields.date), record.fields.start_time].filter(Boolean).join(" · ")
      : strings.note;
  }
  const [text, kind] = state(record, conflicted);
  const badge = slot(node, "state");
  badge.textContent = text;
  if (kind) {
    badge.classList.add(kind);
  }
  node.dataset.state = conflicted ? "conflict" : record.rejected ? "rejected" : record.pending ? "pending" : "synced";
  const comment = slot(node, "comment");
  if (comment && record.entity === "visit_log" && record.fields.status === "returned" && record.fields.coordinator_comment) {
    comment.textContent = record.fields.coordinator_comment;
    comment.hidden = false;
  }
  return node;
}

function shown(value) {
  if (value === null || value === undefined || value === "") {
    return strings.empty;
  }
  if (typeof value === "boolean") {
    return value ? strings.yes : strings.no;
  }
  if (Array.isArray(value)) {
    return value.map((item) => strings.topics[item] || item).join(", ");
  }
  if (typeof value === "object") {
    return Object.entries(value).map(([name, item]) => `${strings.fields[name] || name}: ${shown(item)}`).join("\n");
  }
  return String(value);
}

function conflictItem(template, conflict, record, index) {
  const node = template.content.firstElementChild.cloneNode(true);
  const { entity, record_id: recordId, field, server_value: serverValue, client_value: mine } = conflict.fields;
  slot(node, "title").textContent = record ? title(record) : strings[entity];
  slot(node, "field").textContent = strings.fields[field] || field;
  slot(node, "server").textContent = field === "*" ? strings.conflict_deleted : shown(serverValue);
  slot(node, "mine").textContent = shown(mine);
  node.dataset.conflict = conflict.id;
  const merge = node.querySelector("[data-merge]");
  const textarea = slot(node, "merged");
  textarea.id = `merged-${index}`;
  slot(node, "merged-label").htmlFor = textarea.id;
  const editable = typeof mine === "string" && field !== "*";
  node.querySelector("[data-resolve=edit]").hidden = !editable;
  const resolve = async (op, fields) => {
    await saveEdit(db, entity, recordId, fields, { op, resolves: [conflict.id] });
    merge.hidden = true;  // written: the list may be drawn again
    await backgroundSync();
    await render();
    runSync();
  };
  node.querySelector("[data-resolve=server]").addEventListener("click", () => (
    field === "*" ? resolve("delete", {}) : resolve("upsert", {})));
  node.querySelector("[data-resolve=mine]").addEventListener("click", () => (
    resolve("upsert", field === "*" ? mine : { [field]: mine })));
  node.querySelector("[data-resolve=edit]").addEventListener("click", () => {
    textarea.value = mine;
    merge.hidden = false;
    textarea.focus();
  });
  merge.addEventListener("submit", (event) => {
    event.preventDefault();
    resolve("upsert", { [field]: textarea.value });
  });
  return node;
}

async function render() {
  if (!db) {
    return;
  }
  let state;
  try {
    state = await readAll(db);
  } catch (error) {
    if (error && error.name === "InvalidStateError") {
      return;  // the phone was just wiped (logout, revocation): nothing left to show
    }
    throw error;
  }
  const { records, outbox, lastSync } = state;
  const waiting = document.querySelector("[data-waiting]");
  if (waiting) {
    waiting.textContent = outbox.length ? plural("waiting", outbox.length) : strings.all_synced;
    waiting.dataset.count = String(outbox.length);
  }
  const last = document.querySelector("[data-last-sync]");
  if (last) {
    last.textContent = lastSync
      ? format(strings.last_sync, { when: new Intl.DateTimeFormat(strings.locale, { dateStyle: "short", timeStyle: "short" }).format(new Date(lastSync)) })
      : strings.never_synced;
  }
  const resolving = new Set(outbox.flatMap((entry) => entry.resolves || []));
  const conflicts = records.filter((r) => r.entity === "conflict" && !r.fields.resolved && !resolving.has(r.id));
  const conflicted = new Set(conflicts.map((c) => recordKey(c.fields.entity, c.fields.record_id)));
  const entries = records.filter((r) => (r.entity === "note" || r.entity === "visit_log") && !r.deleted);
  entries.sort((a, b) => String(b.fields.date || "").localeCompare(String(a.fields.date || "")) || a.key.localeCompare(b.key));
  const list = document.querySelector("[data-record-list]");
  if (list) {
    const template = document.getElementById("record-item");
    list.replaceChildren(...entries.map((record) => entryItem(template, record, conflicted.has(record.key))));
    document.querySelector("[data-empty]").hidden = entries.length > 0;
    const section = document.querySelector("[data-conflicts]");
    const byKey = new Map(entries.map((record) => [record.key, record]));
    const conflictTemplate = document.getElementById("conflict-item");
    const conflictList = document.querySelector("[data-conflict-list]");
    if (!conflictList.querySelector("[data-merge]:not([hidden])")) {  // never redraw under someone writing a merge
      conflictList.replaceChildren(...conflicts.map((conflict, index) => conflictItem(
        conflictTemplate, conflict, byKey.get(recordKey(conflict.fields.entity, conflict.fields.record_id)), index)));
      section.hidden = conflicts.length === 0;
    }
  }
  renderOffers(records, outbox);
  renderGuide(records, strings);
  const notes = document.querySelector("[data-notes-for]");
  if (notes) {
    const client = notes.dataset.notesFor;
    const assignment = notes.dataset.assignment;
    const mine = entries.filter((r) => r.entity === "note" && ((client && r.fields.client_id === client) || r.fields.assignment_id === assignment));
    const template = document.getElementById("note-item");
    notes.querySelector("[data-note-list]").replaceChildren(...mine.map((record) => entryItem(template, record, conflicted.has(record.key))));
    notes.querySelector("[data-empty]").hidden = mine.length > 0;
  }
}

// --- offers -------------------------------------------------------------------------------

// An answer is a sync mutation like any other: kept on the phone first, sent when it can be.
// The first acceptance wins on the server; the card then shows what became of the offer.
function wireOffers() {
  for (const form of document.querySelectorAll("form[data-offer-answer]")) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const accepted = event.submitter && event.submitter.value === "accept";
      await saveEdit(db, "offer", form.dataset.offerAnswer, { answer: accepted ? "accepted" : "declined" });
      await backgroundSync();
      await render();
      runSync();
    });
  }
}

function renderOffers(records, outbox) {
  for (const card of document.querySelectorAll("[data-offer]")) {
    const key = recordKey("offer", card.dataset.offer);
    const waiting = outbox.some((entry) => entry.key === key);
    const copy = records.find((record) => record.key === key);
    const status = copy && copy.version ? copy.fields.status : null;
    const badge = card.querySelector("[data-slot=state]");
    const form = card.querySelector("form[data-offer-answer]");
    const known = card.querySelector("[data-slot=server-state]");
    let text = null;
    if (waiting) {
      text = strings.pending;
    } else if (status && status !== "open") {
      text = strings.offer_statuses[status] || status;
    }
    badge.textContent = text || "";
    badge.hidden = !text;
    card.dataset.state = waiting ? "pending" : status || "open";
    if (form) {
      form.hidden = Boolean(text);
    }
    if (known && text) {
      known.hidden = true;
    }
  }
}

// --- push alerts ---------------------------------------------------------------------------

function keyBytes(base64) {
  const padded = (base64 + "===".slice((base64.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}

async function serverKey() {
  const response = await fetch("/api/push/key", { credentials: "same-origin", cache: "no-store" });
  return (await response.json()).public_key;
}

async function sendSubscription(subscription, method) {
  const body = method === "POST" ? subscription.toJSON() : { endpoint: subscription.endpoint };
  const response = await fetch("/api/push/subscriptions", {
    method, credentials: "same-origin", headers: { "content-type": "application/json", "x-csrftoken": session.csrf },
    body: JSON.stringify(body),
  });
  if (!response.ok) {
    throw new Error((await response.json().catch(() => ({}))).error || response.statusText);
  }
}

// Asked only after a tap: the browser's permission prompt never comes on its own.
async function wirePush() {
  const panel = document.querySelector("[data-push]");
  if (!panel || !("PushManager" in window) || !("serviceWorker" in navigator)) {
    return;
  }
  panel.hidden = false;
  const state = panel.querySelector("[data-push-state]");
  const on = panel.querySelector("[data-push-on]");
  const off = panel.querySelector("[data-push-off]");
  const registration = await navigator.serviceWorker.ready;
  const show = (subscribed, text) => {
    state.textContent = text;
    on.hidden = subscribed;
    off.hidden = !subscribed;
  };
  let current = await registration.pushManager.getSubscription();
  if (current) {  // a rotated server key: subscribe again, quietly (permission is already given)
    const key = await serverKey().catch(() => null);
    const used = current.options.applicationServerKey && btoa(String.fromCharCode(...new Uint8Array(current.options.applicationServerKey)));
    if (key && used && used !== btoa(String.fromCharCode(...keyBytes(key)))) {
      await current.unsubscribe();
      current = await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key) });
      await sendSubscription(current, "POST").catch(() => null);
    }
  }
  show(Boolean(current), current ? strings.push_on : strings.push_off);
  on.addEventListener("click", async () => {
    try {
      if (await Notification.requestPermission() !== "granted") {
        show(false, strings.push_denied);
        return;
      }
      const subscription = await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(await serverKey()) });
      await sendSubscription(subscription, "POST");
      show(true, strings.push_on);
    } catch (error) {
      show(false, format(strings.push_failed, { reason: error.message }));
    }
  });
  off.addEventListener("click", async () => {
    const subscription = await registration.pushManager.getSubscription();
    if (subscription) {
      await sendSubscription(subscription, "DELETE").catch(() => null);
      await subscription.unsubscribe();
    }
    show(false, strings.push_off);
  });
}

// --- logout, install hint ------------------------------------------------------------------

async function unsentTitles() {
  if (!db) {
    return [];
  }
  const { records } = await readAll(db);
  return records.filter((r) => (r.pending || r.rejected) && r.entity !== "conflict").map(
    (r) => `${strings[r.entity] || r.entity}: ${title(r)}`);
}

async function wipe() {
  const open = db;
  db = null;  // before closing: whatever still runs sees an empty phone, not a closing database
  listen();
  clearTimeout(timer);
  open?.close();
  await wipeEverything();
  const registration = await navigator.serviceWorker?.getRegistration();
  await registration?.unregister();
}

async function signOut(form) {
  const body = new URLSearchParams(new FormData(form));
  try {
    await fetch(form.action, { method: "POST", body, credentials: "same-origin", headers: { "x-csrftoken": session?.csrf || "" } });
    localStorage.removeItem(LOGOUT_PENDING);
    return true;
  } catch {
    localStorage.setItem(LOGOUT_PENDING, "1");  // the server hears of it at the next contact
    return false;
  }
}

function wireLogout() {
  for (const form of document.querySelectorAll("form[data-logout]")) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const unsent = await unsentTitles();
      if (unsent.length && !window.confirm(format(strings.logout_confirm, { list: unsent.join("; ") }))) {
        return;
      }
      clearTimeout(timer);
      await running;  // a sync under way finishes first: nothing is sent after the session ends
      await wipe();
      if (await signOut(form)) {
        location.assign("/");
      } else {
        const main = document.getElementById("main");
        const message = document.createElement("p");
        message.className = "notice";
        message.textContent = strings.signed_out_offline;
        main.replaceChildren(message);
        document.querySelector(".main-nav")?.remove();
      }
    });
  }
}

async function finishOfflineLogout() {
  const form = document.querySelector("form[data-logout]");
  if (!form) {
    localStorage.removeItem(LOGOUT_PENDING);
    return false;
  }
  document.body.hidden = true;
  await wipe();
  if (await signOut(form)) {
    location.assign("/");
    return true;
  }
  document.body.hidden = false;
  return false;
}

// No sync has reached the server for STALE_DAYS: perhaps the phone is lost. One more try; if
// that fails too, everything Lotsenbuch keeps here is erased.
async function purgeIfLost() {
  if (!isStale(await lastSyncOf(db))) {
    return false;
  }
  try {
    await syncNow();
    return false;  // it reached the server after all
  } catch {
    await wipe();  // offline, signed out or refused: nobody vouches for this phone
  }
  const main = document.getElementById("main");
  const message = document.createElement("p");
  message.className = "notice";
  message.setAttribute("role", "alert");
  message.textContent = strings.purged;
  main.replaceChildren(message);
  document.documentElement.dataset.purged = "true";
  return true;
}

function installHint() {
  window.addEventListener("beforeinstallprompt", (event) => {
    event.preventDefault();
    const section = document.querySelector("[data-install]");
    if (!section) {
      return;
    }
    section.hidden = false;
    section.querySelector("[data-install-button]").addEventListener("click", async () => {
      event.prompt();
      await event.userChoice.catch(() => null);
      section.hidden = true;
    }, { once: true });
  });
  const ios = /iPhone|iPad|iPod/.test(navigator.userAgent) && !navigator.standalone;
  const hint = document.querySelector("[data-install-ios]");
  if (ios && hint) {
    hint.hidden = false;
  }
}

// --- focus after htmx swaps ---------------------------------------------------------------

// A swap that replaced the focused control (the form's own button) would drop focus to the
// page's start, and a message that arrives with new content is not reliably read out. So after
// a swap focus goes to the first field marked invalid (its message is read with it through
// aria-describedby), else to the message the fragment brought (saved, or what went wrong), else,
// if focus was lost, to the swapped part itself.
function keepFocusAfterSwaps() {
  document.body.addEventListener("htmx:afterSettle", (event) => {
    const id = event.detail.target?.id;
    const part = (id && document.getElementById(id)) || event.detail.elt;
    if (!part?.isConnected) {
      return;
    }
    const invalid = part.querySelector("[aria-invalid='true']");
    const field = invalid?.matches("fieldset") ? invalid.querySelector("input, select, textarea") : invalid;
    const active = document.activeElement;
    const lost = !active || active === document.body || !active.isConnected;
    const goal = field || part.querySelector("[role='alert'], [role='status']") || (lost ? part : null);
    if (!goal) {
      return;
    }
    if (!goal.matches("input, select, textarea, button, a[href], [tabindex]")) {
      goal.setAttribute("tabindex", "-1");
    }
    goal.focus();
  });
}

// --- start ---------------------------------------------------------------------------------

async function main() {
  installHint();
  keepFocusAfterSwaps();
  if (localStorage.getItem(LOGOUT_PENDING) && await finishOfflineLogout()) {
    return;
  }
  if (!session) {
    return;  // signed out: nothing is kept, so no worker either
  }
  await registerWorker();
  wireLogout();
  wirePush();
  if (!session.offline) {
    return;
  }
  const previous = await readSession().catch(() => null);
  await writeSession({ user_id: session.user_id, device_id: session.device_id, csrf: session.csrf });
  db = await openUserDb(session.user_id);
  if (await purgeIfLost()) {
    return;
  }
  const flash = sessionStorage.getItem(FLASH);
  const flashBox = document.querySelector("[data-flash]");
  if (flash && flashBox) {
    flashBox.textContent = flash;
    flashBox.hidden = false;
    sessionStorage.removeItem(FLASH);
  }
  for (const form of document.querySelectorAll("form[data-offline-form]")) {
    await setupForm(form);
  }
  wireOffers();
  document.querySelector("[data-sync-now]")?.addEventListener("click", () => {
    banner(strings.syncing);
    runSync();
  });
  navigator.serviceWorker?.addEventListener("message", (event) => {
    if (event.data && event.data.type === "synced") {
      render();
    }
  });
  window.addEventListener("online", () => {
    runSync();
    listen();
  });
  document.addEventListener("visibilitychange", () => {
    listen();
    if (document.visibilityState === "visible") {
      runSync();
    }
  });
  await render();
  if (!previous || previous.user_id !== session.user_id) {
    await askWorker({ type: "refresh-pack" });  // just signed in: keep what the coming days need
  }
  listen();
  document.documentElement.dataset.appReady = "true";  // for tests: listeners are in place
  runSync();
}

main();
