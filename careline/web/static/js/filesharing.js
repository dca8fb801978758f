// Whether files can be shared right now. Every file is virus-scanned before anyone else
// sees it; while the server has no working scanner (ClamAV not installed, no signature
// database, clamd down) an upload would wait forever, so the composer pauses file
// sharing and says why. The state comes from GET /attachments/policy (`scanner`) and is
// asked again every `recheck_seconds` the server names (short while paused, a minute
// while it works), when the page becomes visible again, and before each upload.

import { api } from './api.js';

// Why file sharing is paused, in plain words, by the server's reason code.
const WHY = {
  clamd_not_installed: 'the virus scanner is not installed on this server',
  no_signature_database: 'the virus scanner has no virus definitions yet',
  clamd_starting: 'the virus scanner is starting',
  clamd_restarting: 'the virus scanner stopped and is being restarted',
  clamd_unreachable: 'the virus scanner is not answering',
  scanner_unknown: 'the virus scanner has not been checked yet',
};
const WHY_OTHER = 'the virus scanner is not available';
export const PAUSED_TITLE = 'File sharing is paused';
export const PAUSED_AFTER = 'Messages still send. Files can be shared again as soon as it is back.';

const current = { available: true, reason: null, known: false };
const listeners = new Set();
let timer = null;
let asking = null;

/** The plain reason file sharing is paused, or null while it works. */
export function pausedBecause() {
  if (current.available) return null;
  return WHY[current.reason] || WHY_OTHER;
}

function schedule(seconds) {
  clearTimeout(timer);
  timer = listeners.size ? setTimeout(refreshSharing, Math.max(1, seconds) * 1000) : null;
}

/** Ask the server now; resolves to whether files can be shared. */
export function refreshSharing() {
  if (asking) return asking;
  asking = api('GET', '/attachments/policy')
    .then((found) => {
      const scanner = found.scanner || { available: true, reason: null, recheck_seconds: 60 };
      const changed = !current.known || scanner.available !== current.available || scanner.reason !== current.reason;
      Object.assign(current, { available: scanner.available, reason: scanner.reason, known: true });
      if (changed) for (const fn of [...listeners]) fn(current.available);
      schedule(scanner.recheck_seconds || 60);
      return current.available;
    })
    .catch(() => {
      schedule(10); // offline or signed out: the server still refuses nothing unscanned
      return current.available;
    })
    .finally(() => { asking = null; });
  return asking;
}

/** Run `fn(available)` on every change (and once the state is first known); returns off. */
export function onSharing(fn) {
  listeners.add(fn);
  if (current.known) fn(current.available);
  if (!timer && !asking) refreshSharing();
  return () => {
    listeners.delete(fn);
    if (!listeners.size) {
      clearTimeout(timer);
      timer = null;
    }
  };
}

document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible' && listeners.size) refreshSharing();
});
