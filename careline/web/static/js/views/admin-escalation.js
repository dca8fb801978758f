// The admin's unread escalation settings (docs/notifications.md, "escalation"): turn it
// on, the two thresholds in working hours, and the working week they count in. Part of
// the organisation's settings (admin-settings.js saves through the same PATCH).

import { h } from '../dom.js';

const WORDS = {
  legend: 'Unread escalation',
  on: 'Tell more people when a message from a client waits unread',
  onHelp: 'When no staff member in the conversation has read a message from a client or guardian in time, the client\'s other care-team staff are told; if it is still unread later, the admins. It stops as soon as a staff member in the conversation reads it. Notices never say who wrote or what.',
  hours: 'Care team after (working hours)',
  adminHours: 'Admins after (working hours, optional)',
  timeZone: 'Time zone',
  start: 'Working day starts',
  end: 'Working day ends',
  days: 'Working days',
  dayNames: ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'],
};

// What the switch turns on with (the API takes any value from 0.5 to 168 / 336).
export const DEFAULT_HOURS = 4;
export const DEFAULT_ADMIN_HOURS = 8;

function zones() {
  try {
    return Intl.supportedValuesOf('timeZone');
  } catch {
    return [];
  }
}

/** The fieldset; `save(changes)` sends a PATCH of the organisation settings. */
export function escalationBox(s, save) {
  const on = s.escalation_hours !== null && s.escalation_hours !== undefined;
  const toggle = h('input', {
    type: 'checkbox', id: 'escalation-on', checked: on, 'aria-describedby': 'escalation-on-help',
    onchange: () => save(toggle.checked
      ? { escalation_hours: DEFAULT_HOURS, escalation_admin_hours: DEFAULT_ADMIN_HOURS }
      : { escalation_hours: null }),
  });
  const number = (id, value, max, onvalue) => {
    const input = h('input', {
      type: 'number', id, class: 'input', min: '0.5', max: String(max), step: '0.5',
      value: value === null || value === undefined ? '' : String(value), disabled: !on,
      onchange: () => onvalue(input.value === '' ? null : Number(input.value)),
    });
    return input;
  };
  const field = (label, input) => h('label', {}, label, input);
  const hours = number('escalation-hours', s.escalation_hours, 168, (v) => save({ escalation_hours: v }));
  const adminHours = number('escalation-admin-hours', s.escalation_admin_hours, 336,
    (v) => save({ escalation_admin_hours: v }));
  const zone = h('input', {
    type: 'text', id: 'work-time-zone', class: 'input', value: s.time_zone, list: 'work-time-zones',
    autocomplete: 'off', spellcheck: 'false',
    onchange: () => save({ time_zone: zone.value.trim() }),
  });
  const time = (id, value, key) => {
    const input = h('input', {
      type: 'time', id, class: 'input', value, step: '60',
      onchange: () => save({ [key]: input.value.slice(0, 5) }),
    });
    return input;
  };
  const days = WORDS.dayNames.map((name, i) => {
    const box = h('input', {
      type: 'checkbox', value: String(i + 1), checked: s.work_days.includes(i + 1),
      onchange: () => save({
        work_days: [...daysBox.querySelectorAll('input:checked')].map((b) => Number(b.value)),
      }),
    });
    return h('label', {}, box, name);
  });
  const daysBox = h('fieldset', { class: 'escalation-days' }, h('legend', {}, WORDS.days), days);
  return h('fieldset', { class: 'setting-box escalation-settings' },
    h('legend', {}, WORDS.legend),
    h('div', { class: 'setting-choice' }, toggle,
      h('span', { class: 'setting-text' },
        h('label', { class: 'setting-label', for: 'escalation-on' }, WORDS.on),
        h('span', { id: 'escalation-on-help', class: 'setting-help' }, WORDS.onHelp))),
    h('div', { class: 'escalation-fields' },
      field(WORDS.hours, hours),
      field(WORDS.adminHours, adminHours),
      field(WORDS.timeZone, zone),
      field(WORDS.start, time('work-start', s.work_start, 'work_start')),
      field(WORDS.end, time('work-end', s.work_end, 'work_end'))),
    h('datalist', { id: 'work-time-zones' }, zones().map((z) => h('option', { value: z }))),
    daysBox,
  );
}
