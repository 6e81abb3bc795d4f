"""Requests for accompaniment, their matching to volunteers, and the offers made."""
