// Unread escalation in the staff inbox (docs/notifications.md, "escalation"): a
// conversation whose message from a client or guardian was escalated unread says since
// when it waits. The list's `waiting_since` sets it; the `conversation.waiting` socket
// event keeps it live (store.js).

import { h } from './dom.js';
import { icon } from './icons.js';
import { time, fullDate } from './format.js';

const WORDS = {
  since: (when) => `Waiting since ${when}`,
  spoken: (when) => `waiting for a reply since ${when}`,
};

function sameDay(a, b) {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

/** "9:41" today, else the date and time. */
export function waitingWhen(value) {
  const d = new Date(value);
  return sameDay(d, new Date()) ? time(d) : fullDate(d);
}

/** The row's note, or null when nothing waits (or the viewer is not staff). */
export function waitingNote(conv, isStaff) {
  if (!isStaff || !conv.waiting_since) return null;
  const when = waitingWhen(conv.waiting_since);
  return h(
    'span',
    { class: 'conv-waiting', title: fullDate(conv.waiting_since) },
    icon('clock', { size: 14 }),
    h('span', { 'aria-hidden': 'true' }, WORDS.since(when)),
    h('span', { class: 'sr-only' }, `, ${WORDS.spoken(when)}`),
  );
}

/** For store.js: a conversation.waiting frame of this organisation. */
export function applyWaiting(conversations, frame, tenantId) {
  if (frame.tenant_id && frame.tenant_id !== tenantId) return false;
  const conv = conversations.get(frame.conversation_id);
  if (!conv) return false;
  conv.waiting_since = frame.waiting_since || null;
  return true;
}
