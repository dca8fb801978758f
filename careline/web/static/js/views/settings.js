// The person's own settings in this organisation (from the account menu): for now,
// whether archived conversations stay archived when a new message comes.

import { h, announce } from '../dom.js';
import { state, setKeepArchived } from '../store.js';
import { openDialog } from './common.js';

const TEXT = {
  title: 'Settings',
  keep: 'Keep archived conversations archived',
  keepHelp: 'When this is off, a new message from someone else brings an archived conversation back to your inbox. The Archived tab always shows how many of its conversations have unread messages.',
  saved: 'Settings saved',
  failed: 'Settings could not be saved: ',
};

export function settingsDialog() {
  const helpId = 'keep-archived-help';
  const box = h('input', {
    type: 'checkbox', id: 'keep-archived', 'aria-describedby': helpId,
    checked: !!state.me.keep_archived,
    onchange: async () => {
      box.disabled = true;
      try {
        await setKeepArchived(box.checked);
        announce(TEXT.saved);
      } catch (err) {
        box.checked = !!state.me.keep_archived;
        announce(`${TEXT.failed}${err.message}`, { tone: 'error' });
      } finally {
        box.disabled = false;
      }
    },
  });
  return openDialog({
    title: TEXT.title,
    cls: 'dialog-small',
    content: h(
      'div',
      { class: 'settings-body' },
      h('label', { class: 'check-inline', for: 'keep-archived' }, box, h('span', {}, TEXT.keep)),
      h('p', { id: helpId, class: 'settings-help' }, TEXT.keepHelp),
    ),
  });
}
