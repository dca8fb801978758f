// What this device keeps between visits, per account: drafts, the outbox of messages not
// yet acknowledged, the guardian's chosen client, and when a receipt was first seen.
// All of it is removed on sign-out; a session that merely expired keeps it, so nothing
// typed is lost.

const PREFIX = 'careline.';

function key(account, name) {
  return `${PREFIX}${account}.${name}`;
}

export function read(account, name, fallback) {
  try {
    const raw = localStorage.getItem(key(account, name));
    return raw === null ? fallback : JSON.parse(raw);
  } catch {
    return fallback;
  }
}

export function write(account, name, value) {
  try {
    localStorage.setItem(key(account, name), JSON.stringify(value));
  } catch {
    // Storage full or disabled (private mode): the app still works, it just forgets.
  }
}

export function forgetAccount(account) {
  const doomed = [];
  for (let i = 0; i < localStorage.length; i += 1) {
    const k = localStorage.key(i);
    if (k && k.startsWith(`${PREFIX}${account}.`)) doomed.push(k);
  }
  doomed.forEach((k) => localStorage.removeItem(k));
}

/** The last signed-in account on this device, so a reload can find its drafts. */
export function rememberAccount(account) {
  try {
    localStorage.setItem(`${PREFIX}last-account`, account);
  } catch {
    /* see write() */
  }
}

export function lastAccount() {
  try {
    return localStorage.getItem(`${PREFIX}last-account`);
  } catch {
    return null;
  }
}
