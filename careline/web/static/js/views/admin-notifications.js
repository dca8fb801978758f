// The organisation's notification defaults, per audience (staff and admins; clients and
// guardians): what applies to everyone who has not chosen for themselves.

import { h, announce } from '../dom.js';
import { notificationDefaults, timeZones, updateNotificationDefaults } from '../notification-prefs.js';
import { spinner } from './common.js';

const WORDS = {
  title: 'Notifications',
  intro: 'These defaults apply to everyone who has not chosen for themselves. A person’s own choice always wins.',
  own: 'Your own notification settings',
  audiences: { staff: 'Staff and admins', clients: 'Clients and guardians' },
  builtIn: 'careline’s defaults apply until you save.',
  push: 'Push notifications',
  email: 'E-mail when a message stays unread',
  digest: 'Summary e-mail',
  quiet: 'Quiet hours',
  from: 'From',
  until: 'Until',
  zone: 'Time zone',
  off: 'Off',
  daily: 'Daily',
  weekly: 'Weekly',
  save: (audience) => `Save defaults for ${audience.toLowerCase()}`,
  saved: 'Defaults saved',
};

function audienceForm(audience, values, redraw) {
  const id = (name) => `default-${audience}-${name}`;
  const check = (name, label, checked) => h('div', { class: 'setting-choice' },
    h('input', { type: 'checkbox', id: id(name), checked }),
    h('label', { class: 'setting-label', for: id(name) }, label));
  const digest = h('select', { id: id('digest'), class: 'select' },
    [['off', WORDS.off], ['daily', WORDS.daily], ['weekly', WORDS.weekly]]
      .map(([v, label]) => h('option', { value: v, selected: values.digest === v }, label)));
  const start = h('input', { type: 'time', id: id('start'), class: 'input notif-time', value: values.quiet_start, required: true });
  const end = h('input', { type: 'time', id: id('end'), class: 'input notif-time', value: values.quiet_end, required: true });
  const zone = h('select', { id: id('zone'), class: 'select' },
    timeZones(values.time_zone).map((z) => h('option', { value: z, selected: z === values.time_zone }, z)));
  const save = h('button', { type: 'submit', class: 'btn btn-primary' }, WORDS.save(WORDS.audiences[audience]));
  const form = h('form', {
    class: 'setting-box notif-box',
    'aria-labelledby': id('title'),
    onsubmit: async (ev) => {
      ev.preventDefault();
      save.disabled = true;
      const value = (name) => form.querySelector(`#${id(name)}`).checked;
      try {
        redraw(await updateNotificationDefaults({
          [audience]: {
            push: value('push'),
            email: value('email'),
            digest: digest.value,
            quiet_hours: value('quiet'),
            quiet_start: start.value,
            quiet_end: end.value,
            time_zone: zone.value,
          },
        }));
        announce(WORDS.saved);
      } catch (err) {
        announce(err.message, { tone: 'error' });
        save.disabled = false;
      }
    },
  },
  h('h3', { id: id('title'), class: 'notif-legend' }, WORDS.audiences[audience]),
  values.custom ? null : h('p', { class: 'setting-help' }, WORDS.builtIn),
  check('push', WORDS.push, values.push),
  check('email', WORDS.email, values.email),
  h('div', { class: 'notif-row' }, h('label', { class: 'setting-label', for: id('digest') }, WORDS.digest), digest),
  check('quiet', WORDS.quiet, values.quiet_hours),
  h('div', { class: 'notif-times' },
    h('label', { for: id('start') }, WORDS.from), start,
    h('label', { for: id('end') }, WORDS.until), end),
  h('div', { class: 'notif-row' }, h('label', { class: 'setting-label', for: id('zone') }, WORDS.zone), zone),
  h('div', { class: 'notif-actions' }, save));
  return form;
}

export function notificationsSection(main) {
  const body = h('div', { class: 'notif-defaults' }, spinner('Loading notification defaults'));
  main.replaceChildren(
    h('div', { class: 'admin-section-head' }, h('h2', {}, WORDS.title)),
    h('p', { class: 'admin-help' }, WORDS.intro, ' ',
      h('a', { href: '/settings/notifications?from=admin', 'data-link': '' }, WORDS.own)),
    body,
  );
  const draw = (defaults) => body.replaceChildren(
    audienceForm('staff', defaults.staff, draw),
    audienceForm('clients', defaults.clients, draw),
  );
  notificationDefaults().then(draw)
    .catch((err) => body.replaceChildren(h('p', { class: 'form-error', role: 'alert' }, err.message)));
}
