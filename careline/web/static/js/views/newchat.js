// "New message": staff pick a client (or colleagues for a team conversation); clients and
// guardians pick someone from the care team, or the support desk.

import { h, focus, announce } from '../dom.js';
import { icon } from '../icons.js';
import { listAll } from '../api.js';
import { state, isStaff, members, openConversation } from '../store.js';
import { avatar, openDialog, spinner } from './common.js';
import { startableClients } from '../organisation.js';

const CARE_TEAM_ONLY = 'Your organisation lets you start conversations only with clients of your care team.';

export function newConversationDialog({ navigate }) {
  const body = h('div', { class: 'newchat' }, spinner('Loading people'));
  const dlg = openDialog({ title: 'New message', content: body, cls: 'dialog-newchat' });
  const go = async (request, button) => {
    button.disabled = true;
    try {
      const conv = await openConversation(request);
      dlg.close();
      navigate(`/c/${conv.id}`);
    } catch (err) {
      button.disabled = false;
      announce(err.message, { tone: 'error' });
    }
  };
  (isStaff() ? staffChooser(body, go) : clientChooser(body, go)).catch((err) => {
    body.replaceChildren(h('p', { class: 'form-error', role: 'alert' }, `People could not be loaded: ${err.message}`));
  });
}

function personButton(person, detail, onclick) {
  return h(
    'li',
    {},
    h(
      'button',
      { type: 'button', class: 'person', onclick },
      avatar({ id: person.account_id, name: person.display_name }),
      h('span', { class: 'person-text' },
        h('span', { class: 'person-name', dir: 'auto' }, person.display_name),
        detail ? h('span', { class: 'person-detail' }, detail) : null),
      icon('message', { size: 18, cls: 'icon person-go' }),
    ),
  );
}

function filterBox(id, label, onfilter) {
  const input = h('input', {
    id, type: 'search', class: 'input', placeholder: label, 'aria-label': label, autocomplete: 'off',
    oninput: () => onfilter(input.value.trim().toLowerCase()),
  });
  return input;
}

async function staffChooser(body, go) {
  const [clients, staff, admins, startable] = await Promise.all([
    members('client'), members('staff'), members('admin'), startableClients(state.me),
  ]);
  const colleagues = [...staff, ...admins].filter((m) => m.account_id !== state.me.account_id && !m.disabled);
  const activeClients = clients.filter((m) => !m.disabled);
  // With conversation_start = care_team, only the clients of my care team (the server
  // refuses the rest with 403 care_team_only); team conversations stay open to all.
  const reachable = startable ? activeClients.filter((c) => startable.has(c.account_id)) : activeClients;

  const clientList = h('ul', { class: 'people', 'aria-label': 'Clients' });
  const renderClients = (q = '') => {
    const shown = reachable.filter((c) => !q || c.display_name.toLowerCase().includes(q) || (c.email || '').toLowerCase().includes(q));
    clientList.replaceChildren(
      ...(shown.length
        ? shown.map((c) => personButton(c, c.email, (ev) => go({ kind: 'care', client_id: c.account_id }, ev.currentTarget)))
        : [h('li', { class: 'people-empty' }, startable && !reachable.length ? 'You are in no client’s care team yet.' : 'No client matches.')]),
    );
  };
  renderClients();
  const clientFilter = filterBox('client-filter', 'Find a client', renderClients);
  const clientPane = h('div', { class: 'pane' }, clientFilter,
    startable ? h('p', { class: 'people-note' }, CARE_TEAM_ONLY) : null, clientList);

  const titleInput = h('input', { id: 'team-title', class: 'input', maxlength: 200, placeholder: 'e.g. Lily: care team' });
  const checks = colleagues.map((c) =>
    h('label', { class: 'check-row' },
      h('input', { type: 'checkbox', value: c.account_id }),
      avatar({ id: c.account_id, name: c.display_name }, { size: 'sm' }),
      h('span', { dir: 'auto' }, c.display_name),
      h('span', { class: 'person-detail' }, c.role)),
  );
  const about = h('select', { id: 'team-client', class: 'select' },
    h('option', { value: '' }, 'No particular client'),
    activeClients.map((c) => h('option', { value: c.account_id }, c.display_name)));
  const teamError = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const create = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Create team conversation');
  const teamPane = h(
    'form',
    {
      class: 'pane', hidden: true,
      onsubmit: (ev) => {
        ev.preventDefault();
        const ids = checks.map((l) => l.querySelector('input')).filter((i) => i.checked).map((i) => i.value);
        if (!ids.length) {
          teamError.textContent = 'Choose at least one colleague.';
          teamError.hidden = false;
          return;
        }
        go({ kind: 'team', member_ids: ids, title: titleInput.value.trim() || null, client_id: about.value || null }, create);
      },
    },
    h('div', { class: 'field' }, h('label', { for: 'team-title' }, 'Name (optional)'), titleInput),
    h('fieldset', { class: 'field' }, h('legend', {}, 'Colleagues'), h('div', { class: 'check-list' }, checks)),
    h('div', { class: 'field' }, h('label', { for: 'team-client' }, 'About'), about),
    teamError,
    h('div', { class: 'dialog-actions inline' }, create),
  );

  const segment = (value, label) =>
    h('label', { class: 'segment' }, h('input', { type: 'radio', name: 'newchat-kind', value, checked: value === 'client', onchange: () => {
      clientPane.hidden = value !== 'client';
      teamPane.hidden = value !== 'team';
      focus(value === 'client' ? clientFilter : titleInput);
    } }), h('span', {}, label));
  body.replaceChildren(
    h('fieldset', { class: 'segments' }, h('legend', { class: 'sr-only' }, 'Conversation with'), segment('client', 'A client'), segment('team', 'My team')),
    clientPane,
    teamPane,
  );
  focus(clientFilter);
}

async function clientChooser(body, go) {
  const clientId = state.me.role === 'guardian' ? state.actingFor : state.me.account_id;
  const [team, people] = await Promise.all([
    listAll(`/care-relationships?client_id=${clientId}`),
    members(),
  ]);
  const byId = new Map(people.map((p) => [p.account_id, p]));
  const forWhom = state.me.role === 'guardian' ? { client_id: clientId } : {};
  const rows = team
    .filter((r) => byId.has(r.staff_id))
    .sort((a, b) => Number(b.is_primary) - Number(a.is_primary))
    .map((r) => {
      const person = byId.get(r.staff_id);
      return personButton(person, r.is_primary ? 'Primary clinician' : 'Care team', (ev) =>
        go({ kind: 'care', staff_id: r.staff_id, ...forWhom }, ev.currentTarget));
    });
  const support = h(
    'li',
    {},
    h('button', { type: 'button', class: 'person', onclick: (ev) => go({ kind: 'support', ...forWhom }, ev.currentTarget) },
      avatar({ id: 'support', name: 'Support', icon: 'help' }),
      h('span', { class: 'person-text' },
        h('span', { class: 'person-name' }, `${state.me.tenant_name} support`),
        h('span', { class: 'person-detail' }, 'Appointments, billing and anything else')),
      icon('message', { size: 18, cls: 'icon person-go' })),
  );
  body.replaceChildren(
    h('h3', { class: 'people-heading' }, 'Your care team'),
    h('ul', { class: 'people', 'aria-label': 'Your care team' },
      rows.length ? rows : h('li', { class: 'people-empty' }, 'No one is in the care team yet. The support desk can help.')),
    h('h3', { class: 'people-heading' }, 'Other'),
    h('ul', { class: 'people', 'aria-label': 'Other' }, support),
  );
  focus(body.querySelector('button.person'));
}
