"""Piccolo tables of requests for accompaniment and of the offers made to volunteers."""

from piccolo.columns import UUID, Date, ForeignKey, Text, Timestamptz, Varchar
from piccolo.table import Table

from server.accounts.tables import User
from server.clients.tables import Client
from server.organisations.tables import Organisation


class HelpRequest(Table, tablename="help_request"):
    """Someone needs a volunteer: asked by a coordinator or through the public form."""

    id = UUID(primary_key=True)
    organisation = ForeignKey(references=Organisation, null=False)
    reference = Varchar(length=12, unique=True)  # given to whoever asked, to refer to it
    source = Varchar(length=12)  # coordinator | public
    requester = Varchar(length=200, default="")  # who asks: an institution or the newcomer
    contact = Varchar(length=200, default="")
    language = Varchar(length=8)
    purpose = Varchar(length=20)
    day = Date(null=True, default=None)
    time_from = Varchar(length=5, null=True, default=None)
    time_to = Varchar(length=5, null=True, default=None)
    place = Varchar(length=200, default="")
    description = Text(default="")
    client = ForeignKey(references=Client, null=True, default=None)
    status = Varchar(length=12, default="new")  # new | matching | offered | assigned | done | cancelled
    created_at = Timestamptz()
    updated_at = Timestamptz()


class Offer(Table, tablename="offer"):
    """A request offered to one volunteer; the first acceptance of a request wins."""

    id = UUID(primary_key=True)
    organisation = ForeignKey(references=Organisation, null=False)
    request = ForeignKey(references=HelpRequest, null=False)
    volunteer = ForeignKey(references=User, null=False)
    status = Varchar(length=12, default="open")  # open | accepted | declined | taken | withdrawn
    created_at = Timestamptz()
    answered_at = Timestamptz(null=True, default=None)
