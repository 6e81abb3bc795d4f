"""Piccolo table of visit logs: the sync columns of R1, then the log's own fields."""

from piccolo.columns import (
    JSON, UUID, BigInt, Boolean, Date, DoublePrecision, ForeignKey, Integer, Text, Timestamptz, Varchar,
)
from piccolo.table import Table

from server.accounts.tables import User
from server.organisations.tables import Organisation


class VisitLog(Table, tablename="visit_log"):
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

    assignment_id = UUID(null=True, default=None)
    client_id = UUID(null=True, default=None)
    date = Date(null=True, default=None)
    start_time = Varchar(length=5, null=True, default=None)
    duration_minutes = Integer(default=0)
    place_type = Varchar(length=30, default="sonstiges")
    place_name = Varchar(length=200, default="")
    topics = JSON(default="[]")
    outcome = Text(default="")
    follow_up_needed = Boolean(default=False)
    follow_up_text = Text(default="")
    follow_up_due = Date(null=True, default=None)
    travel_km = DoublePrecision(default=0.0)
    expenses_cents = Integer(default=0)
    status = Varchar(length=12, default="draft")
    coordinator_comment = Text(default="")
