// Small charts drawn as inline SVG (no library): bars and sparklines over a series of
// numbers. Presentation attributes only (the CSP allows no inline style); colours come
// from css/monitoring.css through classes.

const NS = 'http://www.w3.org/2000/svg';

function el(tag, attrs = {}) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}

function frame(width, height, label, cls) {
  const svg = el('svg', { viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: 'none', class: cls, role: 'img', 'aria-label': label });
  const title = el('title');
  title.textContent = label;
  svg.append(title);
  return svg;
}

/** One bar per value (oldest first); the last one (the current minute) marked. */
export function bars(values, { label, width = 240, height = 56, cls = 'chart chart-bars' } = {}) {
  const svg = frame(width, height, label, cls);
  const max = Math.max(1, ...values);
  const step = width / Math.max(1, values.length);
  values.forEach((v, i) => {
    const h = v > 0 ? Math.max(1.5, (v / max) * (height - 2)) : 0;
    svg.append(el('rect', {
      x: (i * step).toFixed(2), y: (height - h).toFixed(2),
      width: Math.max(0.5, step - 1).toFixed(2), height: h.toFixed(2),
      class: i === values.length - 1 ? 'bar bar-now' : 'bar',
    }));
  });
  svg.append(el('line', { x1: 0, y1: height - 0.5, x2: width, y2: height - 0.5, class: 'baseline' }));
  return svg;
}

/** Lines over the same minutes, one per series: { name: [values] }. */
export function sparklines(series, { label, width = 240, height = 56, cls = 'chart chart-lines' } = {}) {
  const svg = frame(width, height, label, cls);
  const all = Object.values(series).flat();
  const max = Math.max(1, ...all);
  for (const [name, values] of Object.entries(series)) {
    if (!values.length) continue;
    const step = width / Math.max(1, values.length - 1);
    const points = values
      .map((v, i) => `${(i * step).toFixed(2)},${(height - 1 - (v / max) * (height - 3)).toFixed(2)}`)
      .join(' ');
    svg.append(el('polyline', { points, class: `line line-${name}`, fill: 'none' }));
  }
  svg.append(el('line', { x1: 0, y1: height - 0.5, x2: width, y2: height - 0.5, class: 'baseline' }));
  return svg;
}
