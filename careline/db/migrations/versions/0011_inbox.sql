-- A new message from someone else brings an archived conversation back to the inbox
-- (conversations/store.py, bring_back), unless the person chose to keep archived
-- conversations archived in this organisation. Per membership: each organisation is
-- its own inbox. Off by default, so nothing urgent stays hidden unless asked for.
-- Statements are separated by a line holding only "--;".
ALTER TABLE memberships ADD COLUMN keep_archived boolean NOT NULL DEFAULT false
