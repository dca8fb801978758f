// Small building blocks shared by the views: avatars, dialogs, menus, buttons.

import { h, focus } from '../dom.js';
import { icon } from '../icons.js';
import { avatarColour, initials } from '../format.js';

export function avatar(subject, { size = 'md', presence = null } = {}) {
  const el = h('span', { class: ['avatar', `avatar-${size}`], 'aria-hidden': 'true' });
  el.style.setProperty('--avatar-bg', avatarColour(subject.id));
  if (subject.icon) el.append(icon(subject.icon, { size: size === 'sm' ? 14 : 20 }));
  else el.append(initials(subject.name));
  if (presence === 'online' || presence === 'away') {
    el.append(h('span', { class: ['presence-dot', `presence-${presence}`] }));
  }
  return el;
}

export function iconButton(name, label, onclick, { cls = '', pressed = null, ...rest } = {}) {
  const props = { type: 'button', class: ['icon-btn', cls], 'aria-label': label, title: label, onclick, ...rest };
  if (pressed !== null) props['aria-pressed'] = pressed ? 'true' : 'false';
  return h('button', props, icon(name));
}

let dialogSeq = 0;

/** A modal <dialog>: focus is trapped by the browser, Escape closes, and focus goes back
 * to where it was when the dialog closes. */
export function openDialog({ title, content, actions = [], cls = '', onClose = null, describedBy = null }) {
  dialogSeq += 1;
  const titleId = `dialog-title-${dialogSeq}`;
  const opener = document.activeElement;
  const dlg = h(
    'dialog',
    { class: ['dialog', cls], 'aria-labelledby': titleId, ...(describedBy ? { 'aria-describedby': describedBy } : {}) },
    h(
      'div',
      { class: 'dialog-head' },
      h('h2', { id: titleId, class: 'dialog-title' }, title),
      iconButton('x', 'Close', () => dlg.close()),
    ),
    h('div', { class: 'dialog-body' }, content),
    actions.length ? h('div', { class: 'dialog-actions' }, actions) : null,
  );
  dlg.addEventListener('close', () => {
    dlg.remove();
    if (onClose) onClose(dlg.returnValue);
    if (opener && opener.isConnected) focus(opener);
  });
  dlg.addEventListener('click', (ev) => {
    if (ev.target === dlg) dlg.close();
  });
  document.body.append(dlg);
  dlg.showModal();
  return dlg;
}

export function confirmDialog({ title, text, confirm, danger = false }) {
  return new Promise((resolve) => {
    let answer = false;
    const textId = `confirm-text-${dialogSeq + 1}`;
    const yes = h('button', { type: 'button', class: ['btn', danger ? 'btn-danger' : 'btn-primary'], onclick: () => { answer = true; dlg.close(); } }, confirm);
    const no = h('button', { type: 'button', class: 'btn btn-quiet', onclick: () => dlg.close() }, 'Cancel');
    const dlg = openDialog({
      title,
      content: h('p', { id: textId, class: 'dialog-text' }, text),
      actions: [no, yes],
      cls: 'dialog-small',
      describedBy: textId,
      onClose: () => resolve(answer),
    });
    focus(no);
  });
}

/** A popup menu next to `anchor`. items: {label, icon, onselect, danger} or a node.
 * Arrow keys move, Escape closes and returns focus to the anchor. */
export function openMenu(anchor, items, { label = 'Actions', cls = '', horizontal = false } = {}) {
  closeMenus();
  const menu = h('div', { class: ['menu', cls], role: 'menu', 'aria-label': label, 'aria-orientation': horizontal ? 'horizontal' : 'vertical' });
  const buttons = items.filter(Boolean).map((item) =>
    h(
      'button',
      {
        type: 'button',
        role: 'menuitem',
        tabindex: '-1',
        class: ['menu-item', item.danger && 'menu-danger', item.cls],
        'aria-label': item.ariaLabel,
        title: item.title,
        onclick: () => {
          // Back to the button that opened the menu, so keyboard users carry on from there.
          close(true);
          item.onselect();
        },
      },
      item.icon ? icon(item.icon, { size: 18 }) : null,
      h('span', { class: 'menu-label' }, item.label),
    ),
  );
  menu.append(...buttons);
  // The anchor may live in a toolbar that is only shown while its row holds focus or a
  // menu: mark the host so it stays visible, and focus the host before the anchor.
  const host = anchor.parentElement && anchor.parentElement.closest('[tabindex]');
  if (host) host.classList.add('has-menu');
  const close = (refocus = true) => {
    menu.remove();
    document.removeEventListener('pointerdown', outside, true);
    anchor.setAttribute('aria-expanded', 'false');
    if (refocus && anchor.isConnected) {
      if (host) focus(host);
      focus(anchor);
    }
    if (host) host.classList.remove('has-menu');
  };
  const outside = (ev) => {
    if (!menu.contains(ev.target) && ev.target !== anchor && !anchor.contains(ev.target)) close(false);
  };
  menu.addEventListener('keydown', (ev) => {
    const i = buttons.indexOf(document.activeElement);
    const next = horizontal ? 'ArrowRight' : 'ArrowDown';
    const prev = horizontal ? 'ArrowLeft' : 'ArrowUp';
    if (ev.key === next || ev.key === prev) {
      ev.preventDefault();
      const step = ev.key === next ? 1 : -1;
      focus(buttons[(i + step + buttons.length) % buttons.length]);
    } else if (ev.key === 'Home' || ev.key === 'End') {
      ev.preventDefault();
      focus(buttons[ev.key === 'Home' ? 0 : buttons.length - 1]);
    } else if (ev.key === 'Escape') {
      ev.preventDefault();
      ev.stopPropagation();
      close(true);
    } else if (ev.key === 'Tab') {
      close(false);
    }
  });
  menu.closeMenu = close;
  document.body.append(menu);
  place(menu, anchor);
  anchor.setAttribute('aria-expanded', 'true');
  document.addEventListener('pointerdown', outside, true);
  focus(buttons[0]);
  return menu;
}

export function closeMenus() {
  document.querySelectorAll('.menu').forEach((m) => (m.closeMenu ? m.closeMenu(false) : m.remove()));
}

function place(menu, anchor) {
  const r = anchor.getBoundingClientRect();
  const m = menu.getBoundingClientRect();
  const vw = document.documentElement.clientWidth;
  const vh = document.documentElement.clientHeight;
  let top = r.bottom + 6;
  if (top + m.height > vh - 8) top = Math.max(8, r.top - m.height - 6);
  let left = r.right - m.width;
  if (left < 8) left = Math.min(r.left, vw - m.width - 8);
  menu.style.setProperty('top', `${Math.round(top)}px`);
  menu.style.setProperty('left', `${Math.round(Math.max(8, left))}px`);
}

export function spinner(label = 'Loading') {
  return h('span', { class: 'spinner', role: 'status', 'aria-label': label });
}

export function emptyState({ iconName, title, text, action = null }) {
  return h(
    'div',
    { class: 'empty' },
    h('span', { class: 'empty-icon', 'aria-hidden': 'true' }, icon(iconName, { size: 28 })),
    h('p', { class: 'empty-title' }, title),
    text ? h('p', { class: 'empty-text' }, text) : null,
    action,
  );
}
