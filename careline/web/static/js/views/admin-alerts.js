// Alerts raised and cleared (lane alerts).

import { h } from '../dom.js';

export function alertsSection(main) {
  main.append(h('section', { class: 'admin-section' }));
}
