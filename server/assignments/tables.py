"""Piccolo table of assignments: a volunteer accompanies a client, made from an accepted offer."""

from piccolo.columns import UUID, Date, ForeignKey, Timestamptz, Varchar
from piccolo.table import Table

from server.accounts.tables import User
from server.clients.tables import Client
from server.organisations.tables import Organisation
from server.requests.tables import HelpRequest


class Assignment(Table, tablename="assignment"):
    id = UUID(primary_key=True)
    organisation = ForeignKey(references=Organisation, null=False)
    request = ForeignKey(references=HelpRequest, null=False, unique=True)  # one assignment a request
    client = ForeignKey(references=Client, null=True, default=None)
    volunteer = ForeignKey(references=User, null=False)
    day = Date(null=True, default=None)
    start_time = Varchar(length=5, null=True, default=None)
    place = Varchar(length=200, default="")
    language = Varchar(length=8)
    purpose = Varchar(length=20)
    status = Varchar(length=12, default="planned")  # planned | done | cancelled
    created_at = Timestamptz()
