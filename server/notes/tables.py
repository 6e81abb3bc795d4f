"""Piccolo table of notes: the sync columns of R1, then the note's own fields."""

from piccolo.columns import UUID, Boolean, Text
from piccolo.table import Table

from server.sync_tables import SyncedRecord


class Note(SyncedRecord, Table, tablename="note"):
    body = Text(default="")
    shared = Boolean(default=True)
    client_id = UUID(null=True, default=None)
    assignment_id = UUID(null=True, default=None)
