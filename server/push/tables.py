"""The instance's VAPID keys, the devices' push subscriptions and the durable push outbox."""

from piccolo.columns import JSON, UUID, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.table import Table

from server.accounts.tables import Device, User
from server.organisations.tables import Organisation


class PushKey(Table, tablename="push_key"):
    """A VAPID key pair; the newest one not retired signs. Kept in the database so that every
    worker of an installation signs with the same key."""

    id = UUID(primary_key=True)
    private_pem = Text()
    public_key = Varchar(length=100)  # the applicationServerKey, URL-safe base64
    created_at = Timestamptz()
    retired_at = Timestamptz(null=True, default=None)


class PushSubscription(Table, tablename="push_subscription"):
    id = UUID(primary_key=True)
    organisation = ForeignKey(references=Organisation, null=False)
    user = ForeignKey(references=User, null=False, index=True)
    device = ForeignKey(references=Device, null=True, default=None)
    endpoint = Text(unique=True)
    p256dh = Varchar(length=200)
    auth = Varchar(length=50)
    created_at = Timestamptz()
    last_success_at = Timestamptz(null=True, default=None)
    failures = Integer(default=0)


class PushAlert(Table, tablename="push_alert"):
    """One alert for one user, written in the transaction of what causes it; the sender sends it
    to each of the user's subscriptions, retrying with backoff, and marks it done."""

    id = UUID(primary_key=True)
    organisation = ForeignKey(references=Organisation, null=False)
    user = ForeignKey(references=User, null=False)
    kind = Varchar(length=24)
    topic = Varchar(length=32)  # a newer alert with the same topic replaces an undelivered one
    urgency = Varchar(length=8, default="normal")
    ttl = Integer(default=86400)
    url = Varchar(length=200)
    created_at = Timestamptz()
    due_at = Timestamptz(index=True)
    attempts = Integer(default=0)
    last_error = Text(default="")
    done_at = Timestamptz(null=True, default=None, index=True)


class PushPreference(Table, tablename="push_preference"):
    """A user's choice of alerts; without a row: every alert, quiet from 22:00 to 07:00."""

    user = ForeignKey(references=User, null=False, unique=True)
    alerts_off = JSON(default="[]")  # kinds the user does not want
    quiet_from = Varchar(length=5, default="22:00")  # Europe/Berlin; equal times: never quiet
    quiet_until = Varchar(length=5, default="07:00")
