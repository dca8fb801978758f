// One conversation: header, the message history (grouped by sender and day, with
// receipts, reactions, replies, edits and deletions), typing, and the composer.

import { pausedBanner } from './paused.js';
import { h, focus, announce } from '../dom.js';
import { icon } from '../icons.js';
import { dayKey, dayLabel, firstName, fullDate, joinNames, time } from '../format.js';
import {
  state, on, thread, messagesOf, pendingIn, loadThread, loadOlder, setOpen, setViewing,
  messageById, fetchMessage, nameOf, isStaff, react, redact, revisions, retry, discard,
  updateMySettings, seenAt, typingIn,
} from '../store.js';
import { avatarSubject, counterpart, isGroup, others, statusLine, title } from '../convo.js';
import { avatar, confirmDialog, iconButton, openDialog, openMenu, spinner } from './common.js';
import { composer } from './composer.js';
import { acceptDrops, attachmentsView, pendingFiles } from '../attachments.js';
import { keptFiles, keptTop } from './offline.js';
import { linkify } from '../linkify.js';
import { messageActions, showMessageInfo } from './actions.js';
import { bellAction, bellLabel } from './notify-menu.js';

const GROUP_GAP_MS = 5 * 60 * 1000;
export const QUICK_REACTIONS = [
  ['👍', 'Thumbs up'],
  ['❤️', 'Heart'],
  ['😂', 'Laughing'],
  ['😮', 'Surprised'],
  ['😢', 'Sad'],
  ['🙏', 'Thank you'],
];
const REACTION_NAMES = new Map(QUICK_REACTIONS);

export function threadView(id, { navigate }) {
  const conv = () => state.conversations.get(id);
  const t = thread(id);
  const me = state.me.account_id;
  const cache = new Map();
  const replyCache = new Map();
  let unreadMarker = null;
  let focusedKey = null;
  let lastRenderedSeq = 0;
  let missed = 0;
  let firstPositioned = false;
  let loadingOlder = false;

  // header ---------------------------------------------------------------------------
  const headAvatar = h('span', { class: 'head-avatar' });
  const heading = h('h2', { id: 'thread-title', class: 'thread-title', dir: 'auto' });
  const status = h('p', { class: 'thread-status' });
  const muteBtn = iconButton('bell', 'Mute', () => conv() && bellAction(muteBtn, conv()), { pressed: false });
  const archiveBtn = iconButton('archive', 'Archive', () => toggle('archived'));
  const header = h(
    'header',
    { class: 'thread-head' },
    h('a', { href: '/', class: 'icon-btn back-btn', 'data-link': '', 'aria-label': 'Back to conversations' }, icon('back')),
    headAvatar,
    h('div', { class: 'thread-id' }, heading, status),
    h('div', { class: 'thread-actions' }, muteBtn, archiveBtn),
  );

  async function toggle(field) {
    const c = conv();
    if (!c) return;
    try {
      await updateMySettings(id, { [field]: !c[field] });
      const now = conv();
      if (field === 'archived') {
        announce(now.archived ? 'Conversation archived' : 'Conversation moved to the inbox');
        if (now.archived) navigate('/');
      } else {
        announce(now.muted ? 'Notifications muted' : 'Notifications on');
      }
    } catch (err) {
      announce(err.message, { tone: 'error' });
    }
  }

  function renderHeader() {
    const c = conv();
    if (!c) return;
    const subject = avatarSubject(c);
    headAvatar.replaceChildren(avatar(subject, { presence: subject.presence }));
    heading.textContent = title(c);
    paused.show(c.frozen);
    box.element.hidden = Boolean(c.frozen); // nothing can be sent while it is paused
    const line = statusLine(c);
    status.textContent = line.text;
    status.classList.toggle('is-typing', !!line.typing);
    status.classList.toggle('is-online', !!line.online && !line.typing);
    muteBtn.replaceChildren(icon(c.muted ? 'bellOff' : 'bell'));
    if (c.kind === 'team') {
      muteBtn.removeAttribute('aria-pressed');
      muteBtn.setAttribute('aria-haspopup', 'menu');
      muteBtn.setAttribute('aria-label', bellLabel(c));
    } else {
      muteBtn.setAttribute('aria-pressed', c.muted ? 'true' : 'false');
      muteBtn.setAttribute('aria-label', 'Mute notifications');
    }
    muteBtn.title = bellLabel(c);
    archiveBtn.replaceChildren(icon(c.archived ? 'unarchive' : 'archive'));
    archiveBtn.setAttribute('aria-label', c.archived ? 'Move to inbox' : 'Archive conversation');
    archiveBtn.title = archiveBtn.getAttribute('aria-label');
  }

  // history --------------------------------------------------------------------------
  const top = h('div', { class: 'history-top' });
  const list = h('ol', { class: 'messages', 'aria-label': 'Messages' });
  const typingRow = h('div', { class: 'typing-row', 'aria-hidden': 'true' });
  const scroller = h('div', { class: 'scroller' }, top, list, typingRow);
  const pill = h('button', { type: 'button', class: 'new-pill', hidden: true, onclick: () => scrollToBottom(true) });
  const live = h('div', { class: 'sr-only', 'aria-live': 'polite', 'aria-atomic': 'true' });

  const box = composer(id, {
    placeholder: 'Write a message',
    onSent: () => requestAnimationFrame(() => scrollToBottom(true)),
  });

  const paused = pausedBanner();
  const root = h(
    'section',
    { class: 'thread', 'aria-labelledby': 'thread-title' },
    header,
    paused.element,
    h('div', { class: 'thread-body' }, scroller, pill),
    live,
    box.element,
  );
  acceptDrops(root, (files) => box.addFiles(files));

  function distanceFromBottom() {
    return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight;
  }

  function atBottom() {
    return distanceFromBottom() < 48;
  }

  function scrollToBottom(smooth = false) {
    scroller.scrollTo({ top: scroller.scrollHeight, behavior: smooth ? 'smooth' : 'auto' });
    missed = 0;
    pill.hidden = true;
  }

  scroller.addEventListener('scroll', () => {
    if (atBottom()) {
      missed = 0;
      pill.hidden = true;
    }
    setViewing(t.loaded && atBottom());
    if (scroller.scrollTop < 240 && t.hasMore && !loadingOlder && firstPositioned) older();
  });

  async function older() {
    loadingOlder = true;
    try {
      await loadOlder(id);
    } catch (err) {
      announce(`Earlier messages could not be loaded: ${err.message}`, { tone: 'error' });
    } finally {
      loadingOlder = false;
    }
  }

  // rows -----------------------------------------------------------------------------
  function statusOf(m) {
    const c = conv();
    const peers = others(c);
    if (peers.some((p) => p.read_seq >= m.seq)) return 'read';
    if (peers.some((p) => p.delivered_seq >= m.seq)) return 'delivered';
    return 'sent';
  }

  function ticks(st) {
    const label = { sent: 'Sent', delivered: 'Delivered', read: 'Seen', pending: 'Sending', failed: 'Not sent' }[st];
    const name = { sent: 'check', delivered: 'checks', read: 'checks', pending: 'clock', failed: 'alert' }[st];
    return h('span', { class: ['ticks', `ticks-${st}`] }, icon(name, { size: 16, label }));
  }

  function replyQuote(m) {
    if (!m.reply_to_id) return null;
    let target = messageById(id, m.reply_to_id) || replyCache.get(m.reply_to_id);
    if (!target) {
      replyCache.set(m.reply_to_id, null);
      fetchMessage(m.reply_to_id).then((found) => {
        replyCache.set(found.id, found);
        render();
      }).catch(() => {});
    }
    if (target === null) target = undefined;
    const who = target ? (target.sender_id === me ? 'You' : firstName(nameOf(target.sender_id))) : '';
    const text = !target ? 'Loading…' : target.redacted ? 'Deleted message' : target.text;
    return h(
      'button',
      {
        type: 'button', class: 'quote', 'data-action': 'quote',
        'aria-label': target ? `Reply to ${who}: ${text}. Show original message` : 'Reply to an earlier message',
        onclick: () => showMessage(m.reply_to_id),
      },
      h('span', { class: 'quote-who' }, who),
      h('span', { class: 'quote-text', dir: 'auto' }, text),
    );
  }

  function showMessage(messageId) {
    const el = list.querySelector(`li[data-id="${CSS.escape(messageId)}"]`);
    if (!el) {
      announce('That message is further back in the history.');
      return;
    }
    el.scrollIntoView({ block: 'center', behavior: 'smooth' });
    el.classList.add('flash');
    setTimeout(() => el.classList.remove('flash'), 1600);
    focusedKey = el.dataset.key;
    roving();
    focus(el);
  }

  function reactionChips(m) {
    if (!m.reactions.length) return null;
    return h(
      'div',
      { class: 'reactions' },
      m.reactions.map((r) => {
        const mine = r.account_ids.includes(me);
        const names = r.account_ids.map((a) => (a === me ? 'you' : firstName(nameOf(a))));
        const what = REACTION_NAMES.get(r.emoji) || r.emoji;
        return h(
          'button',
          {
            type: 'button', class: ['chip', mine && 'chip-mine'], 'aria-pressed': mine ? 'true' : 'false',
            'data-action': `chip-${r.emoji}`,
            'aria-label': `${what}: ${joinNames(names)}. ${mine ? 'Remove your reaction' : 'React the same'}`,
            title: joinNames(names),
            onclick: () => toggleReaction(m, r.emoji),
          },
          h('span', { class: 'chip-emoji', 'aria-hidden': 'true' }, r.emoji),
          r.account_ids.length > 1 ? h('span', { class: 'chip-count', 'aria-hidden': 'true' }, String(r.account_ids.length)) : null,
        );
      }),
    );
  }

  async function toggleReaction(m, emoji) {
    const current = messageById(id, m.id) || m;
    const entry = current.reactions.find((r) => r.emoji === emoji);
    const add = !(entry && entry.account_ids.includes(me));
    try {
      await react(current, emoji, add);
    } catch (err) {
      announce(err.code === 'disconnected' ? 'You are offline: try again when connected.' : err.message, { tone: 'error' });
    }
  }

  function toolbar(m) {
    const mine = m.sender_id === me;
    const reactBtn = h('button', {
      type: 'button', class: 'tool', 'data-action': 'react', 'aria-label': 'React', title: 'React', 'aria-haspopup': 'menu',
      onclick: () => openMenu(reactBtn, QUICK_REACTIONS.map(([emoji, name]) => ({
        label: emoji, ariaLabel: name, title: name, cls: 'emoji-item', onselect: () => toggleReaction(m, emoji),
      })), { label: 'Reactions', cls: 'emoji-menu', horizontal: true }),
    }, icon('smile', { size: 18 }));
    const replyBtn = h('button', {
      type: 'button', class: 'tool', 'data-action': 'reply', 'aria-label': 'Reply', title: 'Reply',
      onclick: () => box.reply(messageById(id, m.id) || m),
    }, icon('reply', { size: 18 }));
    const items = [
      m.text && navigator.clipboard && { label: 'Copy text', icon: 'copy', onselect: () => navigator.clipboard.writeText(m.text).then(() => announce('Copied')).catch(() => {}) },
      mine && { label: 'Edit', icon: 'edit', onselect: () => box.edit(messageById(id, m.id) || m) },
      isStaff() && m.revision > 0 && { label: 'Edit history', icon: 'history', onselect: () => showRevisions(m) },
      { label: 'Info', icon: 'info', onselect: () => showMessageInfo(messageById(id, m.id) || m, { me, conversationId: id }) },
      mine && { label: 'Delete', icon: 'trash', danger: true, onselect: () => remove(m) },
    ].filter(Boolean);
    const moreBtn = items.length
      ? h('button', {
        type: 'button', class: 'tool', 'data-action': 'more', 'aria-label': 'More actions', title: 'More', 'aria-haspopup': 'menu',
        onclick: () => openMenu(moreBtn, items, { label: 'Message actions' }),
      }, icon('more', { size: 18 }))
      : null;
    return h('div', { class: 'toolbar', role: 'toolbar', 'aria-label': 'Message actions' }, reactBtn, replyBtn, moreBtn);
  }

  async function remove(m) {
    const ok = await confirmDialog({
      title: 'Delete message?',
      text: 'Everyone in the conversation will see “This message was deleted” instead. The original stays in the care record.',
      confirm: 'Delete',
      danger: true,
    });
    if (!ok) return;
    try {
      await redact(m);
      announce('Message deleted');
    } catch (err) {
      announce(err.message, { tone: 'error' });
    }
  }

  async function showRevisions(m) {
    try {
      const revs = await revisions(m);
      openDialog({
        title: 'Edit history',
        cls: 'dialog-history',
        content: h('ol', { class: 'revisions' }, revs.map((r, i) =>
          h('li', { class: 'revision' },
            h('p', { class: 'revision-meta' }, `${i === 0 ? 'Original' : i === revs.length - 1 ? 'Current' : `Edit ${i}`} · ${fullDate(r.created_at)}`),
            h('p', { class: 'revision-text', dir: 'auto' }, r.text)))),
      });
    } catch (err) {
      announce(err.message, { tone: 'error' });
    }
  }

  function messageRow(m, pos) {
    const mine = m.sender_id === me;
    const c = conv();
    const group = isGroup(c);
    const senderName = nameOf(m.sender_id);
    const st = mine ? statusOf(m) : null;
    const who = mine ? 'You' : senderName;
    const edited = m.edited_at && !m.redacted;
    const bubble = h(
      'div',
      { class: 'bubble' },
      !m.redacted ? replyQuote(m) : null,
      m.redacted
        ? h('p', { class: 'text redacted' }, icon('trash', { size: 14 }), h('span', {}, 'This message was deleted'))
        : [state.offline ? keptFiles(m) : attachmentsView(m), m.text ? h('p', { class: 'text', dir: 'auto' }, linkify(m.text)) : null],
      h(
        'span',
        { class: 'meta' },
        edited
          ? isStaff()
            ? h('button', { type: 'button', class: 'edited-btn', 'data-action': 'history', onclick: () => showRevisions(m), 'aria-label': 'Edited: show edit history' }, 'edited')
            : h('span', { class: 'edited' }, 'edited')
          : null,
        h('time', { datetime: m.created_at, title: fullDate(m.created_at) }, time(m.created_at)),
        mine && !m.redacted ? ticks(st) : null,
      ),
    );
    const showName = group && !mine && pos.first;
    return h(
      'li',
      {
        class: ['msg', mine ? 'mine' : 'theirs', pos.first && 'first', pos.last && 'last', group && 'in-group', m.redacted && 'is-redacted'],
        'data-key': rowKey(m), 'data-id': m.id, tabindex: '-1',
        'aria-label': `${who}, ${time(m.created_at)}${edited ? ', edited' : ''}`,
      },
      !mine && group ? (pos.last ? avatar({ id: m.sender_id, name: senderName }, { size: 'sm' }) : h('span', { class: 'avatar-gap' })) : null,
      h(
        'div',
        { class: 'msg-col' },
        showName ? h('span', { class: 'sender', dir: 'auto' }, senderName) : null,
        h('div', { class: 'msg-line' }, bubble, m.redacted ? null : toolbar(m)),
        reactionChips(m),
      ),
    );
  }

  function pendingRow(item) {
    const waiting = state.connection !== 'ready';
    const failed = item.state === 'failed';
    const note = failed
      ? `Not sent: ${item.error || 'refused'}`
      : item.state === 'scanning' ? 'Sending when the scan finishes'
        : waiting ? 'Waiting for connection' : 'Sending…';
    // Refused files: it can go without them, if anything is left to send.
    const without = item.refused && item.refused.length;
    const canRetry = !without || item.text || (item.attachments && item.attachments.length);
    return h(
      'li',
      { class: ['msg', 'mine', 'first', 'last', 'pending', failed && 'failed'], 'data-key': `c:${item.client_msg_id}`, tabindex: '-1', 'aria-label': `You, ${note}` },
      h(
        'div',
        { class: 'msg-col' },
        h('div', { class: 'msg-line' },
          h('div', { class: 'bubble' },
            pendingFiles(item),
            item.text ? h('p', { class: 'text', dir: 'auto' }, item.text) : null,
            h('span', { class: 'meta' }, h('span', { class: 'pending-note' }, note), ticks(failed ? 'failed' : 'pending')))),
        failed
          ? h('div', { class: 'pending-actions' },
            canRetry ? h('button', { type: 'button', class: 'btn btn-small', 'data-action': 'retry', onclick: () => retry(item.client_msg_id) }, without ? `Send without ${item.refused.join(', ')}` : 'Try again') : null,
            h('button', { type: 'button', class: 'btn btn-small btn-quiet', 'data-action': 'discard', onclick: () => discard(item.client_msg_id) }, 'Delete'))
          : null,
      ),
    );
  }

  function receiptLine(m) {
    const c = conv();
    const readers = others(c).filter((p) => p.read_seq >= m.seq);
    let text;
    if (readers.length) {
      const when = readers.map((p) => seenAt(id, p.account_id, m.seq)).filter(Boolean).sort()[0];
      const names = joinNames(readers.map((p) => firstName(p.display_name)));
      text = `Seen by ${names}${when ? ` · ${time(when)}` : ''}`;
    } else {
      text = statusOf(m) === 'delivered' ? 'Delivered' : 'Sent';
    }
    return h('li', { class: ['receipt-line', readers.length && 'is-seen'], 'data-key': 'receipt' }, text);
  }

  // A row's identity. My own messages are keyed by their client id, so the pending row
  // and the delivered message are the same row (focus and position carry over).
  function rowKey(m) {
    return m.sender_id === me ? `c:${m.client_msg_id}` : `m:${m.id}`;
  }

  function cached(key, sig, build) {
    const hit = cache.get(key);
    if (hit && hit.sig === sig) return hit.node;
    const node = build();
    cache.set(key, { sig, node });
    return node;
  }

  function entries() {
    const msgs = messagesOf(id);
    const out = [];
    let prev = null;
    let dividerPlaced = false;
    // Replying is reading: the divider goes once I have written below it.
    if (unreadMarker !== null && (pendingIn(id).length || msgs.some((m) => m.sender_id === me && m.seq > unreadMarker))) unreadMarker = null;
    const firstUnread = unreadMarker === null ? null : msgs.find((m) => m.seq > unreadMarker && m.sender_id !== me);
    // Consecutive messages of one sender, the same day, a few minutes apart form a group
    // (one name, one avatar, joined bubble corners); the unread divider breaks a group.
    const joins = (a, b) => !!a && !!b && a.sender_id === b.sender_id && dayKey(a.created_at) === dayKey(b.created_at)
      && Date.parse(b.created_at) - Date.parse(a.created_at) < GROUP_GAP_MS && b !== firstUnread;
    const positions = msgs.map((m, i) => ({ first: !joins(msgs[i - 1], m), last: !joins(m, msgs[i + 1]) }));
    const group = isGroup(conv());
    const lastMine = [...msgs].reverse().find((m) => m.sender_id === me && !m.redacted);
    const lastMessage = msgs[msgs.length - 1];
    msgs.forEach((m, i) => {
      if (!prev || dayKey(prev.created_at) !== dayKey(m.created_at)) {
        const key = `d:${dayKey(m.created_at)}`;
        out.push(cached(key, dayLabel(m.created_at), () =>
          h('li', { class: 'day', 'data-key': key }, h('span', { class: 'day-label' }, dayLabel(m.created_at)))));
      }
      if (m === firstUnread && !dividerPlaced) {
        dividerPlaced = true;
        out.push(cached('unread', 'u', () => h('li', { class: 'unread-divider', 'data-key': 'unread' }, h('span', {}, 'Unread messages'))));
      }
      const pos = positions[i];
      const st = m.sender_id === me ? statusOf(m) : '';
      const reply = m.reply_to_id ? messageById(id, m.reply_to_id) || replyCache.get(m.reply_to_id) : null;
      const sig = JSON.stringify([
        m.text, m.revision, m.redacted, m.reactions, pos, st, group, m.edited_at,
        reply ? [reply.text, reply.redacted] : null, nameOf(m.sender_id), isStaff(),
        (m.attachments || []).map((a) => a.id), !!state.offline,
      ]);
      out.push(cached(rowKey(m), sig, () => messageRow(m, pos)));
      prev = m;
    });
    const pending = pendingIn(id);
    const pendingSig = state.connection;
    for (const item of pending) {
      out.push(cached(`c:${item.client_msg_id}`, JSON.stringify(['pending', item.state, item.error, pendingSig]), () => pendingRow(item)));
    }
    if (lastMine && lastMine === lastMessage && !pending.length) {
      const readers = others(conv()).filter((p) => p.read_seq >= lastMine.seq).map((p) => p.account_id);
      const sig = JSON.stringify([lastMine.id, statusOf(lastMine), readers, readers.map((a) => seenAt(id, a, lastMine.seq))]);
      out.push(cached('receipt', sig, () => receiptLine(lastMine)));
    }
    return out;
  }

  function renderTop() {
    const c = conv();
    if (t.error && !t.loaded) {
      top.replaceChildren(h('p', { class: 'form-error', role: 'alert' }, `Messages could not be loaded: ${t.error.message}`));
    } else if (state.offline && t.hasMore) {
      top.replaceChildren(keptTop(t));
    } else if (!t.loaded || t.hasMore) {
      top.replaceChildren(spinner(t.loaded ? 'Loading earlier messages' : 'Loading messages'));
    } else if (c) {
      const subject = avatarSubject(c);
      const who = counterpart(c);
      top.replaceChildren(
        h('div', { class: 'start-card' },
          avatar(subject, { size: 'lg' }),
          h('p', { class: 'start-title', dir: 'auto' }, title(c)),
          h('p', { class: 'start-text' },
            who
              ? `This is the beginning of your conversation with ${firstName(who.display_name)}.`
              : 'This is the beginning of the conversation.'),
          h('p', { class: 'start-note' }, icon('lock', { size: 14 }), h('span', {}, 'Encrypted and kept in the care record'))),
      );
    }
  }

  function renderTyping() {
    const typers = typingIn(id);
    const stick = atBottom();
    if (!typers.length) {
      typingRow.replaceChildren();
      typingRow.hidden = true;
    } else {
      typingRow.hidden = false;
      typingRow.replaceChildren(
        h('div', { class: 'typing-bubble' }, h('span', { class: 'dot' }), h('span', { class: 'dot' }), h('span', { class: 'dot' })),
        h('span', { class: 'typing-name' }, `${joinNames(typers.map((a) => firstName(nameOf(a))))} ${typers.length > 1 ? 'are' : 'is'} typing`),
      );
    }
    if (stick) scrollToBottom();
  }

  // One Tab stop for the whole history (arrow keys move within it). Coming in from
  // outside, it is the newest message; within, the one last focused.
  function roving() {
    const rows = [...list.querySelectorAll('li.msg')];
    if (!rows.length) return;
    const inside = list.contains(document.activeElement);
    let current = inside && focusedKey && rows.find((r) => r.dataset.key === focusedKey);
    if (!current) current = rows[rows.length - 1];
    for (const r of rows) r.setAttribute('tabindex', r === current ? '0' : '-1');
  }

  list.addEventListener('focusin', (ev) => {
    const row = ev.target.closest('li.msg');
    if (row) {
      focusedKey = row.dataset.key;
      roving();
    }
  });
  list.addEventListener('focusout', (ev) => {
    if (!list.contains(ev.relatedTarget)) requestAnimationFrame(roving);
  });
  list.addEventListener('keydown', (ev) => {
    if (!ev.target.matches('li.msg')) return;
    const rows = [...list.querySelectorAll('li.msg')];
    const i = rows.indexOf(ev.target);
    let next = null;
    if (ev.key === 'ArrowUp') next = rows[Math.max(0, i - 1)];
    else if (ev.key === 'ArrowDown') next = rows[Math.min(rows.length - 1, i + 1)];
    else if (ev.key === 'Home') next = rows[0];
    else if (ev.key === 'End') next = rows[rows.length - 1];
    if (next) {
      ev.preventDefault();
      focus(next);
      next.scrollIntoView({ block: 'nearest' });
      if (ev.key === 'ArrowUp' && i === 0 && t.hasMore) older();
    }
  });

  function render() {
    const c = conv();
    if (!c) return;
    renderHeader();
    renderTop();
    const wasBottom = atBottom();
    const oldHeight = scroller.scrollHeight;
    const oldTop = scroller.scrollTop;
    const firstBefore = list.querySelector('li.msg');
    const active = document.activeElement;
    const activeRow = active && list.contains(active) ? active.closest('li[data-key]') : null;
    const activeKey = activeRow ? activeRow.dataset.key : null;
    const activeAction = active && active.dataset ? active.dataset.action : null;

    const desired = entries();
    const keep = new Set(desired);
    for (const child of [...list.children]) if (!keep.has(child)) child.remove();
    let cursor = list.firstChild;
    for (const node of desired) {
      if (node === cursor) cursor = cursor.nextSibling;
      else list.insertBefore(node, cursor);
    }
    const liveKeys = new Set(desired.map((n) => n.dataset.key));
    for (const key of [...cache.keys()]) if (!liveKeys.has(key)) cache.delete(key);
    roving();

    if (activeKey && !list.contains(document.activeElement)) {
      const row = list.querySelector(`li[data-key="${CSS.escape(activeKey)}"]`);
      const target = row && activeAction ? row.querySelector(`[data-action="${CSS.escape(activeAction)}"]`) : null;
      // The row first: its toolbar is only visible (so focusable) while focus is within.
      if (row) focus(row);
      if (target) focus(target);
    }

    const msgs = messagesOf(id);
    const last = msgs[msgs.length - 1];
    const newest = last ? last.seq : 0;
    const prepended = firstBefore && list.querySelector('li.msg') !== firstBefore && newest === lastRenderedSeq;
    if (!firstPositioned && t.loaded) {
      firstPositioned = true;
      const divider = list.querySelector('.unread-divider');
      if (divider && divider.offsetTop > scroller.clientHeight) {
        scroller.scrollTop = divider.offsetTop - 16;
      } else {
        scrollToBottom();
      }
    } else if (prepended) {
      scroller.scrollTop = oldTop + (scroller.scrollHeight - oldHeight);
    } else if (newest > lastRenderedSeq && lastRenderedSeq) {
      const fresh = msgs.filter((m) => m.seq > lastRenderedSeq);
      const theirs = fresh.filter((m) => m.sender_id !== me);
      if (theirs.length) {
        const latest = theirs[theirs.length - 1];
        live.textContent = `${firstName(nameOf(latest.sender_id))}: ${latest.redacted ? 'deleted message' : latest.text}`;
      }
      if (wasBottom || fresh.some((m) => m.sender_id === me)) {
        scrollToBottom();
      } else if (theirs.length) {
        missed += theirs.length;
        pill.replaceChildren(icon('arrowDown', { size: 16 }), h('span', {}, missed === 1 ? '1 new message' : `${missed} new messages`));
        pill.hidden = false;
      }
    } else if (wasBottom) {
      scrollToBottom();
    }
    if (t.loaded) lastRenderedSeq = Math.max(lastRenderedSeq, newest);
    setViewing(t.loaded && atBottom());
  }

  // Long press, swipe to reply, and the toolbar going away after use (views/actions.js).
  const actions = messageActions(list, {
    conversationId: id,
    reactions: QUICK_REACTIONS,
    act: {
      reply: (m) => box.reply(messageById(id, m.id) || m),
      edit: (m) => box.edit(messageById(id, m.id) || m),
      react: toggleReaction,
      remove,
      history: showRevisions,
    },
  });

  // lifecycle ------------------------------------------------------------------------
  const c0 = conv();
  unreadMarker = c0 && c0.unread > 0 ? c0.read_seq : null;
  setOpen(id);
  const subscriptions = [
    on('thread', (which) => which === id && render()),
    on('conversations', renderHeader),
    on('presence', () => { renderHeader(); }),
    on('typing', (which) => {
      if (which !== id) return;
      renderHeader();
      renderTyping();
    }),
    on('connection', () => render()),
  ];
  renderTyping();
  if (!t.loaded) loadThread(id);
  render();
  requestAnimationFrame(() => box.focus());

  root.dispose = () => {
    box.flushDraft();
    box.dispose();
    actions.dispose();
    subscriptions.forEach((off) => off());
    setViewing(false);
    setOpen(null);
  };
  root.composer = box;
  return root;
}
