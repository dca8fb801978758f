// The admin's home: what needs attention (counts with links), and the way to people,
// care teams and the organisation's settings.

import { h } from '../dom.js';
import { icon } from '../icons.js';
import { plural } from '../format.js';
import { attention } from '../admin-data.js';
import { state } from '../store.js';
import { spinner } from './common.js';

const WORDS = {
  title: 'Needs attention',
  allClear: 'Nothing needs your attention right now.',
  invitations: (n) => `${plural(n, 'invitation')} waiting for an answer`,
  expired: (n) => `${plural(n, 'invitation')} expired: invite again or withdraw`,
  withoutTeam: (n) => `${plural(n, 'client')} without a care team`,
  withoutPrimary: (n) => `${plural(n, 'client')} with a care team but no primary clinician`,
  neverSeen: (n) => `${plural(n, 'person', 'people')} not seen in careline yet`,
  quarantined: (n) => `${plural(n, 'file')} in quarantine (a virus scan refused them; nobody can open them)`,
  people: (n) => plural(n, 'person', 'people'),
  clients: (n) => plural(n, 'client'),
};

export function homeSection(main) {
  const needs = h('div', { class: 'attention' }, spinner('Loading what needs attention'));
  const cards = h('div', { class: 'admin-cards' });
  main.replaceChildren(
    h('div', { class: 'admin-section-head' }, h('h2', {}, 'Overview')),
    cards,
    h('section', { class: 'attention-box', 'aria-labelledby': 'attention-title' },
      h('h3', { id: 'attention-title' }, WORDS.title), needs),
  );

  const item = (count, text, href) =>
    h('li', { class: 'attention-item' },
      h('span', { class: 'attention-count', 'aria-hidden': 'true' }, String(count)),
      href ? h('a', { href, 'data-link': '' }, text) : h('span', {}, text));

  attention(state.me.account_id).then((a) => {
    const staff = a.people.filter((p) => p.role === 'staff' || p.role === 'admin').length;
    cards.replaceChildren(
      h('a', { class: 'admin-card', href: '/admin/people', 'data-link': '' },
        icon('users', { size: 22 }), h('span', { class: 'card-title' }, 'People'),
        h('span', { class: 'card-detail' }, `${WORDS.people(a.people.length)} · ${staff} staff`)),
      h('a', { class: 'admin-card', href: '/admin/care', 'data-link': '' },
        icon('shield', { size: 22 }), h('span', { class: 'card-title' }, 'Care teams'),
        h('span', { class: 'card-detail' }, WORDS.clients(a.clients.length))),
      h('a', { class: 'admin-card', href: '/admin/settings', 'data-link': '' },
        icon('settings', { size: 22 }), h('span', { class: 'card-title' }, 'Settings'),
        h('span', { class: 'card-detail' }, 'Who may start conversations, offline reading')),
    );
    const first = (list) => (list.length ? `/admin/care?client=${list[0].account_id}` : '/admin/care');
    const items = [
      a.invitationsWaiting && item(a.invitationsWaiting, WORDS.invitations(a.invitationsWaiting), '/admin/people'),
      a.invitationsExpired && item(a.invitationsExpired, WORDS.expired(a.invitationsExpired), '/admin/people'),
      a.withoutTeam.length && item(a.withoutTeam.length, WORDS.withoutTeam(a.withoutTeam.length), first(a.withoutTeam)),
      a.withoutPrimary.length && item(a.withoutPrimary.length, WORDS.withoutPrimary(a.withoutPrimary.length), first(a.withoutPrimary)),
      a.neverSeen.length && item(a.neverSeen.length, WORDS.neverSeen(a.neverSeen.length), '/admin/people?show=not-seen'),
      a.quarantined && item(a.quarantined, WORDS.quarantined(a.quarantined), null),
    ].filter(Boolean);
    needs.replaceChildren(items.length
      ? h('ul', { class: 'attention-list' }, items)
      : h('p', { class: 'muted' }, WORDS.allClear));
  }).catch((err) => needs.replaceChildren(h('p', { class: 'form-error', role: 'alert' }, err.message)));
}
