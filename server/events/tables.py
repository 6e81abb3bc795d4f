"""Piccolo tables of events, the answers and attendance of volunteers, the module catalogue of
an organisation and the modules each volunteer completed."""

from piccolo.columns import UUID, Boolean, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.table import Table

from server.accounts.tables import User
from server.organisations.tables import Organisation


class Module(Table, tablename="module"):
    id = UUID(primary_key=True)
    organisation = ForeignKey(references=Organisation, null=False)
    name = Varchar(length=120)
    required = Boolean(default=True)  # needed for the certificate
    position = Integer(default=0)


class Event(Table, tablename="event"):
    id = UUID(primary_key=True)
    organisation = ForeignKey(references=Organisation, null=False)
    kind = Varchar(length=12)  # stammtisch | training | supervision
    title = Varchar(length=200)
    starts_at = Timestamptz()
    place = Varchar(length=200, default="")
    description = Text(default="")
    module = ForeignKey(references=Module, null=True, default=None)  # a training that completes a module
    created_at = Timestamptz()


class EventResponse(Table, tablename="event_response"):
    """A volunteer's answer to an event, and whether they came (recorded by coordination)."""

    event = ForeignKey(references=Event, null=False, index=True)
    volunteer = ForeignKey(references=User, null=False)
    answer = Varchar(length=8, null=True, default=None)  # yes | no | maybe
    attended = Boolean(null=True, default=None)
    answered_at = Timestamptz(null=True, default=None)


class ModuleCompletion(Table, tablename="module_completion"):
    module = ForeignKey(references=Module, null=False)
    volunteer = ForeignKey(references=User, null=False, index=True)
    completed_on = Date()
    event = ForeignKey(references=Event, null=True, default=None)  # the training it came from, if any
