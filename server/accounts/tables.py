"""Piccolo tables of users and their sessions."""

from piccolo.columns import UUID, Boolean, ForeignKey, Timestamptz, Varchar
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
    active = Boolean(default=True)
    created_at = Timestamptz()


class UserSession(Table, tablename="user_session"):
    """A signed-in browser; the cookie holds a random token, the table only its SHA-256."""

    token_hash = Varchar(length=64, primary_key=True)
    user = ForeignKey(references=User, null=False)
    kind = Varchar(length=10, default="browser")  # browser | device
    created_at = Timestamptz()
    last_seen_at = Timestamptz()
