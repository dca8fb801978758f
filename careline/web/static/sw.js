// careline's service worker: keeps the app shell (HTML, CSS, scripts, icons) so the
// client opens without a network, and stays out of the way of everything else.
// Never caches the API: health data is not written to the cache.

const CACHE = 'careline-shell-v6';
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
  '/css/escalation.css',
  '/css/notifications.css',
  '/js/notifications.js',
  '/js/views/bell.js',
  '/js/views/paused.js',
  '/js/breakglass-data.js',
  '/css/breakglass.css',
  '/css/delivery.css',
  '/css/notification-settings.css',
  '/css/audit.css',
  '/js/audit-data.js',
  '/js/views/admin-audit.js',
  '/js/notification-prefs.js',
  '/js/views/notification-settings.js',
  '/js/views/admin-notifications.js',
  '/js/views/notify-menu.js',
  '/css/reports.css',
  '/js/reports-data.js',
  '/js/views/admin-reports.js',
  '/js/views/admin-monitoring.js',
  '/js/views/admin-conversations.js',
  '/js/views/admin-alerts.js',
  '/js/views/report-charts.js',
  '/js/attachments.js',
  '/js/imageprep.js',
  '/js/main.js',
  '/js/organisation.js',
  '/js/push.js',
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
  '/js/notification-attempts.js',
  '/js/offline.js',
  '/js/socket.js',
  '/js/store.js',
  '/js/threads.js',
  '/js/views/actions.js',
  '/js/unread.js',
  '/js/waiting.js',
  '/js/visibility.js',
  '/js/views/admin.js',
  '/js/views/admin-attempts.js',
  '/js/alerts.js',
  '/css/alerts.css',
  '/js/views/admin-devices.js',
  '/js/views/admin-escalation.js',
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
  '/js/monitoring.js',
  '/js/charts.js',
  '/css/monitoring.css',
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

// --- Web push (docs/notifications.md#push) ---
// A push carries only what careline/notifications/words.py put in it: the organisation's
// name, a count, a tag and a link of opaque ids. It is shown as it is, under its tag, so
// a newer push for the same record replaces the older one instead of stacking; a click
// brings careline forward at that conversation.

const PUSH_DEFAULT_TITLE = 'careline';
const PUSH_DEFAULT_BODY = 'You have new activity';

function pushLink(url) {
  // Only careline's own pages: a push never sends anyone elsewhere.
  try {
    const target = new URL(url, self.location.origin);
    if (target.origin === self.location.origin) return target.href;
  } catch {
    // not a URL: the inbox
  }
  return new URL('/', self.location.origin).href;
}

function pushNotification(data) {
  const text = (value, fallback) => (typeof value === 'string' && value ? value : fallback);
  const options = {
    body: text(data.body, PUSH_DEFAULT_BODY),
    icon: '/icons/icon-192.png',
    badge: '/icons/icon-192.png',
    data: { url: pushLink(data.url) },
  };
  if (typeof data.tag === 'string' && data.tag) {
    options.tag = data.tag;
    options.renotify = true; // a replaced notification still tells the person
  }
  return { title: text(data.title, PUSH_DEFAULT_TITLE), options };
}

self.addEventListener('push', (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch {
    data = {};
  }
  const { title, options } = pushNotification(data && typeof data === 'object' ? data : {});
  event.waitUntil(self.registration.showNotification(title, options));
});

// Focus a careline window and take it to the conversation, or open one there.
async function openFromNotification(notification) {
  const url = pushLink(notification.data && notification.data.url);
  const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const open = windows.find((client) => new URL(client.url).origin === self.location.origin);
  if (open) {
    // navigate() needs a window this worker controls; otherwise a new window opens.
    const moved = await open.navigate(url).catch(() => null);
    if (moved) {
      await moved.focus().catch(() => {});
      return moved;
    }
  }
  return self.clients.openWindow(url);
}

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  event.waitUntil(openFromNotification(event.notification));
});
