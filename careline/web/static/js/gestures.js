// Touch gestures on the rows of a list, by delegation: a long press (held still for
// LONG_PRESS_MS) and a swipe to the right (past SWIPE_PX). Pointer events only, for
// touch and pen; a mouse has the hover toolbar instead, and keeps text selection.
// Vertical movement belongs to the browser: rows carry `touch-action: pan-y`, so a
// vertical drag scrolls natively (and cancels both gestures with pointercancel).

export const LONG_PRESS_MS = 500;
export const MOVE_TOLERANCE_PX = 10;
export const SWIPE_PX = 64;
const SWIPE_MAX_PX = 96;

/**
 * gestures(list, {select, onLongPress(row), onSwipe(row), onDrag(row, dx, ready), onEnd(row)})
 * `select(target)` returns the row a gesture starting at `target` belongs to, or null.
 * Returns a function that removes the listeners.
 */
export function gestures(list, { select, onLongPress, onSwipe, onDrag, onEnd }) {
  let g = null; // the gesture under way: {id, row, x, y, timer, mode}

  function reset() {
    if (!g) return;
    clearTimeout(g.timer);
    if (g.mode === 'swipe') onEnd(g.row);
    g = null;
  }

  function down(ev) {
    if (ev.pointerType === 'mouse' || !ev.isPrimary) return;
    reset();
    const row = select(ev.target);
    if (!row) return;
    g = { id: ev.pointerId, row, x: ev.clientX, y: ev.clientY, mode: 'press', fired: false };
    g.timer = setTimeout(() => {
      if (!g || g.mode !== 'press') return;
      g.fired = true;
      g.mode = 'done';
      fire(g.row);
    }, LONG_PRESS_MS);
  }

  function move(ev) {
    if (!g || ev.pointerId !== g.id || g.mode === 'done') return;
    const dx = ev.clientX - g.x;
    const dy = ev.clientY - g.y;
    if (g.mode === 'press') {
      if (Math.abs(dx) < MOVE_TOLERANCE_PX && Math.abs(dy) < MOVE_TOLERANCE_PX) return;
      clearTimeout(g.timer);
      // Mostly sideways and to the right: a swipe. Anything else is not ours.
      if (dx > 0 && Math.abs(dx) > Math.abs(dy) * 1.5) {
        g.mode = 'swipe';
      } else {
        g.mode = 'done';
        return;
      }
    }
    const shift = Math.max(0, Math.min(dx, SWIPE_MAX_PX));
    onDrag(g.row, shift, shift >= SWIPE_PX);
  }

  function up(ev) {
    if (!g || ev.pointerId !== g.id) return;
    const { row, mode } = g;
    const dx = ev.clientX - g.x;
    reset();
    if (mode === 'swipe' && dx >= SWIPE_PX && ev.type === 'pointerup') onSwipe(row);
  }

  // A touch held still also brings the browser's context menu (its own long press): the
  // sheet replaces it, whichever of the two comes first.
  let lastFired = null;
  function contextmenu(ev) {
    const row = select(ev.target);
    if (!row) return;
    const touch = ev.pointerType === 'touch' || ev.pointerType === 'pen' || (g && g.row === row);
    if (!touch) return;
    ev.preventDefault();
    if (g && g.row === row && g.mode === 'press') {
      clearTimeout(g.timer);
      g.fired = true;
      g.mode = 'done';
      fire(row);
    } else if (lastFired !== row) {
      fire(row);
    }
  }

  function fire(row) {
    lastFired = row;
    setTimeout(() => { if (lastFired === row) lastFired = null; }, 1500);
    onLongPress(row);
  }

  // Lifting the finger after a long press may still bring a click where it was: on the
  // row (a link, the quoted message) or on the sheet that opened under the finger. It
  // must activate neither, so the next click is swallowed wherever it lands.
  function click(ev) {
    if (suppressClick && Date.now() - suppressClick < 400) {
      ev.preventDefault();
      ev.stopPropagation();
    }
    suppressClick = 0;
  }
  let suppressClick = 0;
  const fired = (ev) => {
    if (g && g.fired && ev.pointerId === g.id) suppressClick = Date.now();
  };

  list.addEventListener('pointerdown', down);
  list.addEventListener('pointermove', move);
  list.addEventListener('pointerup', fired, true);
  list.addEventListener('pointerup', up);
  list.addEventListener('pointercancel', up);
  list.addEventListener('contextmenu', contextmenu);
  window.addEventListener('click', click, true);
  return () => {
    reset();
    list.removeEventListener('pointerdown', down);
    list.removeEventListener('pointermove', move);
    list.removeEventListener('pointerup', fired, true);
    list.removeEventListener('pointerup', up);
    list.removeEventListener('pointercancel', up);
    list.removeEventListener('contextmenu', contextmenu);
    window.removeEventListener('click', click, true);
  };
}
