// The network side of the alerts panel (views never call the network): the open alerts
// and the history from GET /admin/alerts, and the live alert.raised / alert.cleared
// events the socket brings to admins.

import { api } from './api.js';
import { on } from './store.js';

const PAGE = 20;

/** The alerts open now, and one page of the history (newest raised first). */
export function alertsPage(cursor = null) {
  const query = new URLSearchParams({ limit: String(PAGE) });
  if (cursor) query.set('cursor', cursor);
  return api('GET', `/admin/alerts?${query}`);
}

/** Calls `fn(alert)` for each alert raised or cleared while the page is open; returns
 * what stops it. */
export function onAlertChanged(fn) {
  return on('event', (frame) => {
    if ((frame.op === 'alert.raised' || frame.op === 'alert.cleared') && frame.alert) fn(frame.alert);
  });
}
