// Notifications settings (from the account menu, in every portal): push on this device,
// and your own choices in this organisation — push, e-mail, digest, quiet hours and time
// zone — each of which may follow the organisation's default.

import { h, announce } from '../dom.js';
import { icon } from '../icons.js';
import { state } from '../store.js';
import { deviceTimeZone, myPreferences, timeZones, updateMyPreferences } from '../notification-prefs.js';
import { spinner } from './common.js';

const WORDS = {
  title: 'Notifications',
  back: 'Back',
  deviceLegend: 'This device',
  devicePush: 'Show notifications on this device',
  devicePushHelp: 'careline tells this browser when a message waits, without saying what it says or who wrote it.',
  devicePushUnsupported: 'This browser cannot show notifications from careline.',
  devicePushOn: 'Notifications are on for this device.',
  devicePushOff: 'Notifications are off for this device.',
  devicePushFailed: 'Notifications could not be changed: ',
  choicesLegend: (org) => `Your choices in ${org}`,
  choicesHelp: 'Anything you leave on the organisation’s default follows it when an admin changes it.',
  push: 'Push notifications',
  pushHelp: 'On every device where you turned them on.',
  email: 'E-mail',
  emailHelp: 'When a message is still unread after a while.',
  digest: 'Summary e-mail',
  digestHelp: 'How many unread messages wait for you, in the morning.',
  quiet: 'Quiet hours',
  quietHelp: 'Nothing is sent outside careline during these hours; it waits until they end.',
  from: 'From',
  until: 'Until',
  zone: 'Time zone',
  zonePreset: (zone) => `Set from this device (${zone}). Save to keep it.`,
  byDefault: (value) => `Organisation default (${value})`,
  on: 'On',
  off: 'Off',
  daily: 'Daily',
  weekly: 'Weekly',
  save: 'Save',
  saved: 'Notification settings saved',
  failed: 'Notification settings could not be saved: ',
  loadFailed: 'Notification settings could not be loaded: ',
};

const ON_OFF = [[true, WORDS.on], [false, WORDS.off]];
const DIGESTS = [['off', WORDS.off], ['daily', WORDS.daily], ['weekly', WORDS.weekly]];
const DEFAULT = '';

function labelOf(options, value) {
  const found = options.find(([v]) => v === value);
  return found ? found[1] : String(value);
}

// A select whose first option follows the organisation (null).
function choiceSelect(id, options, own, fallback) {
  return h('select', { id, class: 'select' },
    h('option', { value: DEFAULT, selected: own === null }, WORDS.byDefault(labelOf(options, fallback))),
    options.map(([value, label]) => h('option', { value: String(value), selected: own === value }, label)));
}

function readChoice(select, options) {
  if (select.value === DEFAULT) return null;
  return options.find(([v]) => String(v) === select.value)[0];
}

function row(id, label, help, control) {
  return h('div', { class: 'notif-row' },
    h('span', { class: 'setting-text' },
      h('label', { class: 'setting-label', for: id }, label),
      help ? h('span', { id: `${id}-help`, class: 'setting-help' }, help) : null),
    control);
}

async function loadPush() {
  try {
    return await import('../push.js');
  } catch {
    return null;
  }
}

function deviceSection() {
  const box = h('input', { type: 'checkbox', id: 'device-push', disabled: true, 'aria-describedby': 'device-push-help' });
  const note = h('p', { class: 'setting-help', id: 'device-push-help' }, WORDS.devicePushHelp);
  const section = h('fieldset', { class: 'setting-box notif-box' },
    h('legend', {}, WORDS.deviceLegend),
    h('div', { class: 'setting-choice' }, box,
      h('span', { class: 'setting-text' },
        h('label', { class: 'setting-label', for: 'device-push' }, WORDS.devicePush), note)));

  loadPush().then(async (push) => {
    if (!push || !push.pushSupported()) {
      note.textContent = WORDS.devicePushUnsupported;
      return;
    }
    box.checked = !!(await push.pushEnabled().catch(() => false));
    box.disabled = false;
    box.addEventListener('change', async () => {
      const wanted = box.checked;
      box.disabled = true;
      try {
        await (wanted ? push.enablePush() : push.disablePush());
        announce(wanted ? WORDS.devicePushOn : WORDS.devicePushOff);
      } catch (err) {
        announce(`${WORDS.devicePushFailed}${err.message}`, { tone: 'error' });
      }
      box.checked = !!(await push.pushEnabled().catch(() => false));
      box.disabled = false;
    });
  });
  return section;
}

function choicesForm(prefs, draw) {
  const d = prefs.defaults;
  const push = choiceSelect('pref-push', ON_OFF, prefs.push, d.push);
  const email = choiceSelect('pref-email', ON_OFF, prefs.email, d.email);
  const digest = choiceSelect('pref-digest', DIGESTS, prefs.digest, d.digest);
  const quiet = choiceSelect('pref-quiet', ON_OFF, prefs.quiet_hours, d.quiet_hours);
  const start = h('input', { type: 'time', id: 'pref-quiet-start', class: 'input notif-time', value: prefs.effective.quiet_start, required: true });
  const end = h('input', { type: 'time', id: 'pref-quiet-end', class: 'input notif-time', value: prefs.effective.quiet_end, required: true });
  // The time zone is preset from this device when the person never chose one.
  const device = deviceTimeZone();
  const preset = prefs.time_zone === null && device && device !== d.time_zone ? device : null;
  const zoneValue = prefs.time_zone || preset;
  const zone = h('select', { id: 'pref-zone', class: 'select', 'aria-describedby': 'pref-zone-help' },
    h('option', { value: DEFAULT, selected: !zoneValue }, WORDS.byDefault(d.time_zone)),
    timeZones(prefs.time_zone, preset, d.time_zone).map((z) => h('option', { value: z, selected: z === zoneValue }, z)));
  const zoneHelp = h('span', { id: 'pref-zone-help', class: 'setting-help' }, preset ? WORDS.zonePreset(preset) : '');
  const save = h('button', { type: 'submit', class: 'btn btn-primary' }, WORDS.save);

  // A time left at what the organisation would give keeps following it.
  const timeChoice = (input, own, fallback) => (own === null && input.value === fallback ? null : input.value);

  async function submit(ev) {
    ev.preventDefault();
    save.disabled = true;
    try {
      const changes = {
        push: readChoice(push, ON_OFF),
        email: readChoice(email, ON_OFF),
        digest: readChoice(digest, DIGESTS),
        quiet_hours: readChoice(quiet, ON_OFF),
        quiet_start: timeChoice(start, prefs.quiet_start, d.quiet_start),
        quiet_end: timeChoice(end, prefs.quiet_end, d.quiet_end),
        time_zone: zone.value === DEFAULT ? null : zone.value,
      };
      draw(await updateMyPreferences(changes));
      announce(WORDS.saved);
    } catch (err) {
      announce(`${WORDS.failed}${err.message}`, { tone: 'error' });
      save.disabled = false;
    }
  }

  return h('form', { class: 'setting-box notif-box notif-form', onsubmit: submit },
    h('h2', { class: 'notif-legend' }, WORDS.choicesLegend(state.me.tenant_name)),
    h('p', { class: 'setting-help' }, WORDS.choicesHelp),
    row('pref-push', WORDS.push, WORDS.pushHelp, push),
    row('pref-email', WORDS.email, WORDS.emailHelp, email),
    row('pref-digest', WORDS.digest, WORDS.digestHelp, digest),
    row('pref-quiet', WORDS.quiet, WORDS.quietHelp, quiet),
    h('div', { class: 'notif-times' },
      h('label', { for: 'pref-quiet-start' }, WORDS.from), start,
      h('label', { for: 'pref-quiet-end' }, WORDS.until), end),
    h('div', { class: 'notif-row' },
      h('span', { class: 'setting-text' }, h('label', { class: 'setting-label', for: 'pref-zone' }, WORDS.zone), zoneHelp),
      zone),
    h('div', { class: 'notif-actions' }, save));
}

export function notificationSettingsPage() {
  const body = h('div', { class: 'notif-body' }, spinner('Loading notification settings'));
  const main = h('main', { id: 'main', class: 'notif-main', tabindex: '-1' },
    deviceSection(), body);
  const root = h('div', { class: 'notif-page' },
    h('header', { class: 'notif-head' },
      h('a', { href: state.me.role === 'admin' && location.search.includes('from=admin') ? '/admin' : '/', class: 'btn btn-quiet back-link', 'data-link': '' },
        icon('back', { size: 18 }), h('span', {}, WORDS.back)),
      h('div', { class: 'notif-title' }, h('h1', {}, WORDS.title), h('p', { class: 'org' }, state.me.tenant_name))),
    main);

  const draw = (prefs) => body.replaceChildren(choicesForm(prefs, draw));
  myPreferences().then(draw)
    .catch((err) => body.replaceChildren(h('p', { class: 'form-error', role: 'alert' }, `${WORDS.loadFailed}${err.message}`)));
  return root;
}
