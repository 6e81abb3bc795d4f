// Lotsenbuch's service worker (scope /). The server fills in VERSION and SHELL when it serves
// this file, so any change to the app's static files is a new worker version.
//
// - The app shell (CSS, htmx, the modules, icons, the offline page) is precached per version.
// - Pages: network first with a short timeout, else the signed-in user's cached copy, else the
//   offline page. Only pages the server marks cacheable for their user (private, with the
//   x-lotsenbuch-user header) are kept, each in that user's own cache; nothing marked no-store,
//   nothing that is not a 2xx, never an htmx fragment or an API answer.
// - After login and after each sync the page asks for the offline pack: the server lists the
//   pages a volunteer needs in the coming days, and they are fetched into that user's cache.
// - Background Sync flushes the outbox; a wipe signal erases everything.

import { readSession, wipeEverything } from "/static/js/store.js";
import { syncNow } from "/static/js/sync.js";

const VERSION = "__VERSION__";
const SHELL = __SHELL__;
const SHELL_CACHE = `shell-${VERSION}`;
const PAGE_TIMEOUT_MS = 2500;
const IGNORE_QUERY = new Set(["/visits/form", "/notes/form", "/records", "/guide"]);  // one page, filled in on the phone

const pageCache = (userId) => `pages-${userId}`;

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(SHELL_CACHE);
    await cache.addAll(SHELL.map((url) => new Request(url, { cache: "no-cache" })));
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    const names = await caches.keys();
    await Promise.all(names.filter((name) => name.startsWith("shell-") && name !== SHELL_CACHE).map((name) => caches.delete(name)));
    await self.clients.claim();
  })());
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin || url.pathname.startsWith("/api/")) {
    return;
  }
  if (url.pathname.startsWith("/static/")) {
    event.respondWith(caches.match(request, { cacheName: SHELL_CACHE }).then((hit) => hit || fetch(request)));
    return;
  }
  if (request.mode === "navigate" && request.headers.get("hx-request") !== "true") {
    event.respondWith(page(request, url));
  }
});

async function page(request, url) {
  try {
    const response = await withTimeout(fetch(request), PAGE_TIMEOUT_MS);
    if (response.headers.get("x-lotsenbuch-wipe")) {
      await wipeEverything();
      await self.registration.unregister();
      return response;
    }
    await keep(url, response);
    return response;
  } catch (error) {
    const session = await readSession().catch(() => null);
    if (session && session.user_id) {
      const cache = await caches.open(pageCache(session.user_id));
      const hit = await cache.match(url.pathname + url.search, { ignoreSearch: IGNORE_QUERY.has(url.pathname) });
      if (hit) {
        return hit;
      }
    }
    return (await caches.match("/offline", { cacheName: SHELL_CACHE })) || Response.error();
  }
}

function cacheable(response) {
  const control = response.headers.get("cache-control") || "";
  return response.status >= 200 && response.status < 300 && response.type === "basic" && !response.redirected
    && !/no-store/.test(control) && response.headers.has("x-lotsenbuch-user");
}

async function keep(url, response) {
  if (!cacheable(response)) {
    return;
  }
  const userId = response.headers.get("x-lotsenbuch-user");
  const session = await readSession().catch(() => null);
  if (!session || session.user_id !== userId) {
    return;  // only the user this phone is signed in as, never anyone else's page
  }
  const cache = await caches.open(pageCache(userId));
  await cache.put(url.pathname + url.search, response.clone());
}

function withTimeout(promise, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timeout")), ms);
    promise.then((value) => { clearTimeout(timer); resolve(value); }, (error) => { clearTimeout(timer); reject(error); });
  });
}

async function refreshPack() {
  const session = await readSession();
  if (!session || !session.user_id) {
    return 0;
  }
  const response = await fetch("/offline-pack", { credentials: "same-origin", cache: "no-store" });
  if (!response.ok) {
    return 0;
  }
  const pack = await response.json();
  if (pack.user_id !== session.user_id) {
    return 0;
  }
  const cache = await caches.open(pageCache(session.user_id));
  const wanted = new Set(pack.urls);
  let kept = 0;
  for (const url of pack.urls) {
    const page = await fetch(url, { credentials: "same-origin", cache: "no-cache" }).catch(() => null);
    if (page && cacheable(page) && page.headers.get("x-lotsenbuch-user") === session.user_id) {
      await cache.put(url, page);
      kept += 1;
    }
  }
  for (const cached of await cache.keys()) {  // an assignment taken away leaves the phone too
    const path = new URL(cached.url);
    if (!wanted.has(path.pathname + path.search)) {
      await cache.delete(cached);
    }
  }
  return kept;
}

self.addEventListener("message", (event) => {
  const reply = (message) => event.source && event.source.postMessage(message);
  if (event.data && event.data.type === "refresh-pack") {
    event.waitUntil(refreshPack().then((kept) => reply({ type: "pack-ready", kept })).catch(() => null));
  } else if (event.data && event.data.type === "version") {
    reply({ type: "version", version: VERSION });
  }
});

// An alert names nobody: a sentence and a link. The details load after the tap, behind login.
self.addEventListener("push", (event) => {
  let alert = { title: "Lotsenbuch", body: "", url: "/", tag: "lotsenbuch" };
  try {
    alert = { ...alert, ...event.data.json() };
  } catch {
    // an empty or foreign push still shows that something waits
  }
  const url = new URL(alert.url, self.location.origin);
  event.waitUntil(self.registration.showNotification(alert.title, {
    body: alert.body, tag: alert.tag, icon: "/static/icons/icon-192.png", badge: "/static/icons/icon-192.png",
    data: { url: url.origin === self.location.origin ? url.pathname + url.search : "/" },
  }));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const target = new URL(event.notification.data?.url || "/", self.location.origin).href;
  event.waitUntil((async () => {
    const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
    const open = windows.find((client) => new URL(client.url).origin === self.location.origin);
    if (open) {
      await open.focus();
      return open.navigate(target);
    }
    return self.clients.openWindow(target);
  })());
});

self.addEventListener("sync", (event) => {
  if (event.tag === "outbox") {
    event.waitUntil(syncNow().then(async (summary) => {
      await refreshPack().catch(() => null);
      for (const client of await self.clients.matchAll()) {
        client.postMessage({ type: "synced", summary });
      }
    }));
  }
});
