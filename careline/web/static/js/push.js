// Web push for this browser, for the settings page: whether it can, whether it does, and
// turning it on (permission, subscribe with careline's key, tell careline) or off (tell
// careline; the browser's subscription stays for the person's other organisations).
// Network only through api.js.

import { api } from './api.js';

const WORDS = {
  unsupported: 'This browser cannot show notifications from careline.',
  denied: 'Notifications are blocked for careline in this browser’s settings.',
  failed: 'This browser could not sign up for notifications. Try again later.',
};

export class PushError extends Error {
  constructor(code) {
    super(WORDS[code] || WORDS.failed);
    this.code = code;
  }
}

export function pushSupported() {
  return (
    typeof window !== 'undefined' &&
    'serviceWorker' in navigator &&
    'PushManager' in window &&
    'Notification' in window
  );
}

function keyBytes(base64url) {
  const padded = base64url.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(base64url.length / 4) * 4, '=');
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}

function sameKey(buffer, base64url) {
  if (!buffer) return false;
  const a = new Uint8Array(buffer);
  const b = keyBytes(base64url);
  return a.length === b.length && a.every((value, i) => value === b[i]);
}

async function currentSubscription() {
  const registration = await navigator.serviceWorker.getRegistration('/');
  if (!registration) return null;
  return registration.pushManager.getSubscription();
}

/** Whether this browser gets this organisation's notifications now. */
export async function pushEnabled() {
  if (!pushSupported() || Notification.permission !== 'granted') return false;
  const subscription = await currentSubscription();
  if (!subscription) return false;
  const mine = await api('GET', '/push/subscriptions');
  return mine.some((item) => item.endpoint === subscription.endpoint);
}

/** Ask for permission, subscribe with careline's key and register this browser. Throws
 * PushError (code unsupported, denied or failed) when it cannot. */
export async function enablePush() {
  if (!pushSupported()) throw new PushError('unsupported');
  const permission = await Notification.requestPermission();
  if (permission !== 'granted') throw new PushError('denied');
  const registration = await navigator.serviceWorker.ready;
  const { key } = await api('GET', '/push/key');
  let subscription = await registration.pushManager.getSubscription();
  if (subscription && !sameKey(subscription.options.applicationServerKey, key)) {
    await subscription.unsubscribe(); // made under another key: it would be refused
    subscription = null;
  }
  if (!subscription) {
    try {
      subscription = await registration.pushManager.subscribe({
        userVisibleOnly: true,
        applicationServerKey: keyBytes(key),
      });
    } catch {
      throw new PushError('failed');
    }
  }
  await api('POST', '/push/subscriptions', subscription.toJSON());
  return true;
}

/** Stop this organisation's notifications to this browser. */
export async function disablePush() {
  if (!pushSupported()) return false;
  const subscription = await currentSubscription();
  if (!subscription) return false;
  try {
    await api('DELETE', '/push/subscriptions', { endpoint: subscription.endpoint });
  } catch (err) {
    if (err.status !== 404) throw err;
  }
  return true;
}
