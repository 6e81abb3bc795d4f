"""Piccolo table of clients. Pseudonymous by design: an alias or first name, the languages,
the district and what they need; nothing else is asked for."""

from piccolo.columns import JSON, UUID, Boolean, Date, ForeignKey, Text, Timestamptz, Varchar
from piccolo.table import Table

from server.organisations.tables import Organisation


class Client(Table, tablename="client"):
    id = UUID(primary_key=True)
    organisation = ForeignKey(references=Organisation, null=False)
    alias = Varchar(length=100)  # an alias or a first name, never a full name
    languages = JSON(default="[]")  # language codes, best first
    district = Varchar(length=100, default="")
    needs = Text(default="")
    consent_on = Date(null=True, default=None)  # the day the client agreed to being recorded
    active = Boolean(default=True)
    created_at = Timestamptz()
    erased_at = Timestamptz(null=True, default=None)  # erased: only what anonymous figures count is left
