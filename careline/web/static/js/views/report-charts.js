// Charts for the reports page, drawn as inline SVG (no library): stacked bars per day.
// Each chart is an image with a label that says what it shows; each bar has a <title>
// with its figures, and the same figures are in the page's tables.

const SVG_NS = 'http://www.w3.org/2000/svg';

function el(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  for (const child of children) node.append(child);
  return node;
}

/**
 * stackedBars({label, items: [{key, label, parts: [n, ...]}], series: [{name, cls}]})
 * One bar per item, its parts stacked in the order of `series`. The bars run from the
 * inline start (the drawing flips itself for right-to-left pages through CSS).
 */
export function stackedBars({ label, items, series, height = 140 }) {
  const barWidth = 10;
  const gap = 4;
  const width = Math.max(items.length * (barWidth + gap), 1);
  const top = Math.max(1, ...items.map((item) => item.parts.reduce((a, b) => a + b, 0)));
  const root = el('svg', {
    viewBox: `0 0 ${width} ${height + 16}`,
    class: 'report-chart',
    role: 'img',
    'aria-label': label,
    preserveAspectRatio: 'none',
  });
  root.append(el('line', { x1: 0, x2: width, y1: height, y2: height, class: 'report-axis' }));
  items.forEach((item, i) => {
    const x = i * (barWidth + gap) + gap / 2;
    let y = height;
    const bar = el('g', { class: 'report-bar', 'data-key': item.key });
    const total = item.parts.reduce((a, b) => a + b, 0);
    bar.append(el('title', {}, `${item.label}: ${series.map((s, k) => `${s.name} ${item.parts[k]}`).join(', ')}`));
    item.parts.forEach((value, k) => {
      if (!value) return;
      const h = (value / top) * (height - 4);
      y -= h;
      bar.append(el('rect', { x, y, width: barWidth, height: h, class: series[k].cls, 'data-value': value }));
    });
    bar.dataset.total = String(total);
    root.append(bar);
  });
  return root;
}

/** The series' names with their colours, for beside a chart. */
export function legend(series) {
  const list = document.createElement('ul');
  list.className = 'report-legend';
  for (const s of series) {
    const item = document.createElement('li');
    const swatch = el('svg', { viewBox: '0 0 10 10', width: 10, height: 10, 'aria-hidden': 'true' },
      el('rect', { x: 0, y: 0, width: 10, height: 10, class: s.cls }));
    item.append(swatch, document.createTextNode(s.name));
    list.append(item);
  }
  return list;
}
