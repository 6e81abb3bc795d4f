"""Clients: the newcomers volunteers accompany, pseudonymous by design."""
