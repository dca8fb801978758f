// The bell: my unread notifications' count in every portal's header, and a dropdown with
// the history grouped by conversation, newest first, paged; mark one or all read; a click
// opens the conversation (the thread opens at its first unread message). Live: it
// re-renders on the 'notifications' topic (js/notifications.js keeps every device in step).

import { h, focus, announce } from '../dom.js';
import { icon } from '../icons.js';
import { relativeMoment } from '../format.js';
import { state, on } from '../store.js';
import { title } from '../convo.js';
import {
  centre, groups, loadNotifications, loadOlderNotifications, markAllRead, markRead,
} from '../notifications.js';

const WORDS = {
  heading: 'Notifications',
  button: (n) => (n ? `Notifications, ${n} unread` : 'Notifications'),
  markAll: 'Mark all read',
  markOne: 'Mark read',
  markOneFor: (name) => `Mark read: ${name}`,
  older: 'Show older',
  empty: 'Nothing new. When someone writes to you, it shows here.',
  loading: 'Loading notifications…',
  failed: 'Notifications could not be loaded.',
  noneNew: 'No new messages',
  conversation: 'A conversation',
  kinds: {
    message: ['1 new message', (n) => `${n} new messages`],
    escalation: ['1 message from a client is waiting for a reply', (n) => `${n} messages from a client are waiting for a reply`],
    'escalation.admin': ['1 message from a client is still waiting for a reply', (n) => `${n} messages from a client are still waiting for a reply`],
    alert: ['An alert was raised', (n) => `${n} alerts were raised`],
    intervention: ['An admin intervened in a conversation', (n) => `Admins intervened in conversations ${n} times`],
  },
  // Kinds about no conversation: their name in the list, and where a click leads.
  // An intervention (break-glass) is told to the other admins, who look at it there.
  pages: { alert: ['Monitoring', '/admin/monitoring'], intervention: ['Conversations', '/admin/conversations'] },
  other: ['1 new notification', (n) => `${n} new notifications`],
};

function target(group) {
  if (WORDS.pages[group.kind]) return WORDS.pages[group.kind][1];
  return group.conversation_id ? `/c/${group.conversation_id}` : '/';
}

function countText(kind, n) {
  const [one, many] = WORDS.kinds[kind] || WORDS.other;
  return n === 1 ? one : many(n);
}

function nameOf(group) {
  if (WORDS.pages[group.kind]) return WORDS.pages[group.kind][0];
  const conv = group.conversation_id && state.conversations.get(group.conversation_id);
  return conv ? title(conv) : WORDS.conversation;
}

let panelSeq = 0;

export function bell({ navigate }) {
  const panelId = `bell-panel-${++panelSeq}`;
  const badge = h('span', { class: 'bell-badge', hidden: true, 'aria-hidden': 'true' });
  const label = h('span', { class: 'sr-only' }, WORDS.button(0));
  const button = h('button', {
    type: 'button', class: 'icon-btn bell-btn', 'aria-expanded': 'false', 'aria-controls': panelId,
    title: WORDS.heading, onclick: () => (panel.hidden ? open() : close(true)),
  }, icon('bell', { size: 20 }), label, badge);

  const list = h('ul', { class: 'bell-list', 'aria-label': WORDS.heading });
  const status = h('p', { class: 'bell-status', role: 'status' });
  const all = h('button', { type: 'button', class: 'btn btn-small btn-quiet bell-all', onclick: () => centre.unread && act(markAllRead()) }, WORDS.markAll);
  const older = h('button', { type: 'button', class: 'btn btn-small bell-older', hidden: true, onclick: () => act(loadOlderNotifications()) }, WORDS.older);
  const panel = h('div', { class: 'bell-panel', id: panelId, role: 'region', 'aria-label': WORDS.heading, hidden: true },
    h('div', { class: 'bell-head' }, h('h2', {}, WORDS.heading), all),
    status, list, older);
  const root = h('div', { class: 'bell' }, button, panel);

  function act(promise) {
    promise.catch((err) => announce(err.message, { tone: 'error' }));
  }

  function render() {
    const n = centre.unread;
    badge.textContent = n > 99 ? '99+' : String(n);
    badge.hidden = n === 0;
    label.textContent = WORDS.button(n);
    button.classList.toggle('has-unread', n > 0);
    if (panel.hidden) return;
    // aria-disabled, not disabled: the button keeps focus once everything is read.
    all.setAttribute('aria-disabled', n === 0 ? 'true' : 'false');
    older.hidden = !centre.cursor;
    const shown = groups();
    status.textContent = !centre.loaded ? WORDS.loading : shown.length ? '' : WORDS.empty;
    status.hidden = !status.textContent;
    list.replaceChildren(...shown.map(row));
  }

  function row(group) {
    const name = nameOf(group);
    const open = group.records.filter((r) => !r.read_at);
    const openIt = h('a', {
      href: target(group), class: 'bell-open',
      onclick: (ev) => {
        if (ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
        ev.preventDefault();
        if (open.length) act(markRead(open.map((r) => r.id)));
        close(false);
        if (group.conversation_id || WORDS.pages[group.kind]) navigate(target(group));
      },
    },
    h('span', { class: 'bell-name' }, name),
    h('span', { class: 'bell-what' }, open.length ? countText(group.kind, group.unread) : WORDS.noneNew),
    h('span', { class: 'bell-when' }, relativeMoment(group.at)));
    const mark = open.length
      ? h('button', {
        type: 'button', class: 'icon-btn bell-mark', title: WORDS.markOne, 'aria-label': WORDS.markOneFor(name),
        onclick: () => {
          act(markRead(open.map((r) => r.id)));
          // The button goes with the unread state: focus stays on its row.
          const again = [...list.querySelectorAll('.bell-item')].find((li) => li.dataset.key === group.key);
          focus(again && again.querySelector('a'));
        },
      }, icon('check', { size: 18 }))
      : null;
    return h('li', {
      class: ['bell-item', open.length ? 'is-unread' : 'is-read'],
      dataset: { key: group.key, conversation: group.conversation_id || '', firstSeq: group.firstSeq === null ? '' : String(group.firstSeq) },
    }, openIt, mark);
  }

  function open() {
    panel.hidden = false;
    button.setAttribute('aria-expanded', 'true');
    document.addEventListener('pointerdown', outside, true);
    render();
    loadNotifications().catch(() => {
      status.textContent = WORDS.failed;
      status.hidden = false;
    });
    requestAnimationFrame(() => focus(list.querySelector('a') || all));
  }

  function close(refocus) {
    if (panel.hidden) return;
    panel.hidden = true;
    button.setAttribute('aria-expanded', 'false');
    document.removeEventListener('pointerdown', outside, true);
    if (refocus) focus(button);
  }

  function outside(ev) {
    if (!root.contains(ev.target)) close(false);
  }

  panel.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') {
      ev.preventDefault();
      ev.stopPropagation();
      close(true);
    }
  });

  const offs = [on('notifications', render), on('conversations', () => !panel.hidden && render())];
  // Quietly: offline (reading the kept copy) the bell waits for the next resume.
  loadNotifications().catch(() => {});
  render();
  root.dispose = () => {
    close(false);
    offs.forEach((off) => off());
  };
  return root;
}

const ORG_WORDS = {
  title: 'This link is for another organisation',
  text: 'It opens a conversation in another organisation you belong to. Sign in to that organisation to open it; you are signed in here as a member of',
  switch: 'Sign in to that organisation',
  stay: 'Stay here',
};

/** A link (a notification's, an e-mail's) names another organisation than this session's:
 * say so, and offer to sign in there (the sign-in page chooses it and returns here). */
export function otherOrganisationPage({ onSwitch, onStay }) {
  return h('main', { id: 'main', class: 'fatal org-link' },
    h('h1', {}, ORG_WORDS.title),
    h('p', {}, `${ORG_WORDS.text} ${state.me.tenant_name}.`),
    h('div', { class: 'org-link-actions' },
      h('button', { type: 'button', class: 'btn btn-primary', onclick: onSwitch }, ORG_WORDS.switch),
      h('button', { type: 'button', class: 'btn', onclick: onStay }, ORG_WORDS.stay)));
}
