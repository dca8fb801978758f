-- Unread escalation (careline/notifications/escalation.py, docs/notifications.md).
-- Statements are separated by a line holding only "--;".
--
-- One row per waiting message and stage once it was told: the first message from a
-- client or guardian above every staff participant's read watermark. The key makes a
-- stage happen at most once for a message, however often the sweep runs or however many
-- nodes run it; resolved_at is set when a staff participant reads past it (or replies).
CREATE TABLE escalations (
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  conversation_id uuid NOT NULL REFERENCES conversations(id),
  seq bigint NOT NULL CHECK (seq > 0),
  stage text NOT NULL CHECK (stage IN ('team', 'admins')),
  -- The waiting message's own time: what the staff inbox shows as "waiting since".
  waiting_since timestamptz NOT NULL,
  told int NOT NULL CHECK (told >= 0),
  at timestamptz NOT NULL,
  resolved_at timestamptz,
  PRIMARY KEY (conversation_id, seq, stage)
)
--;
CREATE INDEX escalations_open ON escalations (conversation_id) WHERE resolved_at IS NULL
--;
ALTER TABLE escalations ENABLE ROW LEVEL SECURITY
--;
ALTER TABLE escalations FORCE ROW LEVEL SECURITY
--;
-- Staff of the organisation see which conversations wait (ids and times only); only
-- careline (system) writes them.
CREATE POLICY escalations_read ON escalations FOR SELECT TO careline_app
  USING (cl_system_for(tenant_id) OR cl_is_staff_in(tenant_id))
--;
CREATE POLICY escalations_write ON escalations FOR INSERT TO careline_app
  WITH CHECK (cl_system_for(tenant_id))
--;
CREATE POLICY escalations_resolve ON escalations FOR UPDATE TO careline_app
  USING (cl_system_for(tenant_id)) WITH CHECK (cl_system_for(tenant_id))
--;
GRANT SELECT, INSERT, UPDATE ON escalations TO careline_app
--;
CREATE INDEX tenants_escalating ON tenants (id) WHERE escalation_hours IS NOT NULL
