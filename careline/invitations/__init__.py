"""Invitations: how a person comes to belong to an organisation, by saying yes."""
