// "Your devices": the signed-in person's own sessions in this organisation, with sign out.

import { ownSessions, revokeOwnSession } from '../admin-data.js';
import { devicesDialog } from './admin-devices.js';

export function ownDevicesDialog() {
  devicesDialog({ title: 'Your signed-in devices', who: 'you', load: ownSessions, revoke: revokeOwnSession });
}
