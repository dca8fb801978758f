"""Organisations, accounts and memberships."""
