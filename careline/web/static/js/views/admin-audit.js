// The audit: who read or changed what (lane audit-page).

import { h } from '../dom.js';

export function auditSection(main) {
  main.append(h('section', { class: 'admin-section' }));
}
