-- Reports (careline/reports/, docs/operations.md "Reports"). Statements are separated by
-- a line holding only "--;".
--
-- One row per person per day they were active (sent a message or read a conversation),
-- in the organisation's own time zone, with the role they had then. Ids and a date only:
-- never what they did or where. Written at most once per person per day (an in-process
-- memo in careline/reports/service.py skips the rest); nothing else is kept, so a read
-- leaves no trace of which conversation it was.
CREATE TABLE activity_days (
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  day date NOT NULL,
  account_id uuid NOT NULL REFERENCES accounts(id),
  role text NOT NULL CHECK (role IN ('admin', 'staff', 'client', 'guardian')),
  PRIMARY KEY (tenant_id, day, account_id)
)
--;
ALTER TABLE activity_days ENABLE ROW LEVEL SECURITY
--;
ALTER TABLE activity_days FORCE ROW LEVEL SECURITY
--;
-- The organisation's admins (and careline) read them; each person records only their own
-- day, in their own role.
CREATE POLICY activity_days_read ON activity_days FOR SELECT TO careline_app
  USING (cl_system_for(tenant_id) OR cl_is_admin_in(tenant_id))
--;
CREATE POLICY activity_days_write ON activity_days FOR INSERT TO careline_app
  WITH CHECK (
    cl_system_for(tenant_id)
    OR (cl_in_tenant(tenant_id) AND account_id = cl_account_id() AND role = cl_role())
  )
--;
GRANT SELECT, INSERT ON activity_days TO careline_app
--;
-- A month's messages of one organisation without reading all of its history use
-- messages_tenant_created, made by 0016 for the dashboard.
CREATE INDEX attachments_tenant_created ON attachments (tenant_id, created_at)
  WHERE message_id IS NOT NULL
