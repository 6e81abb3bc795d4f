"""Merging concurrent edits of one field (R6): three-way for free text, by element for sets."""

from __future__ import annotations

import re
from typing import Any

import merge3

_TOKENS = re.compile(r"\s+|\S+")


def merge_text(base: str, server: str, client: str) -> str | None:
    """The client's edit of base applied onto the server's text, or None when both changed the
    same words. Word-level, so two edits in one paragraph merge (notes are often one paragraph)."""
    if server == base or client == server:
        return client
    if client == base:
        return server
    tokens = merge3.Merge3(_TOKENS.findall(base), _TOKENS.findall(server), _TOKENS.findall(client))
    merged: list[str] = []
    for group in tokens.merge_groups():
        if group[0] == "conflict":
            return None
        merged.extend(group[1])
    return "".join(merged)


def merge_set(base: list[Any], server: list[Any], client: list[Any]) -> list[Any]:
    """What the client added or removed since base, applied to the server's set."""
    added, removed = set(client) - set(base), set(base) - set(client)
    return sorted((set(server) - removed) | added)
