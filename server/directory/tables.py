"""Piccolo tables of the Wegweiser: directory entries, how-tos, volunteers' suggested corrections,
and coordination's follow-up of visit logs flagged as needing professional help."""

from piccolo.columns import JSON, UUID, Boolean, Date, ForeignKey, Text, Timestamptz, Varchar
from piccolo.table import Table

from server.accounts.tables import User
from server.organisations.tables import Organisation


class DirectoryEntry(Table, tablename="directory_entry"):
    """An office, advice centre, doctor, school or service; `shared` shows it (read-only) to the
    other organisations of the installation."""

    id = UUID(primary_key=True)
    organisation = ForeignKey(references=Organisation, null=False)
    name = Varchar(length=200)
    category = Varchar(length=30, default="sonstiges")  # a visit-log place type
    address = Varchar(length=300, default="")
    opening_hours = Text(default="")
    phone = Varchar(length=40, default="")
    languages = JSON(default="[]")  # language codes spoken there
    help_kinds = JSON(default="[]")  # the kinds of professional help it gives (legal, health, ...)
    bring = Text(default="")  # what to bring
    notes = Text(default="")  # notes for volunteers
    last_checked = Date(null=True, default=None)
    shared = Boolean(default=False)
    deleted_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class Howto(Table, tablename="howto"):
    """A short guide: steps, a checklist of documents, and what it is linked to."""

    id = UUID(primary_key=True)
    organisation = ForeignKey(references=Organisation, null=False)
    title = Varchar(length=200)
    body = Text(default="")
    checklist = JSON(default="[]")  # documents to bring, one item each
    entries = JSON(default="[]")  # directory entry ids
    place_types = JSON(default="[]")
    topics = JSON(default="[]")
    deleted_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class DirectorySuggestion(Table, tablename="directory_suggestion"):
    """A volunteer's correction of an entry, for coordination to take over or dismiss."""

    id = UUID(primary_key=True)
    organisation = ForeignKey(references=Organisation, null=False)  # the suggester's
    entry = UUID(index=True)
    author = ForeignKey(references=User, null=False)
    text = Text()
    created_at = Timestamptz()
    done_at = Timestamptz(null=True, default=None)
    done_by = ForeignKey(references=User, null=True, default=None)


class HelpFollowUp(Table, tablename="help_follow_up"):
    """What coordination did about a visit log flagged as needing professional help."""

    id = UUID(primary_key=True)
    organisation = ForeignKey(references=Organisation, null=False)
    visit_log = UUID(index=True)
    author = ForeignKey(references=User, null=False)
    text = Text()
    closed = Boolean(default=False)  # the case is taken care of
    created_at = Timestamptz()
