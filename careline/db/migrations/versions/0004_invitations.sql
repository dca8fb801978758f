-- Invitations, and what an organisation knows about a member kept per membership.
-- Statements are separated by a line holding only "--;".
--
-- Before: adding a member whose e-mail had an account anywhere joined that account at
-- once, and the admin then read the account's own name and last_seen_at, both driven by
-- the person's other organisations. After: adding someone is an invitation (a row here)
-- that the person accepts; the membership carries the name the organisation uses and
-- the last time the person was seen *in that organisation*.
ALTER TABLE memberships ADD COLUMN display_name text
--;
UPDATE memberships m SET display_name = a.display_name FROM accounts a WHERE a.id = m.account_id
--;
ALTER TABLE memberships ALTER COLUMN display_name SET NOT NULL
--;
ALTER TABLE memberships ADD CONSTRAINT memberships_display_name_length
  CHECK (length(display_name) BETWEEN 1 AND 100)
--;
-- The old account-wide value is not carried over: it may come from another organisation.
ALTER TABLE memberships ADD COLUMN last_seen_at timestamptz
--;
ALTER TABLE accounts DROP COLUMN last_seen_at
--;
-- The id of an account by e-mail, across organisations, is for system actions only now
-- (sign-in, accepting an invitation, the CLI): no admin needs to know whether an e-mail
-- has an account elsewhere.
CREATE OR REPLACE FUNCTION cl_account_id_by_email(addr text) RETURNS uuid LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public AS
$$ SELECT id FROM accounts WHERE lower(email) = lower(addr) AND cl_role() = 'system' $$
--;
-- The acting account's e-mail, lower-cased, so a policy can show a person the invitations
-- addressed to them without reading accounts under its own policy.
CREATE FUNCTION cl_my_email() RETURNS text LANGUAGE sql STABLE SECURITY DEFINER AS
$$ SELECT lower(a.email) FROM public.accounts a WHERE a.id = public.cl_account_id() $$
--;
ALTER FUNCTION cl_my_email() OWNER TO careline_rls
--;
REVOKE ALL ON FUNCTION cl_my_email() FROM PUBLIC
--;
GRANT EXECUTE ON FUNCTION cl_my_email() TO careline_app
--;
-- What the admin typed, and a single-use token kept only as its SHA-256. token_hash is
-- NULL while an e-mailed invitation waits for its job to mint the link.
CREATE TABLE invitations (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  email text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
  display_name text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 100),
  role text NOT NULL CHECK (role IN ('admin', 'staff', 'client', 'guardian')),
  state text NOT NULL DEFAULT 'pending'
    CHECK (state IN ('pending', 'accepted', 'declined', 'revoked')),
  token_hash bytea UNIQUE,
  invited_by uuid REFERENCES accounts(id),
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  delivery text NOT NULL CHECK (delivery IN ('link', 'queued', 'sent', 'failed')),
  mailed_at timestamptz,
  closed_at timestamptz,
  account_id uuid REFERENCES accounts(id),
  CHECK ((state = 'pending') = (closed_at IS NULL)),
  CHECK (state <> 'accepted' OR account_id IS NOT NULL)
)
--;
CREATE UNIQUE INDEX invitations_one_pending ON invitations (tenant_id, lower(email)) WHERE state = 'pending'
--;
CREATE INDEX invitations_pending_email ON invitations (lower(email)) WHERE state = 'pending'
--;
CREATE INDEX invitations_unmailed ON invitations (created_at) WHERE state = 'pending' AND delivery = 'queued'
--;
ALTER TABLE invitations ENABLE ROW LEVEL SECURITY
--;
ALTER TABLE invitations FORCE ROW LEVEL SECURITY
--;
-- The organisation's admins see its invitations; a signed-in person sees those addressed
-- to their own e-mail (in any organisation: that is how they learn of them).
CREATE POLICY invitations_read ON invitations FOR SELECT TO careline_app
  USING (cl_system_for(tenant_id) OR cl_is_admin_in(tenant_id)
         OR (cl_account_id() IS NOT NULL AND lower(email) = cl_my_email()))
--;
-- Accepting and declining are system steps (careline/invitations/service.py), taken after
-- the person has proved who they are.
CREATE POLICY invitations_write ON invitations FOR ALL TO careline_app
  USING (cl_system_for(tenant_id) OR cl_is_admin_in(tenant_id))
  WITH CHECK (cl_system_for(tenant_id) OR cl_is_admin_in(tenant_id))
--;
GRANT SELECT, INSERT, UPDATE ON invitations TO careline_app
--;
-- An invitee learns the name of the organisation inviting them, and nothing else of it.
CREATE POLICY tenants_read_invited ON tenants FOR SELECT TO careline_app
  USING (cl_account_id() IS NOT NULL AND EXISTS (
    SELECT 1 FROM invitations i
    WHERE i.tenant_id = tenants.id AND i.state = 'pending' AND lower(i.email) = cl_my_email()))
