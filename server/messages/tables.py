"""Piccolo tables of messages and of who received them."""

from piccolo.columns import JSON, UUID, ForeignKey, Text, Timestamptz, Varchar
from piccolo.table import Table

from server.accounts.tables import User
from server.organisations.tables import Organisation


class Message(Table, tablename="message"):
    id = UUID(primary_key=True)
    organisation = ForeignKey(references=Organisation, null=False)
    author = ForeignKey(references=User, null=False)
    subject = Varchar(length=200)
    body = Text()
    audience = JSON(default="{}")  # the filter it was sent with: {"language": "ar", "district": "Nordstadt"}
    created_at = Timestamptz()


class MessageRecipient(Table, tablename="message_recipient"):
    """One row per volunteer a message reached: the recipients are fixed when it is sent."""

    message = ForeignKey(references=Message, null=False)
    recipient = ForeignKey(references=User, null=False, index=True)
    read_at = Timestamptz(null=True, default=None)
