// Message actions for touch and for the pointer: the action sheet a long press opens
// (react, reply, copy, edit, delete, info), swipe right to reply, and the hover
// toolbar's manners (it goes away after an action, on Escape and when the pointer leaves).

import { h, focus, announce } from '../dom.js';
import { icon } from '../icons.js';
import { firstName, fullDate, joinNames, time } from '../format.js';
import { state, messageById, nameOf, isStaff, seenAt } from '../store.js';
import { others } from '../convo.js';
import { gestures } from '../gestures.js';

const T = {
  sheetTitle: 'Message actions',
  react: 'React',
  reply: 'Reply',
  copy: 'Copy text',
  copied: 'Copied',
  edit: 'Edit',
  history: 'Edit history',
  delete: 'Delete',
  info: 'Info',
  cancel: 'Cancel',
  infoTitle: 'Message info',
  from: 'From',
  sent: 'Sent',
  edited: 'Edited',
  status: 'Status',
  you: 'You',
  seenBy: (names) => `Seen by ${names}`,
  delivered: 'Delivered',
  notYetDelivered: 'Sent, not yet delivered',
  close: 'Close',
  removeReaction: (name) => `${name} (remove your reaction)`,
};
const REDUCED = typeof matchMedia === 'function' ? matchMedia('(prefers-reduced-motion: reduce)') : null;

/**
 * Wire the history list of one thread. `act` holds what the thread does:
 * {reply(m), react(m, emoji), edit(m), remove(m), history(m)}; `reactions` is the quick
 * reaction list [[emoji, name]]. Returns {dispose}.
 */
export function messageActions(list, { conversationId, reactions, act }) {
  const me = state.me.account_id;
  const messageOf = (row) => messageById(conversationId, row.dataset.id);
  const select = (target) => {
    const row = target.closest && target.closest('li.msg');
    if (!row || !list.contains(row) || row.matches('.pending, .is-redacted')) return null;
    if (target.closest('.toolbar') || !messageOf(row)) return null;
    return row;
  };

  const stopGestures = gestures(list, {
    select,
    onLongPress: (row) => {
      const m = messageOf(row);
      if (m && !m.redacted) openSheet(row, m, { me, conversationId, reactions, act });
    },
    onSwipe: (row) => {
      const m = messageOf(row);
      if (m && !m.redacted) act.reply(m);
    },
    onDrag: dragHint,
    onEnd: endHint,
  });
  const stopToolbar = toolbarManners(list);
  return {
    dispose() {
      stopGestures();
      stopToolbar();
    },
  };
}

// swipe hint --------------------------------------------------------------------------

function dragHint(row, dx, ready) {
  let hint = row.querySelector(':scope > .swipe-hint');
  if (!hint) {
    hint = h('span', { class: 'swipe-hint', 'aria-hidden': 'true' }, icon('reply', { size: 18 }));
    row.prepend(hint);
    row.classList.add('swiping');
  }
  hint.classList.toggle('is-ready', ready);
  hint.style.setProperty('--swipe-progress', String(Math.min(1, dx / 64)));
  // With reduced motion the bubble stays put; the hint alone grows and says when to let go.
  const line = row.querySelector('.msg-col');
  if (line && !(REDUCED && REDUCED.matches)) line.style.setProperty('transform', `translateX(${dx}px)`);
}

function endHint(row) {
  const hint = row.querySelector(':scope > .swipe-hint');
  if (hint) hint.remove();
  row.classList.remove('swiping');
  const line = row.querySelector('.msg-col');
  if (line) line.style.removeProperty('transform');
}

// the hover toolbar -------------------------------------------------------------------

/** The toolbar shows while a pointer is over its message or focus is within; after an
 * action chosen with the pointer, or Escape, it goes until the pointer leaves the row or
 * comes back to it (a keyboard user's next key brings it back). */
function toolbarManners(list) {
  // By the row's key: an action often re-renders its row (a reaction, an edit), and the
  // new element must stay without its toolbar too.
  let offKey = null;
  const offRow = () => (offKey ? list.querySelector(`li.msg[data-key="${CSS.escape(offKey)}"]`) : null);
  const hide = (row) => {
    const before = offRow();
    if (before) before.classList.remove('tools-off');
    offKey = row ? row.dataset.key : null;
    if (row) row.classList.add('tools-off');
  };
  const rerendered = new MutationObserver(() => {
    const row = offRow();
    if (row) row.classList.add('tools-off');
  });
  rerendered.observe(list, { childList: true });
  const onClick = (ev) => {
    const tool = ev.target.closest && ev.target.closest('.toolbar [data-action]');
    // detail 0: a click made with the keyboard, whose user keeps their place in the toolbar.
    if (!tool || ev.detail === 0 || ['react', 'more'].includes(tool.dataset.action)) return;
    hide(tool.closest('li.msg'));
  };
  const onMenuClick = (ev) => {
    if (ev.detail === 0 || !ev.target.closest || !ev.target.closest('.menu-item')) return;
    const row = list.querySelector('li.msg.has-menu');
    if (row) hide(row);
  };
  // Leaving the row, or coming back to it from elsewhere (after a menu), ends it.
  const onBoundary = (ev) => {
    const row = offRow();
    if (row && row.contains(ev.target) && !row.contains(ev.relatedTarget)) hide(null);
  };
  const onKey = (ev) => {
    const row = ev.target.closest && ev.target.closest('li.msg');
    if (!row) return;
    if (ev.key === 'Escape' && !ev.defaultPrevented) {
      if (ev.target !== row) focus(row);
      hide(row);
    } else if (row.dataset.key === offKey) {
      hide(null);
    }
  };
  // Focus inside the toolbar keeps it on screen where only focus brings it (a phone).
  // Set as focus leaves for the toolbar, not after: the browser drops focus that would
  // land on an element no longer shown.
  const inToolbar = (row, el) => !!(el && el.closest && row.contains(el) && el.closest('.toolbar'));
  const onFocusIn = (ev) => {
    const row = ev.target.closest && ev.target.closest('li.msg');
    if (row) row.classList.toggle('tools-focus', inToolbar(row, ev.target));
  };
  const onFocusOut = (ev) => {
    const row = ev.target.closest && ev.target.closest('li.msg');
    if (row) row.classList.toggle('tools-focus', inToolbar(row, ev.relatedTarget));
  };
  list.addEventListener('click', onClick);
  list.addEventListener('focusin', onFocusIn);
  list.addEventListener('focusout', onFocusOut);
  list.addEventListener('pointerout', onBoundary);
  list.addEventListener('pointerover', onBoundary);
  list.addEventListener('keydown', onKey);
  document.addEventListener('click', onMenuClick, true);
  return () => {
    rerendered.disconnect();
    list.removeEventListener('click', onClick);
    list.removeEventListener('focusin', onFocusIn);
    list.removeEventListener('focusout', onFocusOut);
    list.removeEventListener('pointerout', onBoundary);
    list.removeEventListener('pointerover', onBoundary);
    list.removeEventListener('keydown', onKey);
    document.removeEventListener('click', onMenuClick, true);
  };
}

// the sheet ---------------------------------------------------------------------------

let sheetSeq = 0;

/** The action sheet for message `m` of `row`: a modal dialog (focus inside, announced by
 * its name), closed by Escape, a tap outside, Back, Cancel, or choosing an action. */
export function openSheet(row, m, { me, conversationId, reactions, act }) {
  document.querySelectorAll('dialog.sheet').forEach((d) => d.close());
  sheetSeq += 1;
  const titleId = `sheet-title-${sheetSeq}`;
  const previewId = `sheet-preview-${sheetSeq}`;
  const mine = m.sender_id === me;
  let chosen = null;
  const choose = (fn) => () => {
    chosen = fn;
    dlg.close();
  };

  const mineReactions = new Set(m.reactions.filter((r) => r.account_ids.includes(me)).map((r) => r.emoji));
  const reactRow = h('div', { class: 'sheet-reactions', role: 'group', 'aria-label': T.react },
    reactions.map(([emoji, name]) => h('button', {
      type: 'button', class: 'sheet-emoji', 'data-action': `react-${emoji}`,
      'aria-label': mineReactions.has(emoji) ? T.removeReaction(name) : name,
      'aria-pressed': mineReactions.has(emoji) ? 'true' : 'false',
      onclick: choose(() => act.react(m, emoji)),
    }, h('span', { 'aria-hidden': 'true' }, emoji))));

  const item = (action, label, iconNode, fn, danger = false) => h('li', {},
    h('button', { type: 'button', class: ['sheet-item', danger && 'sheet-danger'], 'data-action': action, onclick: choose(fn) },
      iconNode, h('span', {}, label)));
  // The same rules as the toolbar: anyone replies, reacts and copies; only the sender
  // edits or deletes; staff read the history of an edited message.
  const items = [
    item('reply', T.reply, icon('reply', { size: 20 }), () => act.reply(m)),
    m.text && navigator.clipboard && item('copy', T.copy, icon('copy', { size: 20 }), () => copy(m.text)),
    mine && item('edit', T.edit, icon('edit', { size: 20 }), () => act.edit(m)),
    isStaff() && m.revision > 0 && item('history', T.history, icon('history', { size: 20 }), () => act.history(m)),
    item('info', T.info, icon('info', { size: 20 }), () => showMessageInfo(m, { me, conversationId })),
    mine && item('delete', T.delete, icon('trash', { size: 20 }), () => act.remove(m), true),
  ].filter(Boolean);

  const who = mine ? T.you : nameOf(m.sender_id);
  const dlg = h('dialog', { class: 'sheet', 'aria-labelledby': titleId, 'aria-describedby': previewId },
    h('div', { class: 'sheet-panel' },
      h('span', { class: 'sheet-grip', 'aria-hidden': 'true' }),
      h('h2', { id: titleId, class: 'sr-only' }, T.sheetTitle),
      h('p', { id: previewId, class: 'sheet-preview' },
        h('span', { class: 'sheet-who', dir: 'auto' }, `${who} · ${time(m.created_at)}`),
        m.text ? h('span', { class: 'sheet-text', dir: 'auto' }, m.text) : null),
      reactRow,
      h('ul', { class: 'sheet-list' }, items),
      h('button', { type: 'button', class: 'sheet-item sheet-cancel', onclick: () => dlg.close() }, T.cancel)));

  // Back (the browser's, or a phone's) closes the sheet rather than leaving the thread:
  // the sheet takes one history entry of the same address, given back when it closes.
  history.pushState({ ...(history.state || {}), careSheet: sheetSeq }, '', location.href);
  const mark = sheetSeq;
  const onPop = () => dlg.close();
  window.addEventListener('popstate', onPop);

  dlg.addEventListener('click', (ev) => {
    if (ev.target === dlg) dlg.close();
  });
  dlg.addEventListener('close', () => {
    window.removeEventListener('popstate', onPop);
    if (history.state && history.state.careSheet === mark) history.back();
    dlg.remove();
    if (row.isConnected) focus(row);
    // After focus went back to the row, so an action that moves focus (reply, edit) keeps it.
    if (chosen) chosen();
  });
  document.body.append(dlg);
  dlg.showModal();
  focus(dlg.querySelector('.sheet-item'));
  return dlg;
}

function copy(text) {
  navigator.clipboard.writeText(text).then(() => announce(T.copied)).catch(() => {});
}

function statusText(m, conversationId) {
  const conv = state.conversations.get(conversationId);
  const peers = conv ? others(conv) : [];
  const readers = peers.filter((p) => p.read_seq >= m.seq);
  if (readers.length) {
    return readers.map((p) => {
      const when = seenAt(conversationId, p.account_id, m.seq);
      return `${T.seenBy(firstName(p.display_name))}${when ? ` · ${fullDate(when)}` : ''}`;
    });
  }
  const delivered = peers.filter((p) => p.delivered_seq >= m.seq);
  if (delivered.length) return [`${T.delivered} · ${joinNames(delivered.map((p) => firstName(p.display_name)))}`];
  return [T.notYetDelivered];
}

/** What the client knows of a message: who, when sent and edited, and (for one's own)
 * delivered or seen, by whom. */
export function showMessageInfo(m, { me, conversationId }) {
  const mine = m.sender_id === me;
  const row = (label, values) => [h('dt', {}, label), ...values.map((v) => h('dd', {}, v))];
  const dlg = h('dialog', { class: 'dialog dialog-small sheet-info', 'aria-labelledby': 'message-info-title' },
    h('div', { class: 'dialog-head' },
      h('h2', { id: 'message-info-title', class: 'dialog-title' }, T.infoTitle),
      h('button', { type: 'button', class: 'icon-btn', 'aria-label': T.close, title: T.close, onclick: () => dlg.close() }, icon('x'))),
    h('div', { class: 'dialog-body' },
      h('dl', { class: 'info-list' },
        row(T.from, [mine ? T.you : nameOf(m.sender_id)]),
        row(T.sent, [fullDate(m.created_at)]),
        m.edited_at ? row(T.edited, [fullDate(m.edited_at)]) : null,
        mine ? row(T.status, statusText(m, conversationId)) : null)));
  const opener = document.activeElement;
  dlg.addEventListener('click', (ev) => {
    if (ev.target === dlg) dlg.close();
  });
  dlg.addEventListener('close', () => {
    dlg.remove();
    if (opener && opener.isConnected) focus(opener);
  });
  document.body.append(dlg);
  dlg.showModal();
}
