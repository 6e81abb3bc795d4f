"""Piccolo tables of users, their devices, sessions, invitations, and sign-in throttling."""

from piccolo.columns import JSON, UUID, BigInt, Boolean, Date, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.table import Table

from server.organisations.tables import Organisation


class User(Table, tablename="app_user"):
    id = UUID(primary_key=True)
    organisation = ForeignKey(references=Organisation, null=False)
    username = Varchar(length=80, unique=True)
    email = Varchar(length=254, null=True, default=None, unique=True)
    display_name = Varchar(length=120)
    role = Varchar(length=20)  # volunteer | coordinator | admin
    password_hash = Varchar(length=200, null=True, default=None)
    ui_language = Varchar(length=8, default="de")
    languages = JSON(default="[]")  # [{"code": "ar", "level": "native"}, ...]
    districts = JSON(default="[]")  # ["Nordstadt", ...]
    availability = JSON(default="[]")  # ["mon-am", "wed-pm", ...]
    pledge_signed_on = Date(null=True, default=None)  # Verpflichtungserklärung; gate for client data
    active = Boolean(default=True)
    created_at = Timestamptz()


class Device(Table, tablename="device"):
    """An installed phone of a volunteer (or any signed-in browser kept signed in)."""

    id = UUID(primary_key=True)
    user = ForeignKey(references=User, null=False)
    name = Varchar(length=80)
    created_at = Timestamptz()
    last_seen_at = Timestamptz()
    last_sync_at = Timestamptz(null=True, default=None)
    last_mutation_id = BigInt(default=0)  # the highest mutation id processed from this device (R4)
    revoked_at = Timestamptz(null=True, default=None)


class UserSession(Table, tablename="user_session"):
    """A signed-in browser; the cookie holds a random token, the table only its SHA-256."""

    token_hash = Varchar(length=64, primary_key=True)
    user = ForeignKey(references=User, null=False)
    device = ForeignKey(references=Device, null=True, default=None)
    kind = Varchar(length=10, default="browser")  # browser | device
    created_at = Timestamptz()
    last_seen_at = Timestamptz()


class Invitation(Table, tablename="invitation"):
    """A one-time link to choose a password: an invitation or a reset, valid for 72 hours."""

    token_hash = Varchar(length=64, primary_key=True)
    user = ForeignKey(references=User, null=False)
    purpose = Varchar(length=10)  # invite | reset
    created_by = ForeignKey(references=User, null=True, default=None)
    created_at = Timestamptz()
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)


class Throttle(Table, tablename="throttle"):
    """Failed attempts per key (an account name or a client address), shared by every worker."""

    key = Varchar(length=300, primary_key=True)
    failures = Integer(default=0)
    window_start = Timestamptz()
    blocked_until = Timestamptz(null=True, default=None)
