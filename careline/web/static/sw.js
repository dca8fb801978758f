// careline's service worker: keeps the app shell (HTML, CSS, scripts, icons) so the
// client opens without a network, and stays out of the way of everything else.
// Never caches the API: health data is not written to the cache.

const CACHE = 'careline-shell-v4';
const SHELL = [
  '/',
  '/index.html',
  '/manifest.webmanifest',
  '/css/app.css',
  '/css/attachments.css',
  '/css/offline.css',
  '/css/admin.css',
  '/js/admin-data.js',
  '/css/media.css',
  '/css/scanner.css',
  '/css/touch.css',
  '/css/inbox.css',
  '/css/notification-settings.css',
  '/js/notification-prefs.js',
  '/js/views/notification-settings.js',
  '/js/views/admin-notifications.js',
  '/js/attachments.js',
  '/js/imageprep.js',
  '/js/main.js',
  '/js/organisation.js',
  '/js/api.js',
  '/js/convo.js',
  '/js/dom.js',
  '/js/filesharing.js',
  '/js/format.js',
  '/js/gestures.js',
  '/js/icons.js',
  '/js/idb.js',
  '/js/linkify.js',
  '/js/local.js',
  '/js/offline.js',
  '/js/socket.js',
  '/js/store.js',
  '/js/threads.js',
  '/js/views/actions.js',
  '/js/unread.js',
  '/js/views/admin.js',
  '/js/views/admin-devices.js',
  '/js/views/admin-home.js',
  '/js/views/admin-roles.js',
  '/js/views/admin-settings.js',
  '/js/views/banner.js',
  '/js/views/common.js',
  '/js/views/composer.js',
  '/js/views/devices.js',
  '/js/views/inbox.js',
  '/js/views/invitations.js',
  '/js/views/newchat.js',
  '/js/views/offline.js',
  '/js/views/settings.js',
  '/js/views/signin.js',
  '/js/views/thread.js',
  '/js/views/viewer.js',
  '/js/views/welcome.js',
  '/icons/icon.svg',
  '/icons/icon-192.png',
  '/icons/icon-512.png',
];

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith('/api/') || url.pathname.startsWith('/health')) return;
  // Network first, so a deploy is picked up at once; the cache answers only offline.
  // Client-side routes (/c/..., /admin/...) all answer with the shell.
  const isPage = request.mode === 'navigate';
  event.respondWith(
    fetch(request)
      .then((response) => {
        if (response.ok) {
          const copy = response.clone();
          caches.open(CACHE).then((cache) => cache.put(isPage ? '/index.html' : request, copy));
        }
        return response;
      })
      .catch(async () => {
        const cached = await caches.match(isPage ? '/index.html' : request, { ignoreSearch: isPage });
        return cached || Response.error();
      }),
  );
});
