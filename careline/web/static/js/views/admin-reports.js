// Usage and engagement reports (lane reports).

import { h } from '../dom.js';

export function reportsSection(main) {
  main.append(h('section', { class: 'admin-section' }));
}
