// Reading offline, the part of the store that keeps a copy on the device: the most recent
// conversations and the newest messages of each, written to IndexedDB as the store learns
// them, read back when careline cannot be reached at start, and deleted on sign-out, when
// the session ends, when another account signs in, and when the organisation says so
// (`device_storage`). See docs/web.md ("Reading offline") and docs/security.md.

import { api, ApiError } from './api.js';
import * as idb from './idb.js';
import * as local from './local.js';
import {
  state, on, emit, adoptSession, loadSession, loadThread, sessionEnded, sortedConversations,
} from './store.js';
import { newThread, resetThread, sorted } from './threads.js';

/** How much is kept: the most recent conversations, and each one's newest messages. */
export const KEPT_CONVERSATIONS = 50;
export const KEPT_MESSAGES = 50;
/** A copy this long without reaching careline is deleted rather than shown. */
export const KEPT_DAYS = 7;

const WRITE_DELAY_MS = 400;
const RETRY_FIRST_MS = 3000;
const RETRY_MAX_MS = 60_000;

let scope = null; // "<account>/<tenant>" of the live session being kept
let enabled = false; // the organisation allows it (GET /organisation/settings said so)
let generation = 0; // raised by forget(): a write planned before it is never made
let timer = null;
let downSince = null; // when the connection went, if it has: the copy was current until then
let listDirty = false;
const dirtyThreads = new Set();

function scopeOf(me) {
  return `${me.account_id}/${me.tenant_id}`;
}

// what is kept: no secrets (the CSRF token), no links, nothing live -------------------

function keptMe(me) {
  const { csrf_token: _csrf, email: _email, ...rest } = me;
  return rest;
}

function keptConversation(conv) {
  return {
    ...conv,
    last_message: conv.last_message ? keptMessage(conv.last_message) : null,
  };
}

function keptMessage(m) {
  // Files are never kept: only what is needed to say there was one.
  const attachments = (m.attachments || []).map(({ id, name, kind }) => ({ id, name, kind, previews: [] }));
  return { ...m, attachments };
}

// writing ------------------------------------------------------------------------------

function writing() {
  return enabled && !state.offline && !!state.me && !state.ended && scope === scopeOf(state.me);
}

function plan({ list = false, thread = null } = {}) {
  if (!writing()) return;
  if (list) listDirty = true;
  if (thread) dirtyThreads.add(thread);
  clearTimeout(timer);
  timer = setTimeout(flush, WRITE_DELAY_MS);
}

async function flush() {
  timer = null;
  const planned = generation;
  const db = await idb.open();
  // Checked again after the wait: a sign-out meanwhile wins.
  if (!db || planned !== generation || !writing()) return;
  const top = sortedConversations().slice(0, KEPT_CONVERSATIONS);
  const keep = new Set(top.map((c) => c.id));
  const threads = [...dirtyThreads].filter((id) => keep.has(id));
  const list = listDirty;
  listDirty = false;
  dirtyThreads.clear();
  const at = downSince || new Date().toISOString();
  const here = scope;
  await idb.transact(db, 'readwrite', (tx) => {
    tx.objectStore('meta').put({ key: 'device', scope: here, me: keptMe(state.me), synced_at: at });
    if (list) {
      const convs = tx.objectStore('conversations');
      for (const c of top) convs.put({ scope: here, id: c.id, conversation: keptConversation(c) });
      // Bounded: what fell out of the most recent (or left, or is gone) is deleted.
      for (const name of ['conversations', 'threads']) {
        const store = tx.objectStore(name);
        store.getAllKeys(idb.range(here)).onsuccess = (ev) => {
          for (const key of ev.target.result) if (!keep.has(key[1])) store.delete(key);
        };
      }
    }
    for (const id of threads) {
      const t = state.threads.get(id);
      if (!t || !t.loaded) continue;
      const all = sorted(t);
      const newest = all.slice(-KEPT_MESSAGES).map(keptMessage);
      const hasMore = t.hasMore || all.length > newest.length;
      tx.objectStore('threads').put({ scope: here, id, messages: newest, has_more: hasMore });
    }
  }).catch(() => {
    // Storage full or refused: reading offline just has less to show.
  });
}

on('conversations', () => plan({ list: true }));
on('thread', (id) => plan({ list: true, thread: id }));
on('connection', () => {
  // "As of" is when the copy was last current: note it when the connection goes, and
  // ask again whether the organisation allows keeping anything when it comes back.
  const down = ['waiting', 'offline', 'replaced'].includes(state.connection);
  if (down && !downSince) {
    downSince = new Date().toISOString();
    plan({ list: true });
  } else if (!down) {
    downSince = null;
  }
  if (state.connection === 'ready') refreshSetting();
});

// the organisation's setting ------------------------------------------------------------

async function refreshSetting() {
  let allowed;
  try {
    const settings = await api('GET', '/organisation/settings');
    allowed = settings.device_storage !== false;
  } catch (err) {
    // 404: a careline without the setting, which means "allowed". Anything else (offline,
    // a failure): keep what we believed, and ask again on the next connection.
    if (!(err instanceof ApiError) || err.status !== 404) return;
    allowed = true;
  }
  if (!state.me || scope !== scopeOf(state.me)) return;
  if (!allowed) {
    await forget();
    return;
  }
  if (!enabled) {
    enabled = true;
    for (const id of state.threads.keys()) dirtyThreads.add(id);
    plan({ list: true });
  }
}

/** A live session began (signed in, or reloaded online): the copy is this account's from
 * now on. Another account's or organisation's copy is deleted first. */
export async function start() {
  const me = state.me;
  const db = await idb.open();
  if (db) {
    const meta = await idb.transact(db, 'readonly', (tx) => {
      const out = {};
      tx.objectStore('meta').get('device').onsuccess = (ev) => { out.value = ev.target.result; };
      return out;
    }).then((out) => out.value, () => null);
    if (meta && meta.scope !== scopeOf(me)) await forget();
  }
  scope = scopeOf(me);
  refreshSetting();
}

/** Delete everything kept on this device, and keep nothing until the next start(). */
export async function forget() {
  generation += 1;
  enabled = false;
  scope = null;
  clearTimeout(timer);
  timer = null;
  listDirty = false;
  dirtyThreads.clear();
  const db = await idb.open();
  if (!db) return;
  // One account's copy at a time, so all of it goes.
  await idb.transact(db, 'readwrite', (tx) => {
    for (const name of idb.STORES) tx.objectStore(name).clear();
  }).catch(() => {});
}

// reading offline ----------------------------------------------------------------------

async function readCopy() {
  const db = await idb.open();
  if (!db) return null;
  return idb.transact(db, 'readonly', (tx) => {
    const out = { meta: null, conversations: [], threads: [] };
    tx.objectStore('meta').get('device').onsuccess = (ev) => {
      out.meta = ev.target.result || null;
      if (!out.meta) return;
      const kept = idb.range(out.meta.scope);
      tx.objectStore('conversations').getAll(kept).onsuccess = (e) => { out.conversations = e.target.result; };
      tx.objectStore('threads').getAll(kept).onsuccess = (e) => { out.threads = e.target.result; };
    };
    return out;
  }).catch(() => null);
}

/** careline cannot be reached at start: show the kept copy, if this device has one for
 * the account that last signed in here. True when there was one to show. */
export async function bootOffline() {
  const copy = await readCopy();
  const meta = copy && copy.meta;
  if (!meta) return false;
  const age = Date.now() - Date.parse(meta.synced_at);
  if (meta.me.account_id !== local.lastAccount() || !(age < KEPT_DAYS * 86_400_000)) {
    await forget();
    return false;
  }
  adoptSession({ ...meta.me, csrf_token: '' });
  const threads = new Map(copy.threads.map((r) => [r.id, r]));
  for (const { conversation } of copy.conversations) {
    state.conversations.set(conversation.id, conversation);
    for (const p of conversation.participants) {
      if (p.display_name) state.names.set(p.account_id, p.display_name);
      // Whoever was online when the copy was last current was last seen then; nobody is
      // shown online from a copy.
      if (p.presence === 'online' || p.presence === 'away') p.last_seen_at = meta.synced_at;
      p.presence = 'offline';
      state.presence.set(p.account_id, 'offline');
    }
    const kept = threads.get(conversation.id);
    const t = newThread();
    for (const m of kept ? kept.messages : []) t.messages.set(m.id, m);
    // Marked as loaded, so nothing is fetched; what is not kept says so (views/offline.js).
    t.loaded = true;
    t.hasMore = kept ? kept.has_more : true;
    state.threads.set(conversation.id, t);
  }
  state.listLoaded = true;
  state.offline = { at: meta.synced_at };
  return true;
}

/** Offline: try careline again when the browser says it is back, and every little while;
 * when it answers, leave the kept copy for live data and call `onLive`. A session that
 * ended meanwhile deletes the copy and goes to sign-in. */
export function whenReachable(onLive) {
  let wait = RETRY_FIRST_MS;
  let retry = null;
  let trying = false;
  async function attempt() {
    if (trying || !state.offline) return;
    trying = true;
    clearTimeout(retry);
    try {
      const me = await loadSession();
      if (!me) {
        await forget();
        state.offline = null;
        sessionEnded();
        return;
      }
      window.removeEventListener('online', attempt);
      leaveOffline();
      await onLive();
    } catch {
      // Lost again half-way into live data: start afresh, which picks whichever applies.
      if (!state.offline) {
        location.reload();
        return;
      }
      retry = setTimeout(attempt, wait);
      wait = Math.min(RETRY_MAX_MS, wait * 2);
    } finally {
      trying = false;
    }
  }
  window.addEventListener('online', attempt);
  retry = setTimeout(attempt, wait);
}

function leaveOffline() {
  state.offline = null;
  // The kept copy gives way to what the server holds: every thread is fetched afresh
  // (the open one at once, the others when opened); the list is refreshed by going live.
  for (const t of state.threads.values()) resetThread(t);
  emit('offline');
  if (state.openId) {
    emit('thread', state.openId);
    loadThread(state.openId);
  }
}
