"""Organisations (Träger): the tenants every row belongs to."""
