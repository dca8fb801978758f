-- Organisation settings (docs/api.md#organisation-settings). Statements are separated
-- by a line holding only "--;".
--
-- conversation_start: who a clinician may start a care conversation with.
--   any_client (the default): any client of the organisation, as the care plans ask (a
--     clinician can always reach a client who has no primary clinician recorded);
--   care_team: only clients whose care team (care_relationships) holds them.
-- device_storage: whether the web client keeps recent conversations on the device for
--   offline reading (IndexedDB); on by default.
-- The admins change them through the tenants_admin_update policy of 0006.
ALTER TABLE tenants ADD COLUMN conversation_start text NOT NULL DEFAULT 'any_client'
  CHECK (conversation_start IN ('any_client', 'care_team'))
--;
ALTER TABLE tenants ADD COLUMN device_storage boolean NOT NULL DEFAULT true
