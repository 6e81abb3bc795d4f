"""Piccolo table of notes: the sync columns of R1, then the note's own fields."""

from piccolo.columns import JSON, UUID, BigInt, Boolean, ForeignKey, Integer, Text, Timestamptz
from piccolo.table import Table

from server.accounts.tables import User
from server.organisations.tables import Organisation


class Note(Table, tablename="note"):
    id = UUID(primary_key=True)  # chosen by the client
    organisation = ForeignKey(references=Organisation, null=False)
    owner = ForeignKey(references=User, null=False)
    version = Integer(default=1)
    seq = BigInt(default=0, index=True)
    deleted_at = Timestamptz(null=True, default=None)
    field_versions = JSON(default="{}")
    field_authors = JSON(default="{}")
    created_at = Timestamptz()
    updated_at = Timestamptz()

    body = Text(default="")
    shared = Boolean(default=True)
    client_id = UUID(null=True, default=None)
    assignment_id = UUID(null=True, default=None)
