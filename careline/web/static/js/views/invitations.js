// Invitations: the admin's "add person" (an invitation, with its link shown once when
// careline sends no e-mail), the list of invitations still waiting, the invite page a
// link opens (for a new account and for an existing one), and the notice that tells a
// signed-in person an organisation has invited them.

import { h, focus, announce } from '../dom.js';
import { icon } from '../icons.js';
import { api, listAll } from '../api.js';
import { relativeMoment } from '../format.js';
import { openDialog, confirmDialog } from './common.js';

const ROLES = [
  ['admin', 'Admin'],
  ['staff', 'Staff'],
  ['client', 'Client'],
  ['guardian', 'Guardian'],
];

const WORDS = {
  delivery: { link: 'Link given to you', queued: 'E-mail on its way', sent: 'E-mailed', failed: 'E-mail refused' },
  linkHelp: 'Pass this link on to them yourself, in person or by phone. It is shown only once, works once, and expires',
  mailed: 'We have e-mailed them a link to accept. It works once, and expires',
  joinsLater: 'They join once they accept; until then only what you typed is shown.',
  gone: {
    invitation_not_found: 'This invitation link is not valid. A newer invitation may have replaced it: ask for a new one.',
    invitation_expired: 'This invitation has expired. Ask the organisation to invite you again.',
    invitation_used: 'This invitation has been accepted already. Sign in to carry on.',
    invitation_revoked: 'This invitation was withdrawn.',
    invitation_declined: 'This invitation was declined.',
  },
  accountExists: 'This e-mail address already has a careline account. Choose “I already use careline” and sign in with its password.',
  wrongPassword: 'That password does not match the account of this e-mail address.',
};

function expiryText(expiresAt) {
  return `on ${new Date(expiresAt).toLocaleDateString(undefined, { day: 'numeric', month: 'long', year: 'numeric' })}.`;
}

// admin: invite -----------------------------------------------------------------------

export function invitePerson(done) {
  const name = h('input', { id: 'new-name', class: 'input', required: true, maxlength: 200, autocomplete: 'off' });
  const email = h('input', { id: 'new-email', class: 'input', type: 'email', required: true, autocomplete: 'off' });
  const role = h('select', { id: 'new-role', class: 'select' }, ROLES.map(([v, l]) => h('option', { value: v, selected: v === 'client' }, l)));
  const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Add person');
  const form = h(
    'form',
    {
      class: 'form',
      onsubmit: async (ev) => {
        ev.preventDefault();
        error.hidden = true;
        submit.disabled = true;
        try {
          const created = await api('POST', '/admin/members', { display_name: name.value.trim(), email: email.value.trim(), role: role.value });
          dlg.close();
          done();
          showInvited(created);
        } catch (err) {
          submit.disabled = false;
          const fields = (err.problem.errors || []).map((e) => e.field.split('.').pop()).join(', ');
          error.textContent = fields ? `Check: ${fields}.` : err.message;
          error.hidden = false;
        }
      },
    },
    h('p', { class: 'dialog-text' }, 'They are invited, and join once they accept with their own password.'),
    h('div', { class: 'field' }, h('label', { for: 'new-name' }, 'Full name'), name),
    h('div', { class: 'field' }, h('label', { for: 'new-email' }, 'E-mail address'), email),
    h('div', { class: 'field' }, h('label', { for: 'new-role' }, 'Role'), role),
    error,
    h('div', { class: 'dialog-actions inline' }, submit),
  );
  const dlg = openDialog({ title: 'Add a person', content: form });
  focus(name);
}

function showInvited(created) {
  const inv = created.invitation;
  const parts = [h('p', { class: 'dialog-text' }, WORDS.joinsLater)];
  if (created.link) {
    const copy = h('button', {
      type: 'button', class: 'btn btn-primary',
      onclick: async () => {
        try {
          await navigator.clipboard.writeText(created.link);
          announce('Link copied.');
        } catch {
          announce('Select the link and copy it.', { tone: 'error' });
        }
      },
    }, icon('copy', { size: 16 }), h('span', {}, 'Copy link'));
    parts.push(
      h('p', { class: 'dialog-text' }, `${WORDS.linkHelp} ${expiryText(inv.expires_at)}`),
      h('p', { class: 'secret secret-link', tabindex: '0', 'aria-label': 'Invitation link' }, created.link),
      h('div', { class: 'dialog-actions inline' }, copy),
    );
  } else {
    parts.push(h('p', { class: 'dialog-text' }, `${WORDS.mailed} ${expiryText(inv.expires_at)}`));
  }
  openDialog({ title: `${inv.display_name} was invited`, content: h('div', {}, ...parts) });
}

// admin: waiting invitations ------------------------------------------------------------

export function pendingInvitations() {
  const body = h('tbody');
  const section = h('section', { class: 'pending', 'aria-labelledby': 'pending-title', hidden: true },
    h('h3', { id: 'pending-title' }, 'Invited, not yet joined'),
    h('div', { class: 'table-wrap' },
      h('table', { class: 'table' },
        h('caption', { class: 'sr-only' }, 'Invitations waiting for an answer'),
        h('thead', {}, h('tr', {},
          h('th', { scope: 'col' }, 'Person'), h('th', { scope: 'col' }, 'Role'), h('th', { scope: 'col' }, 'Invitation'),
          h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions')))),
        body)));

  async function reload() {
    const items = await listAll('/admin/invitations');
    section.hidden = items.length === 0;
    body.replaceChildren(...items.map(row));
  }

  function row(inv) {
    const withdraw = h('button', {
      type: 'button', class: 'btn btn-small btn-danger-quiet', 'aria-label': `Withdraw the invitation of ${inv.display_name}`,
      onclick: async () => {
        const ok = await confirmDialog({
          title: `Withdraw ${inv.display_name}’s invitation?`,
          text: 'Their link stops working at once. You can invite them again later.',
          confirm: 'Withdraw', danger: true,
        });
        if (!ok) return;
        try {
          await api('DELETE', `/admin/invitations/${inv.id}`);
          announce(`${inv.display_name}’s invitation was withdrawn.`);
        } catch (err) {
          announce(err.message, { tone: 'error' });
        }
        reload();
      },
    }, 'Withdraw');
    const state = inv.expired ? 'Expired' : `${WORDS.delivery[inv.delivery]}, expires ${relativeMoment(inv.expires_at)}`;
    return h('tr', { class: 'is-pending' },
      h('td', { 'data-label': 'Person' },
        h('div', { class: 'person-name', dir: 'auto' }, inv.display_name, h('span', { class: 'tag' }, 'pending')),
        h('div', { class: 'person-detail' }, inv.email)),
      h('td', { 'data-label': 'Role' }, inv.role),
      h('td', { 'data-label': 'Invitation', class: 'muted' }, state),
      h('td', { class: 'actions' }, withdraw));
  }

  return { section, reload };
}

// a signed-in person: invitations addressed to them --------------------------------------

export function invitationsNotice() {
  const box = h('aside', { class: 'invite-notice', 'aria-label': 'Invitations', hidden: true });

  async function reload() {
    let offers = [];
    try {
      offers = await api('GET', '/invitations');
    } catch {
      return; // Not being able to list them now hides nothing that matters.
    }
    box.hidden = offers.length === 0;
    box.replaceChildren(...offers.map(offer));
  }

  function offer(o) {
    const answer = async (verb) => {
      try {
        await api('POST', `/invitations/${o.id}/${verb}`);
        announce(verb === 'accept'
          ? `You joined ${o.tenant_name}. To use it, sign out and sign in again choosing ${o.tenant_name}.`
          : `You declined the invitation of ${o.tenant_name}.`);
      } catch (err) {
        announce(err.message, { tone: 'error' });
      }
      reload();
    };
    return h('div', { class: 'invite-offer', role: 'group', 'aria-label': `Invitation from ${o.tenant_name}` },
      h('p', {}, h('strong', { dir: 'auto' }, o.tenant_name), ` invited you to join as ${o.role}.`),
      h('div', { class: 'invite-actions' },
        h('button', { type: 'button', class: 'btn btn-small btn-primary', onclick: () => answer('accept') }, 'Accept'),
        h('button', { type: 'button', class: 'btn btn-small btn-quiet', onclick: () => answer('decline') }, 'Decline')));
  }

  reload();
  return box;
}

// the invite page -------------------------------------------------------------------------

export function invitePage(token) {
  const card = h('main', { class: 'signin-card', id: 'main' },
    h('div', { class: 'brand' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }), h('span', { class: 'brand-name' }, 'careline')),
    h('h1', { class: 'signin-title' }, 'Invitation'),
    h('p', { class: 'signin-sub' }, 'Checking your invitation…'));
  const view = h('div', { class: 'signin' }, card,
    h('footer', { class: 'signin-foot' }, 'Messages are encrypted and kept as part of the care record.'));
  const stop = (text) => card.replaceChildren(card.firstChild, h('h1', { class: 'signin-title' }, 'Invitation'),
    h('p', { class: 'notice', role: 'alert' }, text),
    h('a', { href: '/signin', class: 'btn btn-quiet', 'data-link': '' }, 'Go to sign-in'));
  if (!token) {
    stop(WORDS.gone.invitation_not_found);
    return view;
  }
  api('POST', '/invitations/preview', { token }, { quiet401: true })
    .then((offer) => card.replaceChildren(card.firstChild, ...acceptForm(token, offer)))
    .catch((err) => stop(WORDS.gone[err.code] || err.message));
  return view;
}

function acceptForm(token, offer) {
  const error = h('p', { class: 'form-error', id: 'invite-error', role: 'alert', hidden: true });
  const choice = (value, label, checked) => h('label', { class: 'radio' },
    h('input', { type: 'radio', name: 'kind', value, checked, onchange: () => show(value) }), h('span', {}, label));
  const name = h('input', { id: 'invite-name', class: 'input', maxlength: 200, autocomplete: 'name', value: offer.display_name });
  const password = h('input', { id: 'invite-password', class: 'input', type: 'password', required: true, autocomplete: 'new-password', 'aria-describedby': 'invite-error' });
  const passwordLabel = h('label', { for: 'invite-password' }, 'Choose a password (10 characters or more)');
  const nameField = h('div', { class: 'field' }, h('label', { for: 'invite-name' }, 'Your name'), name);
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, 'Accept and join');
  let kind = 'new';

  function show(value) {
    kind = value;
    nameField.hidden = kind !== 'new';
    passwordLabel.textContent = kind === 'new' ? 'Choose a password (10 characters or more)' : 'Your careline password';
    password.autocomplete = kind === 'new' ? 'new-password' : 'current-password';
  }

  const form = h('form', {
    class: 'signin-form', novalidate: true,
    onsubmit: async (ev) => {
      ev.preventDefault();
      error.hidden = true;
      submit.disabled = true;
      const body = { token, password: password.value };
      if (kind === 'new') body.display_name = name.value.trim();
      try {
        await api('POST', '/invitations/accept', body, { quiet401: true });
        location.assign('/');
      } catch (err) {
        submit.disabled = false;
        error.textContent = err.code === 'account_exists' ? WORDS.accountExists
          : err.status === 401 ? WORDS.wrongPassword
            : err.status === 429 ? 'Too many attempts. Wait a few minutes, then try again.'
              : WORDS.gone[err.code] || err.message;
        error.hidden = false;
        focus(password);
      }
    },
  },
  h('fieldset', { class: 'tenant-choice' },
    h('legend', {}, 'Do you already use careline?'),
    choice('new', 'I am new to careline', true),
    choice('existing', 'I already use careline', false)),
  nameField,
  h('div', { class: 'field' }, passwordLabel, password),
  error,
  submit);

  requestAnimationFrame(() => focus(name));
  return [
    h('h1', { class: 'signin-title' }, `Join ${offer.tenant_name}`),
    h('p', { class: 'signin-sub' }, `You were invited as ${offer.email}. The invitation expires ${expiryText(offer.expires_at)}`),
    form,
  ];
}
