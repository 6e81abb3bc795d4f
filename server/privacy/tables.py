"""Piccolo tables of the audit log and the retention schedule of each organisation."""

from piccolo.columns import UUID, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.table import Table

from server.organisations.tables import Organisation


class AuditEntry(Table, tablename="audit_log"):
    """Who read which client's data, when and why; never what they read. Rows are only ever
    inserted: a trigger refuses UPDATE and DELETE (the organisation's own deletion excepted)."""

    organisation = ForeignKey(references=Organisation, null=False)
    actor = UUID()  # the user; not a foreign key, so that nothing but offboarding removes an entry
    role = Varchar(length=12)
    client = UUID(index=True)  # not a foreign key either: the entry outlives the client's erasure
    purpose = Varchar(length=20)  # page | list | request | assignment | export | sync | erase
    at = Timestamptz()


class RetentionPolicy(Table, tablename="retention_policy"):
    """How long an organisation keeps what it no longer needs; None keeps it."""

    organisation = ForeignKey(references=Organisation, primary_key=True)
    log_text_months = Integer(null=True, default=None)  # free text of visit logs and notes
    inactive_client_months = Integer(null=True, default=None)  # clients without an accompaniment since
    updated_at = Timestamptz(null=True, default=None)
    last_run_at = Timestamptz(null=True, default=None)
