// Administration: the overview (admin-home.js), people and roles (invite, change role
// with a confirmation, disable, signed-in devices), care teams (who looks after each
// client, who is primary, and the guardians who speak for them) and the organisation's
// settings (admin-settings.js).

import { h, announce } from '../dom.js';
import { icon } from '../icons.js';
import { api, listAll } from '../api.js';
import { relativeMoment } from '../format.js';
import { state } from '../store.js';
import {
  changeRole, guardianLinks, linkGuardian, memberSessions, revokeMemberSession, revokeMemberSessions, unlinkGuardian,
} from '../admin-data.js';
import { avatar, confirmDialog, spinner } from './common.js';
import { invitePerson, pendingInvitations } from './invitations.js';
import { homeSection } from './admin-home.js';
import { attemptsSection } from './admin-attempts.js';
import { settingsSection } from './admin-settings.js';
import { notificationsSection } from './admin-notifications.js';
import { confirmRoleChange } from './admin-roles.js';
import { devicesDialog } from './admin-devices.js';
import { bell } from './bell.js';
import { auditSection } from './admin-audit.js';
import { conversationsSection } from './admin-conversations.js';
import { monitoringSection } from './admin-monitoring.js';
import { alertsSection } from './admin-alerts.js';
import { reportsSection } from './admin-reports.js';

const WORDS = {
  notSeen: 'Not seen yet',
  showEveryone: 'Show everyone',
  choosePerson: 'Choose a person',
  chooseGuardian: 'Choose a guardian',
  noGuardians: 'No guardian speaks for this client.',
  noGuardiansToAdd: 'There is no other guardian in the organisation. Add one under People (role: Guardian).',
};

export const ADMIN_SECTIONS = { '/admin': 'home', '/admin/people': 'people', '/admin/care': 'care', '/admin/settings': 'settings', '/admin/notifications': 'notifications',
  '/admin/monitoring': 'monitoring', '/admin/conversations': 'conversations', '/admin/audit': 'audit', '/admin/reports': 'reports' };

const ROLES = [
  ['admin', 'Admin'],
  ['staff', 'Staff'],
  ['client', 'Client'],
  ['guardian', 'Guardian'],
];

export function adminView(section, { navigate } = {}) {
  const bells = bell({ navigate });
  const disposers = [bells.dispose];
  const main = h('main', { id: 'main', class: 'admin-main', tabindex: '-1' });
  const tab = (href, label, name) =>
    h('a', { href, class: 'tab', 'data-link': '', 'aria-current': section === name ? 'page' : 'false' }, label);
  const root = h(
    'div',
    { class: 'admin' },
    h(
      'header',
      { class: 'admin-head' },
      h('a', { href: '/', class: 'btn btn-quiet back-link', 'data-link': '' }, icon('back', { size: 18 }), h('span', {}, 'Messages')),
      h('div', { class: 'admin-title' }, h('h1', {}, 'Administration'), h('p', { class: 'org' }, state.me.tenant_name)),
      bells,
    ),
    h('nav', { class: 'tabs admin-tabs', 'aria-label': 'Administration' },
      tab('/admin', 'Overview', 'home'), tab('/admin/people', 'People', 'people'),
      tab('/admin/care', 'Care teams', 'care'), tab('/admin/settings', 'Settings', 'settings'),
      tab('/admin/notifications', 'Notifications', 'notifications'),
      tab('/admin/monitoring', 'Monitoring', 'monitoring'), tab('/admin/conversations', 'Conversations', 'conversations'),
      tab('/admin/audit', 'Audit', 'audit'), tab('/admin/reports', 'Reports', 'reports')),
    main,
  );
  if (section === 'care') careSection(main);
  else if (section === 'people') peopleSection(main);
  else if (section === 'settings') settingsSection(main);
  else if (section === 'notifications') notificationsSection(main);
  // A live section returns what stops it (a socket subscription) when the page is left.
  else if (section === 'monitoring') disposers.push(alertsSection(main), monitoringSection(main));
  else if (section === 'conversations') disposers.push(conversationsSection(main));
  else if (section === 'audit') disposers.push(auditSection(main));
  else if (section === 'reports') disposers.push(reportsSection(main));
  else {
    homeSection(main);
    attemptsSection(main);
  }
  root.dispose = () => disposers.forEach((stop) => typeof stop === 'function' && stop());
  return root;
}

// people ---------------------------------------------------------------------------------

function peopleSection(main) {
  let people = [];
  let filter = '';
  let neverOnly = new URLSearchParams(location.search).get('show') === 'not-seen';
  const chip = h('button', {
    type: 'button', class: 'btn btn-small filter-chip',
    onclick: () => { neverOnly = false; history.replaceState({}, '', '/admin/people'); render(); },
  }, h('span', {}, `${WORDS.notSeen} · ${WORDS.showEveryone}`), icon('x', { size: 14 }));
  const body = h('tbody');
  const summary = h('p', { class: 'admin-summary', role: 'status' });
  const filterInput = h('input', {
    type: 'search', class: 'input', id: 'people-filter', placeholder: 'Find by name or e-mail', 'aria-label': 'Find people',
    oninput: () => { filter = filterInput.value.trim().toLowerCase(); render(); },
  });
  const add = h('button', { type: 'button', class: 'btn btn-primary', onclick: () => invitePerson(reload) }, icon('userPlus', { size: 18 }), h('span', {}, 'Add person'));

  const pending = pendingInvitations();
  main.replaceChildren(
    h('div', { class: 'admin-section-head' }, h('h2', {}, 'People'), add),
    pending.section,
    h('div', { class: 'admin-toolbar' }, filterInput, chip, summary),
    h('div', { class: 'table-wrap' },
      h('table', { class: 'table' },
        h('caption', { class: 'sr-only' }, 'People in the organisation'),
        h('thead', {}, h('tr', {},
          h('th', { scope: 'col' }, 'Person'), h('th', { scope: 'col' }, 'Role'), h('th', { scope: 'col' }, 'Status'),
          h('th', { scope: 'col' }, 'Last seen'), h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions')))),
        body)),
  );
  body.replaceChildren(h('tr', {}, h('td', { colspan: '5' }, spinner('Loading people'))));

  async function reload() {
    pending.reload().catch((err) => announce(err.message, { tone: 'error' }));
    try {
      people = await listAll('/members');
      render();
    } catch (err) {
      body.replaceChildren(h('tr', {}, h('td', { colspan: '5', class: 'form-error' }, err.message)));
    }
  }

  function render() {
    chip.hidden = !neverOnly;
    const shown = people.filter((p) => (!filter || p.display_name.toLowerCase().includes(filter) || (p.email || '').toLowerCase().includes(filter))
      && (!neverOnly || (!p.last_seen_at && !p.disabled && p.account_id !== state.me.account_id)));
    summary.textContent = `${shown.length} of ${people.length} people`;
    body.replaceChildren(...shown.map(row));
  }

  function row(p) {
    const self = p.account_id === state.me.account_id;
    const role = h('select', {
      class: 'select select-small', 'aria-label': `Role of ${p.display_name}`, disabled: self,
      onchange: async () => {
        const wanted = role.value;
        role.value = p.role; // unchanged until confirmed
        if (!(await confirmRoleChange(p, wanted))) return;
        try {
          const updated = await changeRole(p.account_id, wanted);
          Object.assign(p, updated);
          role.value = p.role;
          announce(`${p.display_name} is now ${p.role}.`);
        } catch (err) {
          role.value = p.role;
          announce(err.message, { tone: 'error' });
        }
      },
    }, ROLES.map(([value, label]) => h('option', { value, selected: p.role === value }, label)));
    const devices = h('button', {
      type: 'button', class: 'btn btn-small', disabled: p.disabled,
      onclick: () => devicesDialog({
        title: `${p.display_name}: signed-in devices`,
        who: p.display_name,
        load: () => memberSessions(p.account_id),
        revoke: (id) => revokeMemberSession(p.account_id, id),
        revokeAll: () => revokeMemberSessions(p.account_id),
      }),
    }, icon('key', { size: 16 }), h('span', {}, 'Devices'));
    const toggle = h('button', {
      type: 'button', class: ['btn', 'btn-small', p.disabled ? 'btn-quiet' : 'btn-danger-quiet'], disabled: self,
      onclick: async () => {
        if (!p.disabled) {
          const ok = await confirmDialog({
            title: `Disable ${p.display_name}?`,
            text: 'They are signed out and cannot sign in until enabled again. Their messages stay in the record.',
            confirm: 'Disable', danger: true,
          });
          if (!ok) return;
        }
        try {
          const updated = await api('PATCH', `/admin/members/${p.account_id}`, { disabled: !p.disabled });
          Object.assign(p, updated);
          render();
          announce(`${p.display_name} ${p.disabled ? 'disabled' : 'enabled'}.`);
        } catch (err) {
          announce(err.message, { tone: 'error' });
        }
      },
    }, p.disabled ? 'Enable' : 'Disable');
    return h(
      'tr',
      { class: p.disabled ? 'is-disabled' : null },
      h('td', { 'data-label': 'Person' },
        h('div', { class: 'person-cell' },
          avatar({ id: p.account_id, name: p.display_name }, { size: 'sm' }),
          h('div', {}, h('div', { class: 'person-name', dir: 'auto' }, p.display_name, self ? h('span', { class: 'tag' }, 'you') : null),
            h('div', { class: 'person-detail' }, p.email || '')))),
      h('td', { 'data-label': 'Role' }, role),
      h('td', { 'data-label': 'Status' }, h('span', { class: ['status-pill', p.disabled ? 'status-off' : 'status-on'] }, p.disabled ? 'Disabled' : 'Active')),
      h('td', { 'data-label': 'Last seen', class: 'muted' }, p.last_seen_at ? relativeMoment(p.last_seen_at) : '—'),
      h('td', { class: 'actions' }, devices, toggle),
    );
  }

  reload();
}

// care teams -----------------------------------------------------------------------------

function careSection(main) {
  const picker = h('select', { id: 'care-client', class: 'select' });
  const team = h('div', { class: 'care-team' }, spinner('Loading'));
  main.replaceChildren(
    h('div', { class: 'admin-section-head' }, h('h2', {}, 'Care teams')),
    h('p', { class: 'admin-help' }, 'Each client’s care team can message them. The primary clinician is shown first to the client and family.'),
    h('div', { class: 'field field-inline' }, h('label', { for: 'care-client' }, 'Client'), picker),
    team,
  );
  let people = [];

  async function start() {
    people = await listAll('/members');
    const clients = people.filter((p) => p.role === 'client');
    const wanted = new URLSearchParams(location.search).get('client');
    picker.replaceChildren(...clients.map((c) => h('option', { value: c.account_id, selected: c.account_id === wanted }, c.display_name)));
    picker.addEventListener('change', show);
    if (clients.length) show();
    else team.replaceChildren(h('p', { class: 'muted' }, 'There are no clients yet.'));
  }

  // Each show() draws the team of the client picked when it began; an answer to an older
  // one (picked again meanwhile) is dropped, so a form in use is never replaced by a stale
  // one and Add always acts on what the admin sees.
  let showing = 0;
  async function show() {
    const mine = ++showing;
    const clientId = picker.value;
    team.replaceChildren(spinner('Loading care team'));
    const [relations, links] = await Promise.all([
      listAll(`/care-relationships?client_id=${clientId}`),
      guardianLinks(clientId),
    ]);
    if (mine !== showing) return;
    const byId = new Map(people.map((p) => [p.account_id, p]));
    const staff = people.filter((p) => (p.role === 'staff' || p.role === 'admin') && !p.disabled);
    const inTeam = new Set(relations.map((r) => r.staff_id));
    const clientName = byId.get(clientId)?.display_name || 'this client';

    // The primary clinician first; the API lists by staff id (its cursor's order).
    const rows = [...relations].sort((a, b) => Number(b.is_primary) - Number(a.is_primary)).map((r) => {
      const person = byId.get(r.staff_id) || { account_id: r.staff_id, display_name: 'Unknown' };
      return h('li', { class: 'team-row' },
        avatar({ id: person.account_id, name: person.display_name }, { size: 'sm' }),
        h('span', { class: 'team-name', dir: 'auto' }, person.display_name),
        h('label', { class: 'radio primary-choice' },
          h('input', {
            type: 'radio', name: 'primary', checked: r.is_primary,
            'aria-label': `Primary clinician: ${person.display_name}`,
            onchange: async () => {
              await save(() => api('PUT', '/admin/care-relationships', { client_id: clientId, staff_id: r.staff_id, is_primary: true }),
                `${person.display_name} is now ${clientName}’s primary clinician.`);
            },
          }),
          h('span', {}, 'Primary')),
        h('button', {
          type: 'button', class: 'btn btn-small btn-danger-quiet', 'aria-label': `Remove ${person.display_name} from the care team`,
          onclick: async () => {
            await save(() => api('POST', '/admin/care-relationships/delete', { client_id: clientId, staff_id: r.staff_id }),
              `${person.display_name} left ${clientName}’s care team.`);
          },
        }, 'Remove'));
    });
    const candidate = h('select', { id: 'care-add', class: 'select', onchange: () => { addButton.disabled = !candidate.value; } },
      h('option', { value: '', selected: true, disabled: true }, WORDS.choosePerson),
      staff.filter((s) => !inTeam.has(s.account_id)).map((s) => h('option', { value: s.account_id }, s.display_name)));
    const primary = h('input', { type: 'checkbox', id: 'care-add-primary' });
    // No one is chosen for the admin: Add stays off until they pick a person.
    const addButton = h('button', { type: 'submit', class: 'btn btn-primary', disabled: true }, 'Add');
    const addForm = h('form', {
      class: 'team-add',
      onsubmit: async (ev) => {
        ev.preventDefault();
        if (!candidate.value) return;
        const person = byId.get(candidate.value);
        await save(() => api('PUT', '/admin/care-relationships', { client_id: clientId, staff_id: candidate.value, is_primary: primary.checked }),
          `${person.display_name} joined ${clientName}’s care team.`);
      },
    },
    h('label', { for: 'care-add' }, 'Add to the team'), candidate,
    h('label', { class: 'check-inline' }, primary, h('span', {}, 'Make primary')),
    addButton);

    const linked = new Set(links.map((l) => l.guardian_id));
    const guardians = people.filter((p) => p.role === 'guardian' && !p.disabled && !linked.has(p.account_id));
    const guardianPick = h('select', { id: 'guardian-add', class: 'select', onchange: () => { linkButton.disabled = !guardianPick.value; } },
      h('option', { value: '', selected: true, disabled: true }, WORDS.chooseGuardian),
      guardians.map((g) => h('option', { value: g.account_id }, g.display_name)));
    const linkButton = h('button', { type: 'submit', class: 'btn btn-primary', disabled: true }, 'Link guardian');
    const guardianForm = guardians.length
      ? h('form', {
        class: 'team-add',
        onsubmit: async (ev) => {
          ev.preventDefault();
          if (!guardianPick.value) return;
          const g = byId.get(guardianPick.value);
          await save(() => linkGuardian(g.account_id, clientId),
            `${g.display_name} now speaks for ${clientName} and joined their conversations.`);
        },
      }, h('label', { for: 'guardian-add' }, 'Add a guardian'), guardianPick, linkButton)
      : h('p', { class: 'muted admin-help' }, WORDS.noGuardiansToAdd);

    team.replaceChildren(
      h('fieldset', { class: 'team-box' },
        h('legend', {}, `Care team of ${clientName}`),
        rows.length ? h('ul', { class: 'team-list' }, rows) : h('p', { class: 'muted' }, 'No one yet. Staff can still message this client; add them here to make it official.')),
      addForm,
      h('section', { class: 'guardians', 'aria-labelledby': 'guardians-title' },
        h('h3', { id: 'guardians-title' }, 'Guardians'),
        links.length
          ? h('ul', { class: 'team-list' }, links.map((l) => {
            const g = byId.get(l.guardian_id) || { account_id: l.guardian_id, display_name: 'Unknown' };
            return h('li', { class: 'team-row' },
              avatar({ id: g.account_id, name: g.display_name }, { size: 'sm' }),
              h('span', { class: 'team-name', dir: 'auto' }, g.display_name),
              h('button', {
                type: 'button', class: 'btn btn-small btn-danger-quiet', 'aria-label': `Remove ${g.display_name} as guardian`,
                onclick: async () => {
                  const ok = await confirmDialog({
                    title: `Remove ${g.display_name} as guardian?`,
                    text: `${g.display_name} stops speaking for ${clientName} and leaves ${clientName}’s conversations at once. The messages stay in the record.`,
                    confirm: 'Remove guardian', danger: true,
                  });
                  if (!ok) return;
                  await save(() => unlinkGuardian(g.account_id, clientId), `${g.display_name} no longer speaks for ${clientName}.`);
                },
              }, 'Remove'));
          }))
          : h('p', { class: 'muted' }, WORDS.noGuardians),
        guardianForm),
    );
  }

  async function save(action, message) {
    try {
      await action();
      announce(message);
    } catch (err) {
      announce(err.message, { tone: 'error' });
    }
    await show();
  }

  start().catch((err) => team.replaceChildren(h('p', { class: 'form-error', role: 'alert' }, err.message)));
}
