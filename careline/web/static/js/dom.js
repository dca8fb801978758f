// DOM helpers. Text is only ever set through text nodes and textContent: nothing a
// person typed can become markup (there is no innerHTML anywhere in this client).

const SVG_NS = 'http://www.w3.org/2000/svg';

/**
 * h('button', {class: 'x', onclick: fn, 'aria-label': 'Close'}, 'child', node)
 * Props starting with "on" are listeners; `class`, `text`, `hidden`, `value`, `checked`,
 * `disabled`, `selected` and `dataset` are set as properties; the rest are attributes.
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else if (key === 'class') {
      el.className = Array.isArray(value) ? value.filter(Boolean).join(' ') : value;
    } else if (key === 'text') {
      el.textContent = value;
    } else if (key === 'dataset') {
      Object.assign(el.dataset, value);
    } else if (['hidden', 'value', 'checked', 'disabled', 'selected', 'open'].includes(key)) {
      el[key] = value;
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

export function svg(paths, { size = 20, label = null, cls = 'icon' } = {}) {
  const el = document.createElementNS(SVG_NS, 'svg');
  el.setAttribute('viewBox', '0 0 24 24');
  el.setAttribute('width', String(size));
  el.setAttribute('height', String(size));
  el.setAttribute('class', cls);
  el.setAttribute('fill', 'none');
  el.setAttribute('stroke', 'currentColor');
  el.setAttribute('stroke-width', '2');
  el.setAttribute('stroke-linecap', 'round');
  el.setAttribute('stroke-linejoin', 'round');
  if (label) {
    el.setAttribute('role', 'img');
    el.setAttribute('aria-label', label);
  } else {
    el.setAttribute('aria-hidden', 'true');
    el.setAttribute('focusable', 'false');
  }
  for (const d of paths) {
    const path = document.createElementNS(SVG_NS, 'path');
    path.setAttribute('d', d);
    el.append(path);
  }
  return el;
}

/** Move focus without scrolling the page under a fixed layout. */
export function focus(el) {
  if (el) el.focus({ preventScroll: true });
}

/** A short message read out by screen readers (and shown as a toast). */
export function announce(text, { tone = 'info' } = {}) {
  let region = document.getElementById('toasts');
  if (!region) {
    region = h('div', { id: 'toasts', class: 'toasts', role: 'status', 'aria-live': 'polite' });
    document.body.append(region);
  }
  const toast = h('div', { class: ['toast', `toast-${tone}`] }, text);
  region.append(toast);
  setTimeout(() => toast.classList.add('toast-out'), 3600);
  setTimeout(() => toast.remove(), 4000);
}
