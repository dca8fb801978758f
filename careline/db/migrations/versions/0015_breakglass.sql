-- Emergency intervention (careline/breakglass/, docs/operations.md "Emergency
-- intervention"). Statements are separated by a line holding only "--;".
--
-- A frozen conversation takes no new messages, edits, reactions or files; the reason the
-- admin gave is kept encrypted under the organisation's data key (AAD:
-- "conversations.frozen_reason:<conversation id>") so participants can be told why.
ALTER TABLE conversations
  ADD COLUMN frozen_at timestamptz,
  ADD COLUMN frozen_by uuid REFERENCES accounts(id),
  ADD COLUMN frozen_reason_ct bytea,
  ADD COLUMN frozen_key_version int,
  ADD CHECK ((frozen_at IS NULL) = (frozen_reason_ct IS NULL))
--;
-- Timeline entries of an intervention are for the conversation's staff: a client or a
-- guardian never reads them (policy below). Their seq is taken like any other, so the
-- client side sees a gap there; resume and catch-up read seq ranges and step over rows
-- they cannot read (careline/realtime/gateway.py, tests/breakglass/test_breakglass.py).
ALTER TABLE events ADD COLUMN staff_only boolean NOT NULL DEFAULT false
--;
ALTER POLICY events_read ON events
  USING (cl_system_for(tenant_id)
         OR (cl_reads(tenant_id, conversation_id) AND (NOT staff_only OR cl_is_staff_in(tenant_id))))
--;
-- A read-only look at a conversation the admin is not part of. Ends at expires_at by
-- itself (cl_granted compares it with now()), or earlier when ended_at is set; the
-- expiry job notes an expiry once (noted_at) for the audit, the timeline and the other
-- admins. The reason is encrypted like the audit's (AAD: "access-grants.reason:<id>").
CREATE TABLE access_grants (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  conversation_id uuid NOT NULL REFERENCES conversations(id),
  account_id uuid NOT NULL REFERENCES accounts(id),
  reason_ct bytea NOT NULL,
  key_version int NOT NULL,
  granted_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  ended_at timestamptz,
  noted_at timestamptz,
  CHECK (expires_at > granted_at)
)
--;
CREATE UNIQUE INDEX access_grants_one_open ON access_grants (conversation_id, account_id)
  WHERE ended_at IS NULL AND noted_at IS NULL
--;
CREATE INDEX access_grants_due ON access_grants (expires_at) WHERE ended_at IS NULL AND noted_at IS NULL
--;
ALTER TABLE access_grants ENABLE ROW LEVEL SECURITY
--;
ALTER TABLE access_grants FORCE ROW LEVEL SECURITY
--;
CREATE POLICY access_grants_read ON access_grants FOR SELECT TO careline_app
  USING (cl_system_for(tenant_id) OR cl_is_admin_in(tenant_id))
--;
CREATE POLICY access_grants_insert ON access_grants FOR INSERT TO careline_app
  WITH CHECK (cl_system_for(tenant_id) OR (cl_is_admin_in(tenant_id) AND account_id = cl_account_id()))
--;
CREATE POLICY access_grants_update ON access_grants FOR UPDATE TO careline_app
  USING (cl_system_for(tenant_id) OR cl_is_admin_in(tenant_id))
  WITH CHECK (cl_system_for(tenant_id) OR cl_is_admin_in(tenant_id))
--;
GRANT SELECT, INSERT, UPDATE ON access_grants TO careline_app
--;
GRANT SELECT ON access_grants TO careline_rls
--;
CREATE POLICY rls_helper ON access_grants FOR SELECT TO careline_rls USING (true)
--;
-- An admin holding an open grant reads the conversation's messages and reactions, and
-- nothing else of it. A probe of its own, after the member's (cl_reads, migration 0009),
-- which stays as it was: a participant's read is decided by cl_reads alone (OR stops at
-- the first true), and anyone but an admin stops at the role check before any table is
-- read. Owned by careline_rls and schema-qualified like cl_reads. now() is the
-- transaction's start: the access ends at expires_at to the transaction.
CREATE FUNCTION cl_granted(tenant uuid, conv uuid) RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER AS
$$ SELECT public.cl_role() = 'admin' AND public.cl_in_tenant(tenant)
          AND EXISTS (SELECT 1 FROM public.access_grants g
                      WHERE g.conversation_id = conv AND g.account_id = public.cl_account_id()
                        AND g.tenant_id = public.cl_tenant_id()
                        AND g.ended_at IS NULL AND g.noted_at IS NULL AND g.expires_at > now()) $$
--;
ALTER FUNCTION cl_granted(uuid, uuid) OWNER TO careline_rls
--;
REVOKE ALL ON FUNCTION cl_granted(uuid, uuid) FROM PUBLIC
--;
GRANT EXECUTE ON FUNCTION cl_granted(uuid, uuid) TO careline_app
--;
ALTER POLICY messages_read ON messages
  USING (cl_system_for(tenant_id) OR cl_reads(tenant_id, conversation_id)
         OR cl_granted(tenant_id, conversation_id))
--;
ALTER POLICY reactions_read ON reactions
  USING (cl_system_for(tenant_id) OR cl_reads(tenant_id, conversation_id)
         OR cl_granted(tenant_id, conversation_id))
