// The organisation's conversations and emergency intervention (lane breakglass).

import { h } from '../dom.js';

export function conversationsSection(main) {
  main.append(h('section', { class: 'admin-section' }));
}
