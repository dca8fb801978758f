// The pane beside the conversation list when no thread is open (a desktop): who is
// signed in, what is waiting, and a way to start.

import { h } from '../dom.js';
import { icon } from '../icons.js';
import { firstName, plural } from '../format.js';
import { state, on, visibleConversations, isStaff } from '../store.js';
import { unreadSummary } from '../unread.js';
import { newConversationDialog } from './newchat.js';

export function welcomeView({ navigate }) {
  const summary = h('p', { class: 'welcome-text' });
  const root = h(
    'section',
    { class: 'no-thread', 'aria-labelledby': 'welcome-title' },
    h(
      'div',
      { class: 'welcome' },
      h('span', { class: 'welcome-mark', 'aria-hidden': 'true' }),
      h('h2', { id: 'welcome-title', class: 'welcome-title' }, `Welcome, ${firstName(state.me.display_name)}`),
      summary,
      h('button', { type: 'button', class: 'btn btn-primary', 'aria-haspopup': 'dialog', onclick: () => newConversationDialog({ navigate }) },
        icon('compose', { size: 18 }), h('span', {}, 'New message')),
      h('p', { class: 'start-note' }, icon('lock', { size: 14 }), h('span', {}, 'Encrypted and kept in the care record')),
    ),
  );

  function render() {
    // Inbox and Archived alike: an archived conversation with news is still waiting.
    const { total: waiting, archived } = unreadSummary();
    const where = archived ? ` (${archived} in Archived)` : '';
    if (!state.listLoaded) summary.textContent = '';
    else if (waiting) summary.textContent = `${plural(waiting, 'conversation')} ${waiting === 1 ? 'has' : 'have'} unread messages${where}.`;
    else if (visibleConversations().length || visibleConversations({ archived: true }).length) summary.textContent = 'You are all caught up.';
    else summary.textContent = isStaff()
      ? 'Start a conversation with a client or with your team.'
      : 'Send your care team a message whenever you need them.';
  }

  const off = on('conversations', render);
  render();
  root.dispose = off;
  return root;
}
