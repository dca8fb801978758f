// Sign-in: e-mail and password, an organisation choice when the account has several,
// and clear errors (wrong details, too many attempts, no connection).

import { h, focus } from '../dom.js';
import { icon } from '../icons.js';
import { signIn } from '../store.js';

export function signInView({ notice = null, onSignedIn }) {
  const error = h('p', { class: 'form-error', id: 'signin-error', role: 'alert', hidden: true });
  const email = h('input', {
    id: 'email', name: 'email', type: 'email', autocomplete: 'username', required: true,
    autocapitalize: 'none', spellcheck: 'false', 'aria-describedby': 'signin-error',
  });
  const password = h('input', {
    id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true,
    'aria-describedby': 'signin-error',
  });
  const reveal = h('button', {
    type: 'button', class: 'reveal', 'aria-pressed': 'false', 'aria-controls': 'password',
    onclick: () => {
      const shown = password.type === 'text';
      password.type = shown ? 'password' : 'text';
      reveal.setAttribute('aria-pressed', shown ? 'false' : 'true');
      reveal.textContent = shown ? 'Show' : 'Hide';
    },
  }, 'Show');
  const tenants = h('fieldset', { class: 'tenant-choice', hidden: true });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, 'Sign in');

  function showError(text) {
    error.textContent = text;
    error.hidden = false;
  }

  const form = h(
    'form',
    {
      class: 'signin-form',
      novalidate: true,
      onsubmit: async (ev) => {
        ev.preventDefault();
        error.hidden = true;
        if (!email.value.trim() || !password.value) {
          showError('Enter your e-mail address and password.');
          focus(!email.value.trim() ? email : password);
          return;
        }
        const chosen = tenants.querySelector('input:checked');
        submit.disabled = true;
        submit.textContent = 'Signing in…';
        try {
          const me = await signIn({ email: email.value.trim(), password: password.value, tenant: chosen && chosen.value });
          onSignedIn(me);
        } catch (err) {
          submit.disabled = false;
          submit.textContent = 'Sign in';
          if (err.code === 'tenant_choice_required') {
            showTenants(err.problem.tenants || []);
            showError('Your account belongs to several organisations. Choose one to continue.');
          } else if (err.code === 'rate_limited' || err.status === 429) {
            showError('Too many attempts. Wait a few minutes, then try again.');
          } else if (err.status === 401) {
            showError('That e-mail address and password do not match. Check them and try again.');
            focus(password);
            password.select();
          } else if (err.code === 'no_membership') {
            showError('You are not a member of that organisation.');
          } else if (err.status === 0) {
            showError('careline could not be reached. Check your connection and try again.');
          } else {
            showError(err.message);
          }
        }
      },
    },
    h('div', { class: 'field' }, h('label', { for: 'email' }, 'E-mail address'), email),
    h('div', { class: 'field' },
      h('label', { for: 'password' }, 'Password'),
      h('div', { class: 'password-wrap' }, password, reveal)),
    tenants,
    error,
    submit,
  );

  function showTenants(list) {
    // A link that named its organisation (?org= in `next`, as notifications do) chooses it.
    const next = new URLSearchParams(location.search).get('next') || '';
    const wanted = new URLSearchParams(next.split('?')[1] || '').get('org');
    const at = Math.max(0, list.findIndex((t) => t.id === wanted));
    tenants.replaceChildren(
      h('legend', {}, 'Organisation'),
      ...list.map((t, i) =>
        h('label', { class: 'radio' },
          h('input', { type: 'radio', name: 'tenant', value: t.slug, checked: i === at }),
          h('span', {}, t.name)),
      ),
    );
    tenants.hidden = false;
  }

  const view = h(
    'div',
    { class: 'signin' },
    h(
      'main',
      { class: 'signin-card', id: 'main' },
      h('div', { class: 'brand' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }), h('span', { class: 'brand-name' }, 'careline')),
      h('h1', { class: 'signin-title' }, 'Sign in'),
      h('p', { class: 'signin-sub' }, 'Message your care team securely.'),
      notice ? h('p', { class: 'notice', role: 'status' }, icon('lock', { size: 18 }), h('span', {}, notice)) : null,
      form,
    ),
    h('footer', { class: 'signin-foot' }, 'Messages are encrypted and kept as part of the care record.'),
  );
  requestAnimationFrame(() => focus(email));
  return view;
}
