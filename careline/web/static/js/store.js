// The client's state and everything that changes it: the session, the conversation list,
// thread caches, live events from the socket, receipts, typing, presence and the outbox.
// Views read `state` and subscribe to topics; they never talk to the network directly.

import { api, ApiError, configure, listAll } from './api.js';
import { Socket } from './socket.js';
import * as local from './local.js';
import { loadOrganisationSettings, forgetOrganisationSettings } from './organisation.js';
import { applyWaiting } from './waiting.js';
import {
  applyEvent, applyResult, beginFetch, endFetch, landPage, newThread, resetThread, sorted,
} from './threads.js';

const listeners = new Map();

export function on(topic, fn) {
  if (!listeners.has(topic)) listeners.set(topic, new Set());
  listeners.get(topic).add(fn);
  return () => listeners.get(topic).delete(fn);
}

export function emit(topic, detail) {
  for (const fn of [...(listeners.get(topic) || [])]) fn(detail);
}

export const PAGE = 50;

export const state = {
  me: null,
  conversations: new Map(),
  listLoaded: false,
  threads: new Map(),
  typing: new Map(),
  presence: new Map(),
  names: new Map(),
  cursors: new Map(),
  outbox: [],
  seen: {},
  openId: null,
  viewing: false,
  actingFor: null,
  connection: 'idle',
  socket: null,
  ended: false,
  readyInfo: null,
  offline: null, // { at }: showing the copy kept on this device (js/offline.js)
};

// session --------------------------------------------------------------------------------

export async function loadSession() {
  try {
    // 200 either way: a signed-out visit makes no failing request (no console error).
    const { signed_in: signedIn, me } = await api('GET', '/auth/session', undefined, { quiet401: true });
    if (!signedIn) return null;
    adoptSession(me);
    return me;
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return null;
    throw err;
  }
}

export function adoptSession(me) {
  if (state.me && state.me.account_id !== me.account_id) resetState();
  state.me = me;
  state.ended = false;
  configure({ csrf: me.csrf_token || '' });
  local.rememberAccount(me.account_id);
  state.names.set(me.account_id, me.display_name);
  state.outbox = local.read(me.account_id, 'outbox', []).map(restoredItem);
  setTimeout(watchWaiting);
  state.seen = local.read(me.account_id, 'seen', {});
  const ids = (me.acting_for || []).map((m) => m.account_id);
  for (const m of me.acting_for || []) state.names.set(m.account_id, m.display_name);
  const saved = local.read(me.account_id, 'acting-for', null);
  state.actingFor = ids.includes(saved) ? saved : ids[0] || null;
}

function restoredItem(item) {
  if (item.state !== 'scanning') return { ...item, state: item.state === 'failed' ? 'failed' : 'queued' };
  // Held for its files' scan when the page went: files that had finished uploading are
  // watched again (watchWaiting); one still going up then is lost, and said so.
  const lost = item.waiting.filter((f) => !f.id).map((f) => f.name);
  if (!lost.length) return { ...item, resumed: true };
  return { ...item, state: 'failed', error: `${lost.join(', ')} did not finish uploading`, refused: lost, waiting: [] };
}

export async function signIn({ email, password, tenant }) {
  const body = { email, password };
  if (tenant) body.tenant = tenant;
  const signed = await api('POST', '/auth/login', body, { quiet401: true });
  configure({ csrf: signed.csrf_token || '' });
  return loadSession();
}

export async function signOut() {
  const account = state.me && state.me.account_id;
  try {
    await api('POST', '/auth/logout', undefined, { quiet401: true });
  } catch {
    // Signing out of a session that already ended is still signing out.
  }
  stopLive();
  // On purpose, unlike an expired session: a person who signs out leaves nothing of
  // theirs (drafts, unsent messages) on a device someone else may use next.
  if (account) local.forgetAccount(account);
  resetState();
}

export function sessionEnded() {
  if (state.ended || !state.me) return;
  state.ended = true;
  stopLive();
  emit('session-ended');
}

function resetState() {
  state.me = null;
  state.conversations.clear();
  state.threads.clear();
  state.typing.clear();
  state.presence.clear();
  state.cursors.clear();
  state.outbox = [];
  state.listLoaded = false;
  state.openId = null;
  state.offline = null;
  forgetOrganisationSettings();
  configure({ csrf: '' });
}

export function isStaff() {
  return !!state.me && (state.me.role === 'staff' || state.me.role === 'admin');
}

/** Whether archived conversations stay archived when a new message comes (per organisation). */
export async function setKeepArchived(keep) {
  await api('PATCH', '/me', { keep_archived: keep });
  state.me.keep_archived = keep;
}

export function setActingFor(clientId) {
  state.actingFor = clientId;
  local.write(state.me.account_id, 'acting-for', clientId);
  emit('conversations');
}

// live connection --------------------------------------------------------------------

export async function startLive() {
  configure({ onSessionEnded: sessionEnded });
  await Promise.all([refreshConversations(), loadOrganisationSettings().catch(() => null)]);
  const socket = new Socket({
    csrf: state.me.csrf_token,
    onEvent: handleEvent,
    onStatus: (status, sock) => {
      state.connection = status;
      emit('connection', sock);
    },
    onReady: (info) => onReady(socket, info),
    onSessionEnded: sessionEnded,
  });
  state.socket = socket;
  socket.start();
  watchActivity();
}

export function stopLive() {
  if (state.socket) state.socket.stop();
  state.socket = null;
  state.connection = 'idle';
  for (const timers of state.typing.values()) timers.forEach((t) => clearTimeout(t));
  state.typing.clear();
}

async function onReady(socket, info) {
  state.readyInfo = info;
  const cursors = Object.fromEntries(state.cursors);
  try {
    const resumed = await socket.request('resume', { conversations: cursors }, { timeout: 60_000 });
    emit('resumed', resumed);
    for (const [id, result] of Object.entries(resumed.conversations || {})) {
      if (result.status === 'reset') await reloadThread(id);
    }
  } catch {
    return; // the socket dropped again; the next ready resumes
  }
  await refreshConversations().catch(() => {});
  if (socket !== state.socket) return;
  flushOutbox();
  acknowledgeDelivery();
  if (document.visibilityState === 'hidden') setPresence('away');
  if (state.openId) markViewedRead();
}

let watching = false;

function watchActivity() {
  if (watching) return;
  watching = true;
  document.addEventListener('visibilitychange', () => {
    if (!state.socket) return;
    clearTimeout(watchActivity.timer);
    if (document.visibilityState === 'hidden') {
      const after = ((state.readyInfo && state.readyInfo.away_after_seconds) || 300) * 1000;
      watchActivity.timer = setTimeout(() => setPresence('away'), Math.min(after, 60_000));
    } else {
      setPresence('online');
      if (state.openId) markViewedRead();
    }
  });
}

function setPresence(status) {
  if (state.socket) state.socket.request('presence.set', { status }).catch(() => {});
}

// conversations ------------------------------------------------------------------------

function remember(conv) {
  for (const p of conv.participants) {
    if (p.display_name) state.names.set(p.account_id, p.display_name);
    state.presence.set(p.account_id, p.presence);
  }
}

function advanceCursor(id, seq) {
  if (seq > (state.cursors.get(id) || 0)) state.cursors.set(id, seq);
}

// Archive and mute changes have no seq: a list read before one landed must not undo it.
let liveTick = 0;
const settingsTick = new Map();

function merge(item, since = Infinity) {
  const known = state.conversations.get(item.id);
  if (known && (settingsTick.get(item.id) || 0) > since) {
    item.archived = known.archived;
    item.muted = known.muted;
    item.notify = known.notify;
  }
  // A live event can land between the server building this list and us reading it:
  // keep what we know to be newer.
  if (known && (state.cursors.get(item.id) || 0) > item.last_seq) {
    item.last_seq = known.last_seq;
    item.last_message = known.last_message;
    item.last_activity_at = known.last_activity_at;
    item.unread = Math.max(item.unread, known.unread);
  }
  // Likewise a receipt of mine (read on another device) that came after the server
  // read this list: the further watermark and its count are the newer truth.
  if (known && known.read_seq > item.read_seq) {
    item.read_seq = known.read_seq;
    item.delivered_seq = Math.max(item.delivered_seq, known.delivered_seq);
    item.unread = known.unread;
  }
  state.conversations.set(item.id, item);
  advanceCursor(item.id, item.last_seq);
  remember(item);
  return item;
}

export async function refreshConversations() {
  const since = liveTick;
  const items = await listAll('/conversations');
  const ids = new Set(items.map((c) => c.id));
  for (const id of [...state.conversations.keys()]) {
    if (!ids.has(id)) dropConversation(id);
  }
  items.forEach((item) => merge(item, since));
  state.listLoaded = true;
  emit('conversations');
  emit('presence');
}

export async function fetchConversation(id) {
  const since = liveTick;
  const item = await api('GET', `/conversations/${id}`);
  merge(item, since);
  emit('conversations');
  emit('thread', id);
  return item;
}

function dropConversation(id) {
  state.conversations.delete(id);
  state.threads.delete(id);
  state.cursors.delete(id);
  if (state.openId === id) emit('conversation-gone', id);
}

export function sortedConversations() {
  return [...state.conversations.values()].sort((a, b) =>
    a.last_activity_at < b.last_activity_at ? 1 : a.last_activity_at > b.last_activity_at ? -1 : 0,
  );
}

export function visibleConversations({ archived = false } = {}) {
  return sortedConversations().filter((c) => {
    if (c.archived !== archived) return false;
    if (state.me.role === 'guardian' && state.actingFor) return c.client_id === state.actingFor;
    return true;
  });
}

export async function openConversation(body) {
  const item = await api('POST', '/conversations', body);
  merge(item);
  emit('conversations');
  return item;
}

export async function updateMySettings(id, changes) {
  const item = await api('PATCH', `/conversations/${id}/me`, changes);
  merge(item);
  emit('conversations');
  emit('thread', id);
  return item;
}

// threads: the fetching (what a thread holds, and how pages and events merge into it,
// is threads.js) -----------------------------------------------------------------------

export function thread(id) {
  let t = state.threads.get(id);
  if (!t) {
    t = newThread();
    state.threads.set(id, t);
  }
  return t;
}

export function messagesOf(id) {
  return sorted(thread(id));
}

/** Fetch a page into the thread; what came live meanwhile is kept and applied again. */
async function fetchPage(id, t, query, { newest }) {
  const fetch = beginFetch(t);
  try {
    const page = await api('GET', `/conversations/${id}/messages?limit=${PAGE}${query}`);
    if (!landPage(t, fetch, page, { newest })) return null;
    // The server has these: a send of mine still waiting for its ack is done. (Signed
    // out meanwhile, there is no outbox left to clear.)
    const me = state.me && state.me.account_id;
    for (const m of page.items) if (me && m.sender_id === me) dropFromOutbox(m.client_msg_id);
    return page;
  } finally {
    endFetch(t, fetch);
  }
}

export async function loadThread(id) {
  const t = thread(id);
  if (t.loading) return;
  t.loading = true;
  t.error = null;
  const generation = t.generation;
  emit('thread', id);
  try {
    if (!state.conversations.has(id)) await fetchConversation(id);
    await fetchPage(id, t, '', { newest: true });
  } catch (err) {
    if (t.generation === generation) t.error = err;
  } finally {
    if (t.generation === generation) t.loading = false;
    emit('thread', id);
  }
}

async function reloadThread(id) {
  const t = state.threads.get(id);
  if (!t || !(t.loaded || t.loading)) return;
  resetThread(t);
  await loadThread(id);
}

export async function loadOlder(id) {
  const t = thread(id);
  if (state.offline || !t.loaded || t.loadingOlder || !t.hasMore) return false;
  const first = messagesOf(id)[0];
  if (!first) return false;
  t.loadingOlder = true;
  const generation = t.generation;
  try {
    const page = await fetchPage(id, t, `&before_seq=${first.seq}`, { newest: false });
    return !!page && page.items.length > 0;
  } finally {
    if (t.generation === generation) t.loadingOlder = false;
    emit('thread', id);
  }
}

export function messageById(conversationId, messageId) {
  const t = state.threads.get(conversationId);
  return t ? t.messages.get(messageId) : undefined;
}

export async function fetchMessage(messageId) {
  return api('GET', `/messages/${messageId}`);
}

// the open thread: what counts as read ---------------------------------------------------

export function setOpen(id) {
  state.openId = id;
  emit('open', id);
}

/** The thread is on screen and scrolled to its end: what arrives is read. */
export function setViewing(viewing) {
  state.viewing = viewing;
  if (viewing) markViewedRead();
}

function viewingNow(id) {
  return state.openId === id && state.viewing && document.visibilityState === 'visible';
}

export function markViewedRead() {
  const id = state.openId;
  const conv = id && state.conversations.get(id);
  if (!conv || !viewingNow(id)) return;
  if (conv.last_seq > conv.read_seq || conv.unread > 0) {
    const seq = conv.last_seq;
    conv.read_seq = seq;
    conv.unread = 0;
    emit('conversations');
    sendReceipt(id, { read_seq: seq, delivered_seq: seq });
  }
}

const deliveryTimers = new Map();

function acknowledgeDelivery(id) {
  const ids = id ? [id] : [...state.conversations.keys()];
  for (const cid of ids) {
    clearTimeout(deliveryTimers.get(cid));
    deliveryTimers.set(
      cid,
      setTimeout(() => {
        const conv = state.conversations.get(cid);
        if (conv && conv.last_seq > conv.delivered_seq) {
          conv.delivered_seq = conv.last_seq;
          sendReceipt(cid, { delivered_seq: conv.last_seq });
        }
      }, 150),
    );
  }
}

function sendReceipt(id, marks) {
  const body = { conversation_id: id, ...marks };
  if (state.socket && state.connection === 'ready') {
    state.socket.request('receipt.update', body).catch(() => {});
  } else {
    api('POST', `/conversations/${id}/receipt`, marks).catch(() => {});
  }
}

// live events ------------------------------------------------------------------------

function handleEvent(frame) {
  const id = frame.conversation_id;
  emit('event', frame); // for parts with their own data module (js/notifications.js)
  switch (frame.op) {
    case 'message.sent':
    case 'message.edited':
    case 'message.redacted':
      applyMessage(frame.op, frame.message, frame.seq);
      break;
    case 'reaction.added':
    case 'reaction.removed':
      applyReaction(frame);
      break;
    case 'conversation.created':
    case 'participant.added':
    case 'participant.removed':
      applyMembership(frame);
      break;
    case 'receipt.updated':
      applyReceipt(frame);
      break;
    case 'conversation.waiting':
      if (applyWaiting(state.conversations, frame, state.me.tenant_id)) emit('conversations');
      break;
    case 'typing.updated':
      applyTyping(frame);
      break;
    case 'presence.updated':
      state.presence.set(frame.account_id, frame.status);
      for (const conv of state.conversations.values()) {
        for (const p of conv.participants) {
          if (p.account_id === frame.account_id) {
            p.presence = frame.status;
            if (frame.status === 'offline') p.last_seen_at = frame.last_seen || new Date().toISOString();
          }
        }
      }
      emit('presence');
      break;
    case 'attachment.updated':
      emit('attachment', frame);
      break;
    case 'conversation.frozen_changed':
      // An admin paused or resumed the conversation: its `frozen` (the banner) is fetched.
      fetchConversation(id).catch(() => {});
      break;
    case 'participant.settings_updated': {
      const conv = state.conversations.get(id);
      settingsTick.set(id, ++liveTick);
      if (conv) {
        conv.archived = frame.archived;
        conv.muted = frame.muted;
        if (frame.notify) conv.notify = frame.notify;
        emit('conversations');
        emit('thread', id);
      }
      break;
    }
    default:
      break;
  }
  if (id && typeof frame.seq === 'number') advanceCursor(id, frame.seq);
}

/** A message event, or (`result`) the answer to my own send, edit or delete. */
function applyMessage(op, message, seq, { result = false } = {}) {
  const id = message.conversation_id;
  const conv = state.conversations.get(id);
  if (!conv) {
    fetchConversation(id).catch(() => {});
    return;
  }
  const t = state.threads.get(id);
  if (t && result) applyResult(t, message);
  else if (t) applyEvent(t, { message });
  const mine = message.sender_id === state.me.account_id;
  if (mine) dropFromOutbox(message.client_msg_id);
  if (op === 'message.sent') {
    const isNew = seq > conv.last_seq;
    if (!conv.last_message || message.seq >= conv.last_message.seq) {
      conv.last_message = message;
      conv.last_activity_at = message.created_at;
    }
    conv.last_seq = Math.max(conv.last_seq, seq);
    if (!mine && isNew && seq > conv.read_seq) {
      conv.unread += 1;
      clearTyping(id, message.sender_id);
      acknowledgeDelivery(id);
    }
    // Sending is reading: the server moved the sender's watermarks to this message
    // (docs/protocol.md, "Receipts and unread counts"), for me as for anyone else.
    noteSent(conv, message);
    markViewedRead();
  } else {
    conv.last_seq = Math.max(conv.last_seq, seq);
    if (conv.last_message && conv.last_message.id === message.id) conv.last_message = message;
    if (op === 'message.redacted' && !mine && message.seq > conv.read_seq && conv.unread > 0) {
      conv.unread -= 1;
    }
  }
  emit('thread', id);
  emit('conversations');
}

function noteSent(conv, message) {
  const newest = !!conv.last_message && conv.last_message.id === message.id;
  if (message.sender_id === state.me.account_id) {
    conv.delivered_seq = Math.max(conv.delivered_seq, message.seq);
    if (message.seq > conv.read_seq) conv.read_seq = message.seq;
    // Nothing of anyone else's known to come after it: nothing is unread.
    if (newest) conv.unread = 0;
  }
  const p = conv.participants.find((x) => x.account_id === message.sender_id);
  if (p) {
    if (message.seq > p.read_seq && message.sender_id !== state.me.account_id) {
      noteSeen(conv.id, p.account_id, message.seq);
    }
    p.delivered_seq = Math.max(p.delivered_seq, message.seq);
    p.read_seq = Math.max(p.read_seq, message.seq);
  }
}

function applyReaction(frame) {
  const id = frame.conversation_id;
  const conv = state.conversations.get(id);
  if (conv) conv.last_seq = Math.max(conv.last_seq, frame.seq);
  const t = state.threads.get(id);
  if (!t) return;
  const { message_id, emoji, account_id } = frame;
  applyEvent(t, { message_id, emoji, account_id, added: frame.op === 'reaction.added' });
  emit('thread', id);
}

function applyMembership(frame) {
  const id = frame.conversation_id;
  if (frame.op === 'participant.removed' && frame.account_id === state.me.account_id) {
    dropConversation(id);
    emit('conversations');
    return;
  }
  fetchConversation(id).catch(() => {});
}

function applyReceipt(frame) {
  const id = frame.conversation_id;
  const conv = state.conversations.get(id);
  if (!conv) return;
  const p = conv.participants.find((x) => x.account_id === frame.account_id);
  if (p) {
    if (frame.read_seq > p.read_seq && frame.account_id !== state.me.account_id) {
      noteSeen(id, frame.account_id, frame.read_seq);
    }
    p.delivered_seq = Math.max(p.delivered_seq, frame.delivered_seq);
    p.read_seq = Math.max(p.read_seq, frame.read_seq);
  }
  if (frame.account_id === state.me.account_id) {
    conv.delivered_seq = Math.max(conv.delivered_seq, frame.delivered_seq);
    if (frame.read_seq >= conv.read_seq) {
      conv.read_seq = frame.read_seq;
      if (typeof frame.unread === 'number') conv.unread = frame.unread;
    }
  }
  emit('conversations');
  emit('thread', id);
}

/** When a receipt moved: the server keeps watermarks, not times, so this device notes the
 * moment it learnt of each, to say "Seen by Lily at 9:41". */
function noteSeen(id, account, seq) {
  const key = `${id}:${account}`;
  const marks = (state.seen[key] || []).filter((m) => m.seq < seq).slice(-9);
  marks.push({ seq, at: new Date().toISOString() });
  state.seen[key] = marks;
  const keys = Object.keys(state.seen);
  if (keys.length > 300) delete state.seen[keys[0]];
  local.write(state.me.account_id, 'seen', state.seen);
}

export function seenAt(id, account, seq) {
  const mark = (state.seen[`${id}:${account}`] || []).find((m) => m.seq >= seq);
  return mark ? mark.at : null;
}

function applyTyping(frame) {
  const id = frame.conversation_id;
  if (frame.account_id === state.me.account_id) return;
  if (!state.typing.has(id)) state.typing.set(id, new Map());
  const timers = state.typing.get(id);
  clearTimeout(timers.get(frame.account_id));
  if (frame.typing) {
    // The server sends "stopped" too; the timer only covers a lost frame.
    const ttl = (frame.expires_in || 6) * 1000 + 1000;
    timers.set(frame.account_id, setTimeout(() => clearTyping(id, frame.account_id), ttl));
  } else {
    timers.delete(frame.account_id);
  }
  emit('typing', id);
}

function clearTyping(id, account) {
  const timers = state.typing.get(id);
  if (timers && timers.has(account)) {
    clearTimeout(timers.get(account));
    timers.delete(account);
    emit('typing', id);
  }
}

export function typingIn(id) {
  return [...(state.typing.get(id) || new Map()).keys()];
}

// sending --------------------------------------------------------------------------------

function newClientId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function saveOutbox() {
  const kept = state.outbox.map(({ element, ...item }) => item);
  local.write(state.me.account_id, 'outbox', kept);
}

function dropFromOutbox(clientMsgId) {
  const before = state.outbox.length;
  state.outbox = state.outbox.filter((item) => item.client_msg_id !== clientMsgId);
  if (state.outbox.length !== before) saveOutbox();
}

export function pendingIn(id) {
  return state.outbox.filter((item) => item.conversation_id === id);
}

/** Queue a message; it is kept (across reloads) until the server acknowledges it, and
 * every retry carries the same client_msg_id, so it is never stored twice. */
export function send(id, text, replyTo = null, attachments = [], waiting = []) {
  const item = {
    conversation_id: id,
    client_msg_id: newClientId(),
    text,
    reply_to_id: replyTo,
    attachments: attachments.map(({ id: fileId, name }) => ({ id: fileId, name })),
    created_at: new Date().toISOString(),
    // 'scanning': files in `waiting` ({name, id once uploaded}) are still uploading or
    // being checked; it goes out with them once they are clean (filesSettled).
    state: waiting.length ? 'scanning' : 'queued',
    waiting,
  };
  state.outbox.push(item);
  saveOutbox();
  stopTyping(id);
  emit('thread', id);
  flushOutbox();
  return item;
}

let flushing = false;

export async function flushOutbox() {
  if (flushing || !state.socket || state.connection !== 'ready') return;
  flushing = true;
  try {
    for (const item of [...state.outbox]) {
      if (item.state === 'failed' || item.state === 'scanning' || !state.outbox.includes(item)) continue;
      item.state = 'sending';
      try {
        const result = await state.socket.request('message.send', {
          conversation_id: item.conversation_id,
          client_msg_id: item.client_msg_id,
          text: item.text,
          ...(item.reply_to_id ? { reply_to_id: item.reply_to_id } : {}),
          ...(item.attachments && item.attachments.length ? { attachment_ids: item.attachments.map((f) => f.id) } : {}),
        });
        applyMessage('message.sent', result.message, result.message.seq, { result: true });
        dropFromOutbox(item.client_msg_id);
      } catch (err) {
        if (err.code === 'disconnected' || err.code === 'timeout') {
          item.state = 'queued';
          break;
        }
        item.state = 'failed';
        item.error = err.message;
        saveOutbox();
      }
      emit('thread', item.conversation_id);
    }
  } finally {
    flushing = false;
  }
}

/** A file a waiting message is held for finished uploading (so survives a reload). */
export function fileUploaded(clientMsgId, name, fileId) {
  const item = state.outbox.find((x) => x.client_msg_id === clientMsgId);
  const file = item && item.waiting.find((f) => f.name === name && !f.id);
  if (!file) return;
  file.id = fileId;
  saveOutbox();
}

/** After a reload: messages held for their files ask about them until all are settled. */
async function watchWaiting() {
  const held = state.outbox.filter((item) => item.state === 'scanning' && item.resumed);
  if (!held.length || !state.me) return;
  for (const item of held) {
    const ready = [];
    const refused = [];
    let open = false;
    for (const file of item.waiting) {
      try {
        const found = await api('GET', `/attachments/${file.id}`);
        if (found.state === 'available') ready.push({ id: file.id, name: file.name });
        else if (found.state === 'quarantined') refused.push({ name: file.name, error: found.reason || 'malware was found' });
        else open = true;
      } catch (err) {
        if (err.status === 404) refused.push({ name: file.name, error: 'it is no longer there' });
        else open = true;
      }
    }
    if (!open) filesSettled(item.client_msg_id, { ready, refused });
  }
  if (state.outbox.some((item) => item.state === 'scanning' && item.resumed)) setTimeout(watchWaiting, 3000);
}

/** The files a waiting message was held for have settled: clean ones join it and it
 * goes; if any was refused it stays, failed, naming them, to be sent without them. */
export function filesSettled(clientMsgId, { ready, refused }) {
  const item = state.outbox.find((x) => x.client_msg_id === clientMsgId);
  if (!item || item.state !== 'scanning') return;
  item.attachments = [...item.attachments, ...ready.map(({ id: fileId, name }) => ({ id: fileId, name }))];
  item.waiting = [];
  if (refused.length) {
    item.state = 'failed';
    item.refused = refused.map((f) => f.name);
    item.error = refused.map((f) => `${f.name} was refused (${f.error})`).join('; ');
  } else {
    item.state = 'queued';
  }
  saveOutbox();
  emit('thread', item.conversation_id);
  flushOutbox();
}

export function retry(clientMsgId) {
  const item = state.outbox.find((x) => x.client_msg_id === clientMsgId);
  if (!item) return;
  item.state = 'queued';
  item.error = null;
  item.refused = null;
  saveOutbox();
  emit('thread', item.conversation_id);
  flushOutbox();
}

export function discard(clientMsgId) {
  const item = state.outbox.find((x) => x.client_msg_id === clientMsgId);
  dropFromOutbox(clientMsgId);
  if (item) emit('thread', item.conversation_id);
}

async function call(op, args, method, path, body) {
  if (state.socket && state.connection === 'ready') return state.socket.request(op, args);
  return api(method, path, body);
}

export async function edit(message, text) {
  const result = await call('message.edit', { message_id: message.id, text }, 'PATCH', `/messages/${message.id}`, { text });
  const updated = result.message || result;
  applyMessage('message.edited', updated, updated.seq, { result: true });
}

export async function redact(message) {
  const result = await call('message.redact', { message_id: message.id }, 'DELETE', `/messages/${message.id}`);
  const updated = result.message || result;
  applyMessage('message.redacted', updated, updated.seq, { result: true });
}

export async function react(message, emoji, add) {
  const op = add ? 'reaction.add' : 'reaction.remove';
  const path = `/messages/${message.id}/reactions/${encodeURIComponent(emoji)}`;
  await call(op, { message_id: message.id, emoji }, add ? 'PUT' : 'DELETE', path);
}

export async function revisions(message) {
  return api('GET', `/messages/${message.id}/revisions`);
}

// typing -------------------------------------------------------------------------------

const typingSent = new Map();

/** Called on each keystroke: renew "typing" well inside the server's expiry. */
export function typing(id) {
  if (!state.socket || state.connection !== 'ready') return;
  const ttl = ((state.readyInfo && state.readyInfo.typing_ttl_seconds) || 6) * 1000;
  const last = typingSent.get(id) || 0;
  if (Date.now() - last < ttl * 0.5) return;
  typingSent.set(id, Date.now());
  state.socket.request('typing.start', { conversation_id: id }).catch(() => {});
}

export function stopTyping(id) {
  if (!typingSent.has(id)) return;
  typingSent.delete(id);
  if (state.socket && state.connection === 'ready') {
    state.socket.request('typing.stop', { conversation_id: id }).catch(() => {});
  }
}

// drafts -------------------------------------------------------------------------------

export function draft(id) {
  if (!state.me) return '';
  return (local.read(state.me.account_id, 'drafts', {})[id]) || '';
}

export function saveDraft(id, text) {
  if (!state.me) return;
  const drafts = local.read(state.me.account_id, 'drafts', {});
  if (text) drafts[id] = text;
  else delete drafts[id];
  local.write(state.me.account_id, 'drafts', drafts);
}

// people -----------------------------------------------------------------------------

export function nameOf(account) {
  return state.names.get(account) || 'Someone';
}

export async function members(role) {
  const items = await listAll(`/members${role ? `?role=${role}` : ''}`);
  for (const m of items) state.names.set(m.account_id, m.display_name);
  return items;
}
