"""The client form: what a coordinator enters, checked field by field."""

from __future__ import annotations

from datetime import date

import msgspec

from server.accounts.forms import LANGUAGE_CODES
from server.i18n import N_


class ClientForm(msgspec.Struct):
    alias: str = ""
    languages: list[str] = []
    district: str = ""
    needs: str = ""
    consent_on: str = ""
    active: bool = True


def read_client(form, today: date) -> tuple[ClientForm, dict[str, str]]:
    """The form as entered, and a sentence for each field that is wrong."""
    entered = ClientForm(
        alias=str(form.get("alias", "")).strip(), languages=[str(v) for v in form.getall("languages", [])],
        district=str(form.get("district", "")).strip(), needs=str(form.get("needs", "")).strip(),
        consent_on=str(form.get("consent_on", "")).strip(), active=form.get("active", "1") == "1",
    )
    errors = {}
    if not 1 <= len(entered.alias) <= 100:
        errors["alias"] = N_("Please enter an alias or a first name (at most 100 characters) — never a full name.")
    if not entered.languages or any(code not in LANGUAGE_CODES for code in entered.languages):
        errors["languages"] = N_("Please choose at least one language the client speaks.")
    if len(entered.district) > 100:
        errors["district"] = N_("The district can have at most 100 characters.")
    if len(entered.needs) > 2000:
        errors["needs"] = N_("Please describe the needs in at most 2,000 characters.")
    if entered.consent_on and consent_date(entered, today) is None:
        errors["consent_on"] = N_("Please enter the day of consent as a date that is not in the future.")
    return entered, errors


def consent_date(entered: ClientForm, today: date) -> date | None:
    try:
        day = date.fromisoformat(entered.consent_on)
    except ValueError:
        return None
    return day if date(2000, 1, 1) <= day <= today else None
