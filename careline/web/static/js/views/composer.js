// The composer: Enter sends, Shift+Enter is a new line, Escape cancels a reply or edit.
// Drafts are saved as you type (per conversation, on this device), so neither a reload
// nor an ended session loses them. A message sent while its files are still uploading or
// being checked waits in the outbox and goes out with them once they are clean; while the
// server has no virus scanner, file sharing is paused and the composer says why.

import { h, focus, announce } from '../dom.js';
import { icon } from '../icons.js';
import { firstName } from '../format.js';
import { state, send, edit, draft, saveDraft, typing, stopTyping, nameOf, filesSettled, fileUploaded } from '../store.js';
import { acceptPaste, attachButton, uploadTray } from '../attachments.js';
import { onSharing, pausedBecause, refreshSharing, PAUSED_TITLE, PAUSED_AFTER } from '../filesharing.js';

const MAX = 10_000;
const PAUSED_ATTACH = 'File sharing is paused';

export function composer(conversationId, { placeholder, onSent }) {
  let mode = null; // null | {reply: message} | {edit: message}
  const context = h('div', { class: 'composer-context', hidden: true });
  const input = h('textarea', {
    id: 'composer-input', class: 'composer-input', rows: '1', dir: 'auto', maxlength: String(MAX),
    placeholder, 'aria-label': placeholder, enterkeyhint: 'send', 'aria-describedby': 'composer-hint',
    autocomplete: 'off',
  });
  const hint = h('p', { id: 'composer-hint', class: 'composer-hint' }, 'Enter to send · Shift+Enter for a new line');
  const sendBtn = h('button', { type: 'submit', class: 'send-btn', 'aria-label': 'Send message', title: 'Send' }, icon('send', { size: 20 }));
  const tray = uploadTray(conversationId, { onChange: () => resize() });
  const paused = h('p', { class: 'sharing-paused', role: 'status', hidden: true });
  const attach = attachButton((files) => addFiles(files));
  const attachBtn = attach.querySelector('button');
  acceptPaste(input, (files) => addFiles(files));

  function showSharing() {
    const why = pausedBecause();
    paused.hidden = !why;
    paused.replaceChildren(...(why ? [h('strong', {}, `${PAUSED_TITLE}: `), `${why}. ${PAUSED_AFTER}`] : []));
    attachBtn.setAttribute('aria-disabled', why ? 'true' : 'false');
    attachBtn.title = why ? `${PAUSED_ATTACH}: ${why}` : 'Attach files';
    attachBtn.setAttribute('aria-label', why ? `Attach files (${PAUSED_ATTACH.toLowerCase()})` : 'Attach files');
  }
  const offSharing = onSharing(showSharing);
  attach.addEventListener('click', (ev) => {
    const why = pausedBecause();
    if (!why || !attachBtn.contains(ev.target)) return;
    ev.preventDefault();
    ev.stopImmediatePropagation();
    announce(`${PAUSED_TITLE}: ${why}.`, { tone: 'error' });
  }, true);

  async function addFiles(files) {
    const list = [...files];
    if (!list.length) return;
    if (!(await refreshSharing())) {
      showSharing();
      announce(`${PAUSED_TITLE}: ${pausedBecause()}. Your files were not attached.`, { tone: 'error' });
      return;
    }
    tray.add(list);
  }

  input.value = draft(conversationId);
  let saveTimer = null;

  function resize() {
    input.style.setProperty('height', 'auto');
    input.style.setProperty('height', `${Math.min(input.scrollHeight, 180)}px`);
    sendBtn.disabled = !input.value.trim() && !tray.ready().length && !tray.busy();
  }

  function setMode(next) {
    mode = next;
    if (!mode) {
      context.hidden = true;
      context.replaceChildren();
      return;
    }
    const message = mode.reply || mode.edit;
    const heading = mode.reply
      ? `Replying to ${message.sender_id === state.me.account_id ? 'yourself' : firstName(nameOf(message.sender_id))}`
      : 'Editing message';
    context.replaceChildren(
      icon(mode.reply ? 'reply' : 'edit', { size: 18 }),
      h('div', { class: 'context-text' },
        h('span', { class: 'context-title' }, heading),
        h('span', { class: 'context-quote', dir: 'auto' }, message.text || '')),
      h('button', { type: 'button', class: 'icon-btn', 'aria-label': mode.reply ? 'Cancel reply' : 'Cancel editing', onclick: () => cancel() }, icon('x', { size: 18 })),
    );
    context.hidden = false;
  }

  function cancel() {
    if (mode && mode.edit) input.value = draft(conversationId);
    setMode(null);
    resize();
    focus(input);
  }

  async function submit() {
    const text = input.value.trim();
    const files = mode && mode.edit ? [] : tray.ready();
    if (!text && !files.length && !(mode && mode.edit ? false : tray.busy())) return;
    if (text.length > MAX) {
      announce(`A message can be at most ${MAX} characters.`, { tone: 'error' });
      return;
    }
    if (mode && mode.edit) {
      const message = mode.edit;
      try {
        if (text !== message.text) await edit(message, text);
        input.value = draft(conversationId);
        setMode(null);
        resize();
      } catch (err) {
        announce(err.code === 'disconnected' ? 'You are offline: the edit was not saved.' : `Not saved: ${err.message}`, { tone: 'error' });
      }
      return;
    }
    const replyTo = mode && mode.reply ? mode.reply.id : null;
    // Files still going up or being checked go with it: it waits for them in the outbox.
    let item = null;
    const waiting = tray.handOff((name, fileId) => item && fileUploaded(item.client_msg_id, name, fileId));
    item = send(conversationId, text, replyTo, files, waiting ? waiting.files : []);
    tray.sent();
    if (waiting) {
      announce('Sending when the scan finishes.');
      waiting.settled.then((outcome) => filesSettled(item.client_msg_id, outcome));
    }
    input.value = '';
    saveDraft(conversationId, '');
    setMode(null);
    resize();
    onSent();
  }

  input.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing && !ev.altKey) {
      ev.preventDefault();
      submit();
    } else if (ev.key === 'Escape' && mode) {
      ev.preventDefault();
      cancel();
    }
  });
  input.addEventListener('input', () => {
    resize();
    if (!mode || !mode.edit) {
      clearTimeout(saveTimer);
      saveTimer = setTimeout(() => saveDraft(conversationId, input.value), 250);
      if (input.value.trim()) typing(conversationId);
      else stopTyping(conversationId);
    }
  });
  input.addEventListener('blur', () => {
    if (!mode || !mode.edit) saveDraft(conversationId, input.value);
    stopTyping(conversationId);
  });

  const form = h(
    'form',
    { class: 'composer', 'aria-label': 'Write a message', onsubmit: (ev) => { ev.preventDefault(); submit(); } },
    context,
    tray.element,
    paused,
    h('div', { class: 'composer-row' }, attach, input, sendBtn),
    hint,
  );
  requestAnimationFrame(resize);

  return {
    element: form,
    input,
    focus: () => focus(input),
    addFiles,
    dispose: () => offSharing(),
    reply(message) {
      if (mode && mode.edit) input.value = draft(conversationId);
      setMode({ reply: message });
      resize();
      focus(input);
    },
    edit(message) {
      if (!mode || !mode.edit) saveDraft(conversationId, input.value);
      setMode({ edit: message });
      input.value = message.text;
      resize();
      focus(input);
      input.setSelectionRange(input.value.length, input.value.length);
    },
    flushDraft() {
      clearTimeout(saveTimer);
      if (!mode || !mode.edit) saveDraft(conversationId, input.value);
    },
  };
}
