// The live monitoring dashboard (lane dashboard).

import { h } from '../dom.js';

export function monitoringSection(main) {
  main.append(h('section', { class: 'admin-section' }));
}
