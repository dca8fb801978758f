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
-- they cannot read (careline/realtime/gateway.py, tests/breakglass/test_timeline.py).
ALTER TABLE events ADD COLUMN staff_only boolean NOT NULL DEFAULT false
--;
ALTER POLICY events_read ON events
  USING (cl_system_for(tenant_id)
         OR (cl_reads(tenant_id, conversation_id) AND (NOT staff_only OR cl_is_staff_in(tenant_id))))
--;
-- A read-only look at a conversation the admin is not part of. Ends at expires_at by
-- itself (cl_reads compares it with now()), or earlier when ended_at is set; the
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
-- The read probe of migration 0009, now also true for an admin holding an open grant
-- on the conversation. The participant probe comes first, so a member's read costs
-- what it did; the grant is looked at only for someone who is not a participant.
CREATE OR REPLACE FUNCTION cl_reads(tenant uuid, conv uuid) RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER AS
$$ SELECT public.cl_in_tenant(tenant)
          AND (EXISTS (SELECT 1 FROM public.participants p
                       WHERE p.conversation_id = conv AND p.account_id = public.cl_account_id()
                         AND p.tenant_id = public.cl_tenant_id())
               OR (public.cl_role() = 'admin'
                   AND EXISTS (SELECT 1 FROM public.access_grants g
                               WHERE g.conversation_id = conv
                                 AND g.account_id = public.cl_account_id()
                                 AND g.tenant_id = public.cl_tenant_id()
                                 AND g.ended_at IS NULL AND g.expires_at > now()))) $$
