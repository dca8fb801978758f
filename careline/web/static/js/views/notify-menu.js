// The thread's bell: mute on or off; in a team conversation, a menu of "All messages",
// "Only replies to me" and "Mute" (the one that applies is checked).

import { announce } from '../dom.js';
import { updateMySettings } from '../store.js';
import { openMenu } from './common.js';

const WORDS = {
  menu: 'Notifications for this conversation',
  all: 'All messages',
  replies: 'Only replies to me',
  mute: 'Mute',
  announceAll: 'You will be told of every message',
  announceReplies: 'You will be told only of replies to you',
  muted: 'Notifications muted',
  on: 'Notifications on',
};

async function change(id, changes, said) {
  try {
    await updateMySettings(id, changes);
    announce(said);
  } catch (err) {
    announce(err.message, { tone: 'error' });
  }
}

export function bellAction(button, conv) {
  if (conv.kind !== 'team') {
    change(conv.id, { muted: !conv.muted }, conv.muted ? WORDS.on : WORDS.muted);
    return;
  }
  const items = [
    { key: 'all', label: WORDS.all, checked: !conv.muted && conv.notify !== 'replies', onselect: () => change(conv.id, { notify: 'all', muted: false }, WORDS.announceAll) },
    { key: 'replies', label: WORDS.replies, checked: !conv.muted && conv.notify === 'replies', onselect: () => change(conv.id, { notify: 'replies', muted: false }, WORDS.announceReplies) },
    { key: 'mute', label: WORDS.mute, checked: conv.muted, onselect: () => change(conv.id, { muted: true }, WORDS.muted) },
  ];
  const menu = openMenu(button, items, { label: WORDS.menu, cls: 'notify-menu' });
  menu.querySelectorAll('.menu-item').forEach((el, i) => {
    el.setAttribute('role', 'menuitemradio');
    el.setAttribute('aria-checked', items[i].checked ? 'true' : 'false');
  });
}

// What the bell says it does, for its label and tooltip.
export function bellLabel(conv) {
  if (conv.kind !== 'team') return conv.muted ? 'Unmute notifications' : 'Mute notifications';
  if (conv.muted) return 'Notifications: muted';
  return conv.notify === 'replies' ? 'Notifications: only replies to me' : 'Notifications: all messages';
}
