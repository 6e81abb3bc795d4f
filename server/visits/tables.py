"""Piccolo table of visit logs: the sync columns of R1, then the log's own fields."""

from piccolo.columns import JSON, UUID, Boolean, Date, DoublePrecision, Integer, Text, Varchar
from piccolo.table import Table

from server.sync_tables import SyncedRecord


class VisitLog(SyncedRecord, Table, tablename="visit_log"):
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
    directory_entry_id = UUID(null=True, default=None)  # the place as an entry of the Wegweiser
    help_kind = Varchar(length=20, default="")  # "" or the professional help this needs (legal, health, ...)
    help_reason = Text(default="")
