// The sidebar: who I am, the filter, Inbox / Archived, and the conversation list with
// unread badges, previews, presence and typing.

import { h, focus, announce } from '../dom.js';
import { icon } from '../icons.js';
import { listTime, plural } from '../format.js';
import { state, on, visibleConversations, setActingFor, isStaff, typingIn, openConversation } from '../store.js';
import { avatarSubject, preview, title } from '../convo.js';
import { avatar, iconButton, openMenu, emptyState, spinner } from './common.js';
import { newConversationDialog } from './newchat.js';
import { ownDevicesDialog } from './devices.js';
import { settingsDialog } from './settings.js';
import { unreadSummary } from '../unread.js';
import { waitingNote } from '../waiting.js';
import { bell } from './bell.js';

// An empty inbox beside archived conversations says where they are, and what waits there.
function archivedNote(unread) {
  return unread
    ? `${plural(unread, 'archived conversation')} ${unread === 1 ? 'has' : 'have'} unread messages.`
    : 'Your archived conversations are under Archived.';
}

export function sidebar({ navigate, signOut }) {
  const me = state.me;
  let filter = '';
  let archived = false;

  const list = h('ul', { class: 'conv-list', 'aria-label': 'Conversations' });
  const count = h('span', { class: 'sr-only', role: 'status' });
  const search = h('input', {
    type: 'search', class: 'search-input', id: 'conversation-filter', placeholder: 'Search conversations',
    'aria-label': 'Search conversations', autocomplete: 'off',
    oninput: () => {
      filter = search.value.trim().toLowerCase();
      render();
    },
    onkeydown: (ev) => {
      if (ev.key === 'ArrowDown') {
        ev.preventDefault();
        focus(list.querySelector('a.conv'));
      } else if (ev.key === 'Escape' && search.value) {
        search.value = '';
        filter = '';
        render();
      }
    },
  });

  const tabInbox = h('a', { href: '/', class: 'tab', 'data-link': '' }, 'Inbox');
  const archivedBadge = h('span', { class: 'tab-badge', hidden: true });
  const tabArchived = h('a', { href: '/archived', class: 'tab', 'data-link': '' }, 'Archived', archivedBadge);
  const searchBox = h('div', { class: 'search' }, icon('search', { size: 18 }), search);
  // Clients and families: the support desk is one tap away until they have a thread with it.
  const help = h(
    'div',
    { class: 'portal-help', hidden: true },
    h('span', { class: 'portal-help-icon', 'aria-hidden': 'true' }, icon('help', { size: 20 })),
    h('p', {}, h('strong', {}, 'Questions about appointments or billing?'), ' The support team at ', me.tenant_name, ' can help.'),
    h('button', {
      type: 'button', class: 'btn btn-small',
      onclick: async (ev) => {
        const button = ev.currentTarget;
        button.disabled = true;
        try {
          const conv = await openConversation({ kind: 'support', ...(me.role === 'guardian' ? { client_id: state.actingFor } : {}) });
          navigate(`/c/${conv.id}`);
        } catch (err) {
          announce(err.message, { tone: 'error' });
        } finally {
          button.disabled = false;
        }
      },
    }, 'Message support'),
  );
  const tabs = h('div', { class: 'tabs' }, tabInbox, tabArchived,
    me.role === 'admin' ? h('a', { href: '/admin', class: 'tab tab-admin', 'data-link': '' }, icon('shield', { size: 16 }), 'Administration') : null);

  const menuButton = h(
    'button',
    {
      // Named by hidden text, not aria-label: the avatar's initials are visible text,
      // and a visible label must be part of an aria-label (WCAG 2.5.3, Lighthouse).
      type: 'button', class: 'me-btn', 'aria-haspopup': 'menu', 'aria-expanded': 'false',
      onclick: () =>
        openMenu(menuButton, [
          me.role === 'admin' && { label: 'Administration', icon: 'shield', onselect: () => navigate('/admin') },
          { label: 'Your devices', icon: 'key', onselect: ownDevicesDialog },
          { label: 'Settings', icon: 'settings', onselect: settingsDialog },
          { label: 'Notifications', icon: 'bell', onselect: () => navigate('/settings/notifications') },
          { label: 'Sign out', icon: 'logout', onselect: signOut },
        ], { label: 'Account' }),
    },
    avatar({ id: me.account_id, name: me.display_name }, { size: 'sm' }),
    h('span', { class: 'sr-only' }, `Account menu for ${me.display_name}`),
  );

  const bells = bell({ navigate });
  const compose = iconButton('compose', 'New message', () => newConversationDialog({ navigate }), { cls: 'compose-btn', 'aria-haspopup': 'dialog' });

  let actingFor = null;
  if (me.role === 'guardian' && me.acting_for.length) {
    const select = h(
      'select',
      { id: 'acting-for', class: 'select', onchange: () => setActingFor(select.value) },
      me.acting_for.map((c) => h('option', { value: c.account_id, selected: c.account_id === state.actingFor }, c.display_name)),
    );
    actingFor = h('div', { class: 'acting-for' }, h('label', { for: 'acting-for' }, 'Acting for'), select);
  }

  const root = h(
    'nav',
    { class: 'sidebar', 'aria-label': 'Conversations' },
    h(
      'div',
      { class: 'side-head' },
      menuButton,
      h('div', { class: 'side-title' }, h('h1', {}, 'Messages'), h('p', { class: 'org' }, me.tenant_name)),
      bells,
      compose,
    ),
    actingFor,
    searchBox,
    tabs,
    h('div', { class: 'conv-scroll' }, list, help),
    count,
  );

  list.addEventListener('keydown', (ev) => {
    const links = [...list.querySelectorAll('a.conv')];
    const i = links.indexOf(document.activeElement);
    if (i < 0) return;
    if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
      ev.preventDefault();
      const j = ev.key === 'ArrowDown' ? Math.min(links.length - 1, i + 1) : i - 1;
      focus(j < 0 ? search : links[j]);
    } else if (ev.key === 'Home' || ev.key === 'End') {
      ev.preventDefault();
      focus(links[ev.key === 'Home' ? 0 : links.length - 1]);
    }
  });

  function row(conv) {
    const subject = avatarSubject(conv);
    const typing = typingIn(conv.id).length > 0;
    const unread = conv.unread > 0;
    const extra = [
      unread ? plural(conv.unread, 'unread message') : null,
      conv.muted ? 'muted' : null,
      subject.presence === 'online' ? 'online' : null,
    ].filter(Boolean).join(', ');
    return h(
      'li',
      {},
      h(
        'a',
        {
          href: `/c/${conv.id}`, class: ['conv', unread && 'unread'], 'data-link': '', 'data-id': conv.id,
          'aria-current': state.openId === conv.id ? 'page' : null,
        },
        avatar(subject, { presence: subject.presence }),
        h(
          'span',
          { class: 'conv-main' },
          h(
            'span',
            { class: 'conv-top' },
            h('span', { class: 'conv-name', dir: 'auto' }, title(conv)),
            extra ? h('span', { class: 'sr-only' }, `, ${extra}, `) : null,
            conv.muted ? h('span', { class: 'conv-muted' }, icon('bellOff', { size: 14 })) : null,
            h('span', { class: 'conv-time' }, conv.last_message ? listTime(conv.last_message.created_at) : listTime(conv.last_activity_at)),
          ),
          h(
            'span',
            { class: 'conv-bottom' },
            typing
              ? h('span', { class: 'conv-preview typing-text' }, 'typing…')
              : h('span', { class: 'conv-preview', dir: 'auto' }, preview(conv)),
            unread ? h('span', { class: ['badge', conv.muted && 'badge-muted'], 'aria-hidden': 'true' }, conv.unread > 99 ? '99+' : String(conv.unread)) : null,
          ),
          waitingNote(conv, isStaff()),
        ),
      ),
    );
  }

  // One row node per conversation, kept while it looks the same: the list re-renders on
  // every presence, typing or conversation update, and a link replaced between a
  // pointer's press and release loses the click.
  const rows = new Map();
  function rowFor(conv) {
    const fresh = row(conv);
    const kept = rows.get(conv.id);
    if (kept && kept.isEqualNode(fresh)) return kept;
    rows.set(conv.id, fresh);
    return fresh;
  }

  function showRows(nodes) {
    const current = list.children;
    if (current.length === nodes.length && nodes.every((node, i) => current[i] === node)) return;
    list.replaceChildren(...nodes);
  }

  function render() {
    archived = location.pathname === '/archived';
    // Clients and families have a handful of conversations: no filter or folders until
    // they would help.
    if (!isStaff()) {
      const all = [...state.conversations.values()];
      searchBox.hidden = all.length <= 6 && !filter;
      tabs.hidden = !archived && !all.some((c) => c.archived);
      help.hidden = archived || !state.listLoaded
        || visibleConversations().some((c) => c.kind === 'support')
        || all.some((c) => c.kind === 'support' && c.archived);
    }
    tabInbox.setAttribute('aria-current', archived ? 'false' : 'page');
    tabArchived.setAttribute('aria-current', archived ? 'page' : 'false');
    const focusedId = list.contains(document.activeElement) ? document.activeElement.dataset.id : null;
    const scroller = list.parentElement;
    const top = scroller.scrollTop;
    let items = visibleConversations({ archived });
    if (filter) {
      items = items.filter((c) =>
        title(c).toLowerCase().includes(filter) ||
        (c.last_message && c.last_message.text && c.last_message.text.toLowerCase().includes(filter)),
      );
    }
    if (!state.listLoaded) {
      list.replaceChildren(h('li', { class: 'list-loading' }, spinner('Loading conversations')));
    } else if (!items.length) {
      list.replaceChildren(
        h('li', { class: 'list-empty' },
          filter
            ? emptyState({ iconName: 'search', title: 'No matches', text: `Nothing matches “${search.value}”.` })
            : archived
              ? emptyState({ iconName: 'archive', title: 'Nothing archived', text: 'Conversations you archive are kept here.' })
              : visibleConversations({ archived: true }).length
                ? emptyState({ iconName: 'inbox', title: 'Inbox is empty', text: archivedNote(unreadSummary().archived) })
                : emptyState({
                  iconName: 'message',
                  title: 'No conversations yet',
                  text: isStaff() ? 'Start one with a client or your team.' : 'Send your care team a message.',
                })),
      );
    } else {
      showRows(items.map(rowFor));
    }
    for (const id of rows.keys()) if (!state.conversations.has(id)) rows.delete(id);
    // Archived never hides what is waiting: its tab shows how many of its conversations
    // have unread messages, and the title counts them too.
    const waiting = unreadSummary();
    const unreadTotal = waiting.total;
    archivedBadge.hidden = !waiting.archived;
    archivedBadge.textContent = waiting.archived ? String(waiting.archived) : '';
    tabArchived.setAttribute('aria-label', waiting.archived ? `Archived, ${plural(waiting.archived, 'conversation')} with unread messages` : 'Archived');
    count.textContent = unreadTotal ? `${plural(unreadTotal, 'conversation')} with unread messages` : '';
    // The tab says what is waiting, and where you are.
    const open = state.openId && state.conversations.get(state.openId);
    document.title = `${unreadTotal ? `(${unreadTotal}) ` : ''}${open ? `${title(open)} · ` : ''}careline`;
    scroller.scrollTop = top;
    if (focusedId) focus(list.querySelector(`a[data-id="${focusedId}"]`));
  }

  const subscriptions = [on('conversations', render), on('presence', render), on('typing', render), on('open', render), on('route', render)];
  render();
  root.dispose = () => {
    subscriptions.forEach((off) => off());
    bells.dispose();
  };
  return root;
}
