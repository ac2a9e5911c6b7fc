// The docs site's service worker: keeps what the pages loaded so that the playground works offline.
// Network first (fresh when online), the cache when offline. The page sends the URLs it and its
// worker loaded before this worker took control; they are stored, and the page is told how many.
/* global caches, Response */
const CACHE = 'advx-site-v1';

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('message', (event) => {
  const urls = Array.isArray(event.data?.cache) ? event.data.cache.filter((u) => typeof u === 'string' && new URL(u).origin === self.location.origin) : [];
  const reply = event.ports[0];
  event.waitUntil(
    caches.open(CACHE).then(async (cache) => {
      // A URL is stored when it is fetched now, or already is (an offline reload); one the server
      // answers with an error (a favicon the site does not have) was not loaded by the page either.
      let stored = 0;
      const failed = [];
      await Promise.all(
        urls.map(async (u) => {
          const response = await fetch(u).catch(() => undefined);
          if (response?.ok) {
            await cache.put(u, response);
            stored++;
          } else if (response === undefined) {
            if (await cache.match(u)) stored++;
            else failed.push(u);
          }
        }),
      );
      reply?.postMessage({ stored, failed });
    }),
  );
});

self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET' || new URL(request.url).origin !== self.location.origin) return;
  event.respondWith(
    fetch(request)
      .then((response) => {
        if (response.ok) {
          const copy = response.clone();
          caches.open(CACHE).then((cache) => cache.put(request, copy));
        }
        return response;
      })
      .catch(() => caches.match(request).then((hit) => hit ?? Response.error())),
  );
});
