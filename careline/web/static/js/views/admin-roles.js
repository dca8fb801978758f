// Changing someone's role: a dialog that asks first and says what the new role allows.

import { h, focus } from '../dom.js';
import { openDialog } from './common.js';

const ALLOWS = {
  admin: {
    noun: 'an admin',
    text: 'Admins can add and remove people, change roles, sign people out, set care teams and guardians, see quarantined files and change the organisation’s settings. They also answer the support desk.',
  },
  staff: {
    noun: 'staff',
    text: 'Staff can message clients and their families, start team conversations with colleagues, and see everyone in the organisation. They cannot manage people or settings.',
  },
  client: {
    noun: 'a client',
    text: 'Clients can message their care team and the support desk, and see only the people they share a conversation with. They lose any staff or admin access now.',
  },
  guardian: {
    noun: 'a guardian',
    text: 'Guardians speak for the clients they are linked to (set under Care teams): they see and write in those clients’ conversations, and nothing else. They lose any staff or admin access now.',
  },
};

/** Resolves true when the admin confirms making `person` a `role`. */
export function confirmRoleChange(person, role) {
  const about = ALLOWS[role];
  return new Promise((resolve) => {
    let answer = false;
    const textId = 'role-change-text';
    const yes = h('button', { type: 'button', class: 'btn btn-primary', onclick: () => { answer = true; dlg.close(); } },
      `Make ${about.noun}`);
    const no = h('button', { type: 'button', class: 'btn btn-quiet', onclick: () => dlg.close() }, 'Cancel');
    const dlg = openDialog({
      title: `Make ${person.display_name} ${about.noun}?`,
      content: h('div', { id: textId, class: 'role-change' },
        h('p', { class: 'dialog-text' }, about.text),
        h('p', { class: 'dialog-text muted' }, `They are ${ALLOWS[person.role].noun} now. Open conversations stay as they are.`)),
      actions: [no, yes],
      cls: 'dialog-small',
      describedBy: textId,
      onClose: () => resolve(answer),
    });
    focus(no);
  });
}
