"""msgspec types of the coordinator's volunteer forms."""

from __future__ import annotations

import re
from datetime import date

import msgspec

from server.i18n import N_

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,79}$")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,189}\.[^@\s]+$")


TAKEN = N_("That user name or e-mail address is already taken.")
PLEDGE_INVALID = N_("Please enter the date the pledge was signed; it cannot lie in the future.")


class Account(msgspec.Struct):
    username: str = ""
    email: str = ""


def account_errors(account: Account) -> dict[str, str]:
    errors = {}
    if not USERNAME.match(account.username.strip().lower()):
        errors["username"] = N_("Use 2 to 80 letters, digits, dots, dashes or underscores, starting with a letter or digit.")
    if account.email.strip() and not EMAIL.match(account.email.strip()):
        errors["email"] = N_("Please enter a valid e-mail address, or leave it empty.")
    return errors


class PledgeForm(msgspec.Struct):
    signed_on: str = ""


def pledge_date(form: PledgeForm, today: date) -> date | None:
    """The date the pledge was signed, if it is a real date not in the future."""
    try:
        signed = date.fromisoformat(form.signed_on)
    except ValueError:
        return None
    return signed if date(2000, 1, 1) <= signed <= today else None


class ActiveForm(msgspec.Struct):
    active: str = ""


class InviteForm(msgspec.Struct):
    purpose: str = "invite"
