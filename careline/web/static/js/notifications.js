// The notification centre's data: my records in this organisation (newest first, paged),
// the unread summary the bell shows, marking read, and the live events that keep every
// device of mine in step (notification.updated / notification.read, and the centre that
// rides on each resume's ack). The bell (views/bell.js) reads `centre` and listens to
// the 'notifications' topic; it never calls the network itself.

import { api } from './api.js';
import { state, on, emit } from './store.js';

const PAGE = 20;

export const centre = {
  key: null, // account and organisation these records belong to
  unread: 0, // open records
  messages: 0, // messages the open records count
  records: new Map(), // id -> record as the API shows it
  cursor: null,
  loaded: false,
  loading: false,
};

function scope() {
  return state.me ? `${state.me.account_id}/${state.me.tenant_id}` : null;
}

function reset() {
  centre.key = scope();
  centre.unread = 0;
  centre.messages = 0;
  centre.records.clear();
  centre.cursor = null;
  centre.loaded = false;
}

function ensureScope() {
  if (centre.key !== scope()) reset();
}

function changed() {
  emit('notifications');
}

function take(records) {
  for (const r of records) {
    const known = centre.records.get(r.id);
    // A copy never goes back: a live event may be newer than a page that was on its way.
    if (!known || r.updated_at >= known.updated_at || (r.read_at && !known.read_at)) {
      centre.records.set(r.id, known && known.read_at && !r.read_at ? { ...r, read_at: known.read_at } : r);
    }
  }
}

function setSummary({ unread, messages }) {
  centre.unread = unread;
  centre.messages = messages;
}

// Bumped by every change this device learns of (an event, a mark of its own). A summary
// read by the server before such a change can arrive after it: one whose request began
// at another tick is stale, and is asked again instead of shown.
let tick = 0;

function summaryAt(at, summary) {
  if (at === tick) setSummary(summary);
  else refreshSummarySoon();
}

/** The first page and the summary (again after a reconnect: see the 'resumed' hook). */
export async function loadNotifications() {
  ensureScope();
  if (centre.loading) return;
  centre.loading = true;
  const at = tick;
  try {
    const [page, summary] = await Promise.all([
      api('GET', `/notifications?limit=${PAGE}`),
      api('GET', '/notifications/summary'),
    ]);
    take(page.items);
    if (!centre.loaded) centre.cursor = page.next_cursor;
    centre.loaded = true;
    summaryAt(at, summary);
  } finally {
    centre.loading = false;
    changed();
  }
}

/** The next page of older records. */
export async function loadOlderNotifications() {
  if (!centre.cursor) return;
  const page = await api('GET', `/notifications?limit=${PAGE}&cursor=${encodeURIComponent(centre.cursor)}`);
  take(page.items);
  centre.cursor = page.next_cursor;
  changed();
}

/** Newest first. */
export function records() {
  return [...centre.records.values()].sort((a, b) => (a.updated_at < b.updated_at ? 1 : a.updated_at > b.updated_at ? -1 : 0));
}

/**
 * The history grouped by conversation (or by the object of a kind without one), in the
 * order of each group's newest record: { key, conversation_id, kind, records, unread,
 * firstSeq, at }. `unread` counts the messages its open records cover; `firstSeq` is the
 * first of them (where a click opens).
 */
export function groups() {
  const byKey = new Map();
  for (const r of records()) {
    const key = r.conversation_id || r.object_id;
    let g = byKey.get(key);
    if (!g) {
      g = { key, conversation_id: r.conversation_id, kind: r.kind, records: [], unread: 0, firstSeq: null, at: r.updated_at };
      byKey.set(key, g);
    }
    g.records.push(r);
    if (!r.read_at) {
      g.unread += r.count;
      if (r.first_seq !== null && (g.firstSeq === null || r.first_seq < g.firstSeq)) g.firstSeq = r.first_seq;
    }
  }
  return [...byKey.values()];
}

function applyRead(ids, at = new Date().toISOString()) {
  let unknown = false;
  for (const id of ids) {
    const r = centre.records.get(id);
    if (!r) {
      unknown = true;
    } else if (!r.read_at) {
      centre.records.set(id, { ...r, read_at: at });
      centre.unread = Math.max(0, centre.unread - 1);
      centre.messages = Math.max(0, centre.messages - r.count);
    }
  }
  return unknown;
}

/** Mark these records read (every device of mine follows). */
export async function markRead(ids) {
  ensureScope();
  const open = ids.filter((id) => {
    const r = centre.records.get(id);
    return r && !r.read_at;
  });
  if (!open.length) return;
  applyRead(open);
  tick += 1;
  changed();
  await send({ ids: open });
}

/** Mark every record read, those not loaded here too. */
export async function markAllRead() {
  ensureScope();
  applyRead([...centre.records.keys()]);
  setSummary({ unread: 0, messages: 0 });
  tick += 1;
  changed();
  await send({ all: true });
}

async function send(body) {
  const at = tick;
  let result;
  if (state.socket && state.connection === 'ready') {
    result = await state.socket.request('notifications.read', body);
  } else {
    result = await api('POST', '/notifications/read', body);
  }
  summaryAt(at, result);
  // What the server read before this mark committed is stale from here on.
  tick += 1;
  changed();
}

// live -----------------------------------------------------------------------------------

let refetch = null;

function refreshSummarySoon() {
  clearTimeout(refetch);
  refetch = setTimeout(async () => {
    const at = tick;
    try {
      summaryAt(at, await api('GET', '/notifications/summary'));
      changed();
    } catch {
      // The next resume brings it.
    }
  }, 300);
}

function onFrame(frame) {
  if (frame.op !== 'notification.updated' && frame.op !== 'notification.read') return;
  ensureScope();
  if (!state.me || frame.tenant_id !== state.me.tenant_id) return;
  if (frame.op === 'notification.updated') {
    const r = frame.notification;
    const known = centre.records.get(r.id);
    if (!known) {
      // A record is new when it counts one message (a record told again counts more).
      if (r.count === 1) {
        centre.unread += 1;
        centre.messages += 1;
      } else {
        refreshSummarySoon();
      }
    } else if (!known.read_at) {
      centre.messages += Math.max(0, r.count - known.count);
    }
    take([r]);
    tick += 1;
  } else {
    const before = centre.unread;
    if (applyRead(frame.ids)) {
      refreshSummarySoon();
      tick += 1;
    } else if (centre.unread !== before) {
      tick += 1;
    }
  }
  changed();
}

function onResumed(resumed) {
  const c = resumed && resumed.notifications;
  if (!c) return;
  ensureScope();
  take(c.items);
  if (!centre.loaded) centre.cursor = c.next_cursor;
  centre.loaded = true;
  setSummary(c);
  changed();
}

on('event', onFrame);
on('resumed', onResumed);

// Links into a conversation carry the organisation it belongs to (?org=<id>, as push
// and e-mail links do).
/**
 * What the address's ?org= asks: null (nothing, or this organisation: the parameter is
 * taken out of the address bar) or the id of another organisation.
 */
export function otherOrganisation() {
  const params = new URLSearchParams(location.search);
  const org = params.get('org');
  if (!org) return null;
  if (state.me && org === state.me.tenant_id) {
    params.delete('org');
    const rest = params.toString();
    history.replaceState(history.state, '', location.pathname + (rest ? `?${rest}` : ''));
    return null;
  }
  return /^[0-9a-f-]{36}$/.test(org) ? org : null;
}
