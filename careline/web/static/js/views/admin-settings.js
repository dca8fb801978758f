// The organisation's settings: who may start a conversation with whom, and whether
// devices keep recent conversations for offline reading; unread escalation.

import { h, announce } from '../dom.js';
import { organisationSettings, updateOrganisationSettings } from '../admin-data.js';
import { spinner } from './common.js';
import { escalationBox } from './admin-escalation.js';

const WORDS = {
  startLegend: 'Who may start a conversation with a client',
  anyClient: 'Any client of the organisation',
  anyClientHelp: 'A clinician can always reach a client, also one without a primary clinician recorded. Recommended.',
  careTeam: 'Only clients of their care team',
  careTeamHelp: 'A clinician starts conversations only with clients whose care team they are in (set under Care teams). Conversations that exist stay open; admins can always start one.',
  storageLegend: 'Offline reading',
  storage: 'Keep recent conversations on devices for offline reading',
  storageHelp: 'Recent conversations and their latest messages are kept on each signed-in device, so they can be read without a connection. They are deleted on sign-out and when the session ends. Turn this off if people use shared or unmanaged devices.',
  saved: 'Settings saved.',
};

export function settingsSection(main) {
  const body = h('div', { class: 'org-settings' }, spinner('Loading settings'));
  main.replaceChildren(h('div', { class: 'admin-section-head' }, h('h2', {}, 'Settings')), body);

  const choice = (value, label, help, checked) =>
    h('div', { class: 'setting-choice' },
      h('input', {
        type: 'radio', name: 'conversation-start', id: `start-${value}`, value, checked,
        'aria-describedby': `start-${value}-help`,
        onchange: () => save({ conversation_start: value }),
      }),
      h('span', { class: 'setting-text' },
        h('label', { class: 'setting-label', for: `start-${value}` }, label),
        h('span', { id: `start-${value}-help`, class: 'setting-help' }, help)));

  async function save(changes) {
    body.querySelectorAll('input').forEach((i) => { i.disabled = true; });
    try {
      draw(await updateOrganisationSettings(changes));
      announce(WORDS.saved);
    } catch (err) {
      announce(err.message, { tone: 'error' });
      draw(await organisationSettings());
    }
  }

  function draw(s) {
    const storage = h('input', {
      type: 'checkbox', id: 'device-storage', checked: s.device_storage, 'aria-describedby': 'device-storage-help',
      onchange: () => save({ device_storage: storage.checked }),
    });
    body.replaceChildren(
      h('fieldset', { class: 'setting-box' },
        h('legend', {}, WORDS.startLegend),
        choice('any_client', WORDS.anyClient, WORDS.anyClientHelp, s.conversation_start === 'any_client'),
        choice('care_team', WORDS.careTeam, WORDS.careTeamHelp, s.conversation_start === 'care_team')),
      h('fieldset', { class: 'setting-box' },
        h('legend', {}, WORDS.storageLegend),
        h('div', { class: 'setting-choice' }, storage,
          h('span', { class: 'setting-text' },
            h('label', { class: 'setting-label', for: 'device-storage' }, WORDS.storage),
            h('span', { id: 'device-storage-help', class: 'setting-help' }, WORDS.storageHelp)))),
      escalationBox(s, save),
    );
  }

  organisationSettings().then(draw)
    .catch((err) => body.replaceChildren(h('p', { class: 'form-error', role: 'alert' }, err.message)));
}
