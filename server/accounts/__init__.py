"""Accounts: users with their roles, passwords and server-side sessions."""
