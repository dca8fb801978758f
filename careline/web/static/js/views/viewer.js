// The full-screen image viewer: one image of a conversation at a time, among the images
// of it that are loaded, with zoom (pinch, wheel, double-tap or double-click, + and -),
// pan while zoomed (drag), the next and previous image (swipe, arrow keys, buttons), a
// counter, download and close (Escape or the button). A modal <dialog>: focus stays in
// it and goes back to the image that opened it. The network is the caller's: links and
// downloads come in as functions.

import { h, svg, focus, announce } from '../dom.js';

const TEXT = {
  viewer: 'Image viewer',
  counter: (i, n) => `${i} of ${n}`,
  previous: 'Previous image',
  next: 'Next image',
  zoomIn: 'Zoom in',
  zoomOut: 'Zoom out',
  download: 'Download',
  close: 'Close',
  failed: (why) => `The image could not be opened: ${why}`,
};

const PATHS = {
  prev: ['M15 18l-6-6 6-6'],
  next: ['M9 18l6-6-6-6'],
  plus: ['M12 5v14', 'M5 12h14'],
  minus: ['M5 12h14'],
  download: ['M21 15v4a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2v-4', 'M7 10l5 5 5-5', 'M12 15V3'],
  x: ['M18 6 6 18', 'M6 6l12 12'],
};

const MIN_ZOOM = 1;
const MAX_ZOOM = 6;
const STEP = 1.5; // one press of + or -, one click of the buttons
const DOUBLE_ZOOM = 2.5; // a double-tap or double-click
const SWIPE_PX = 50; // a sideways drag this long, unzoomed, moves to the next image
const TAP_MS = 300;

function button(name, label, onclick, cls) {
  return h('button', { type: 'button', class: ['iv-btn', cls], 'aria-label': label, title: label, onclick }, svg(PATHS[name], { size: 22 }));
}

/**
 * Open the viewer on images[index]. images: files ({id, name, ...}); linksFor(id) ->
 * Promise of {preview, original, ...}; download(file) saves the original.
 */
export function openViewer(images, index, { linksFor, download }) {
  if (!images.length) return null;
  const opener = document.activeElement;
  let at = Math.min(Math.max(index, 0), images.length - 1);
  let zoom = 1;
  let panX = 0;
  let panY = 0;
  let loadSeq = 0;

  const title = h('h2', { class: 'iv-title', id: 'iv-title', dir: 'auto' });
  const counter = h('p', { class: 'iv-counter', 'aria-live': 'polite' });
  const img = h('img', { class: 'iv-img', alt: '', draggable: 'false' });
  const stage = h('div', { class: 'iv-stage' }, img);
  const prev = button('prev', TEXT.previous, () => go(-1), 'iv-prev');
  const next = button('next', TEXT.next, () => go(1), 'iv-next');
  const zoomOut = button('minus', TEXT.zoomOut, () => zoomBy(1 / STEP));
  const zoomIn = button('plus', TEXT.zoomIn, () => zoomBy(STEP));
  const save = button('download', TEXT.download, () => download(images[at]));
  const close = button('x', TEXT.close, () => dlg.close());
  const dlg = h(
    'dialog',
    { class: 'iv', 'aria-labelledby': 'iv-title', 'aria-roledescription': TEXT.viewer },
    h('div', { class: 'iv-bar' },
      h('div', { class: 'iv-heading' }, title, counter),
      h('div', { class: 'iv-tools' }, zoomOut, zoomIn, save, close)),
    stage,
    prev,
    next,
  );

  // zoom and pan ------------------------------------------------------------------------

  /** How far the picture may move each way at this zoom: no further than its edges. */
  function bounds() {
    // offsetWidth/Height: the picture's laid-out size, which transforms do not change.
    return {
      x: Math.max(0, (img.offsetWidth * zoom - stage.clientWidth) / 2),
      y: Math.max(0, (img.offsetHeight * zoom - stage.clientHeight) / 2),
    };
  }

  function apply() {
    const limit = bounds();
    panX = Math.min(limit.x, Math.max(-limit.x, panX));
    panY = Math.min(limit.y, Math.max(-limit.y, panY));
    img.style.setProperty('transform', `translate(${panX}px, ${panY}px) scale(${zoom})`);
    dlg.dataset.zoom = zoom.toFixed(2);
    dlg.classList.toggle('iv-zoomed', zoom > 1);
    zoomOut.disabled = zoom <= MIN_ZOOM;
    zoomIn.disabled = zoom >= MAX_ZOOM;
  }

  /** Zoom to `target`, keeping the point (cx, cy) of the screen where it is. */
  function zoomTo(target, cx = null, cy = null) {
    const next = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, target));
    const box = stage.getBoundingClientRect();
    const px = (cx === null ? box.left + box.width / 2 : cx) - (box.left + box.width / 2);
    const py = (cy === null ? box.top + box.height / 2 : cy) - (box.top + box.height / 2);
    panX = px - ((px - panX) * next) / zoom;
    panY = py - ((py - panY) * next) / zoom;
    zoom = next;
    if (zoom === 1) panX = panY = 0;
    apply();
  }

  function zoomBy(factor, cx, cy) {
    zoomTo(zoom * factor, cx, cy);
  }

  // showing an image --------------------------------------------------------------------

  function show() {
    const file = images[at];
    zoom = 1;
    panX = panY = 0;
    apply();
    title.textContent = file.name;
    img.alt = file.name;
    counter.textContent = TEXT.counter(at + 1, images.length);
    prev.hidden = at === 0;
    next.hidden = at === images.length - 1;
    dlg.dataset.index = String(at);
    img.removeAttribute('src');
    const mine = ++loadSeq;
    linksFor(file.id)
      // A GIF's preview is its first frame: the (clean) original moves.
      .then((links) => { if (mine === loadSeq) img.src = (file.media_type === 'image/gif' && links.original) || links.preview || links.original; })
      .catch((err) => announce(TEXT.failed(err.message), { tone: 'error' }));
    // Focus must not stay on a button that has just been hidden.
    if ((document.activeElement === prev && prev.hidden) || (document.activeElement === next && next.hidden)) focus(close);
  }

  function go(step) {
    const to = at + step;
    if (to < 0 || to >= images.length) return;
    at = to;
    show();
  }

  // pointers: drag to pan (zoomed) or swipe (not), two to pinch, tap twice to zoom -------

  const pointers = new Map();
  let gesture = null;
  let lastTap = { time: 0, x: 0, y: 0 };
  let lastTouch = 0; // a browser may follow a double-tap with a dblclick: not twice

  function pinchInfo() {
    const [a, b] = [...pointers.values()];
    return { dist: Math.hypot(a.x - b.x, a.y - b.y) || 1, cx: (a.x + b.x) / 2, cy: (a.y + b.y) / 2 };
  }

  stage.addEventListener('pointerdown', (ev) => {
    if (ev.button !== undefined && ev.button > 0) return;
    pointers.set(ev.pointerId, { x: ev.clientX, y: ev.clientY });
    try {
      stage.setPointerCapture(ev.pointerId);
    } catch {
      // a pointer the browser no longer knows: its moves still reach the stage
    }
    if (pointers.size === 2) {
      const p = pinchInfo();
      gesture = { kind: 'pinch', dist: p.dist, zoom };
    } else if (pointers.size === 1) {
      gesture = { kind: 'drag', x: ev.clientX, y: ev.clientY, panX, panY, moved: false, pointerType: ev.pointerType };
    }
  });

  stage.addEventListener('pointermove', (ev) => {
    if (!pointers.has(ev.pointerId) || !gesture) return;
    pointers.set(ev.pointerId, { x: ev.clientX, y: ev.clientY });
    if (gesture.kind === 'pinch' && pointers.size === 2) {
      const p = pinchInfo();
      zoomTo((gesture.zoom * p.dist) / gesture.dist, p.cx, p.cy);
    } else if (gesture.kind === 'drag') {
      const dx = ev.clientX - gesture.x;
      const dy = ev.clientY - gesture.y;
      if (Math.abs(dx) > 4 || Math.abs(dy) > 4) gesture.moved = true;
      if (zoom > 1) {
        panX = gesture.panX + dx;
        panY = gesture.panY + dy;
        apply();
      }
    }
  });

  function release(ev) {
    if (!pointers.has(ev.pointerId)) return;
    pointers.delete(ev.pointerId);
    if (!gesture) return;
    if (gesture.kind === 'pinch') {
      // The finger left on the glass starts a fresh drag, without a jump.
      if (pointers.size === 1) {
        const [rest] = [...pointers.values()];
        gesture = { kind: 'drag', x: rest.x, y: rest.y, panX, panY, moved: true };
      } else gesture = null;
      return;
    }
    const dx = ev.clientX - gesture.x;
    const dy = ev.clientY - gesture.y;
    const wasTap = !gesture.moved;
    gesture = null;
    if (ev.pointerType === 'touch') lastTouch = Date.now();
    if (zoom === 1 && Math.abs(dx) > SWIPE_PX && Math.abs(dx) > Math.abs(dy)) {
      const rtl = getComputedStyle(dlg).direction === 'rtl';
      go((dx < 0) !== rtl ? 1 : -1);
      return;
    }
    if (wasTap && ev.pointerType === 'touch') {
      // A double-tap: mice get the dblclick event instead.
      const now = Date.now();
      if (now - lastTap.time < TAP_MS && Math.hypot(ev.clientX - lastTap.x, ev.clientY - lastTap.y) < 30) {
        zoomTo(zoom > 1 ? 1 : DOUBLE_ZOOM, ev.clientX, ev.clientY);
        lastTap = { time: 0, x: 0, y: 0 };
      } else lastTap = { time: now, x: ev.clientX, y: ev.clientY };
    }
  }
  stage.addEventListener('pointerup', release);
  stage.addEventListener('pointercancel', release);

  stage.addEventListener('dblclick', (ev) => {
    if (Date.now() - lastTouch < 1000) return; // the double-tap has done it
    zoomTo(zoom > 1 ? 1 : DOUBLE_ZOOM, ev.clientX, ev.clientY);
  });
  stage.addEventListener('wheel', (ev) => {
    ev.preventDefault();
    const factor = Math.exp(-Math.max(-100, Math.min(100, ev.deltaY)) / 200);
    zoomBy(factor, ev.clientX, ev.clientY);
  }, { passive: false });
  // A click on the dark around the picture closes, as in other dialogs.
  stage.addEventListener('click', (ev) => {
    if (ev.target === stage && zoom === 1 && !pointers.size) dlg.close();
  });

  // keys --------------------------------------------------------------------------------

  dlg.addEventListener('keydown', (ev) => {
    const rtl = getComputedStyle(dlg).direction === 'rtl';
    if (ev.key === 'ArrowRight' || ev.key === 'ArrowLeft') {
      ev.preventDefault();
      go((ev.key === 'ArrowRight') !== rtl ? 1 : -1);
    } else if (ev.key === '+' || ev.key === '=') {
      ev.preventDefault();
      zoomBy(STEP);
    } else if (ev.key === '-' || ev.key === '_') {
      ev.preventDefault();
      zoomBy(1 / STEP);
    } else if (ev.key === '0') {
      ev.preventDefault();
      zoomTo(1);
    } else if (ev.key === 'Tab') {
      // The modal keeps focus in the page's dialog; wrap it round the viewer's buttons.
      const stops = [...dlg.querySelectorAll('button')].filter((b) => !b.hidden && !b.disabled);
      const i = stops.indexOf(document.activeElement);
      const last = stops.length - 1;
      if (ev.shiftKey ? i <= 0 : i === last || i < 0) {
        ev.preventDefault();
        focus(stops[ev.shiftKey ? last : 0]);
      }
    }
  });

  const resized = () => apply();
  dlg.addEventListener('close', () => {
    loadSeq += 1;
    window.removeEventListener('resize', resized);
    dlg.remove();
    if (opener && opener.isConnected) focus(opener);
  });
  window.addEventListener('resize', resized);
  img.addEventListener('load', apply);

  document.body.append(dlg);
  dlg.showModal();
  show();
  focus(close);
  return dlg;
}
