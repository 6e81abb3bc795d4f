"""The request form — the coordinator's and the public one — checked field by field."""

from __future__ import annotations

from datetime import date

import msgspec

from server.accounts.forms import LANGUAGE_CODES
from server.i18n import N_
from server.requests.store import PURPOSES
from server.wire import TIME, parse_day, parse_uuid


class RequestForm(msgspec.Struct):
    requester: str = ""
    contact: str = ""
    language: str = ""
    purpose: str = ""
    day: str = ""
    time_from: str = ""
    time_to: str = ""
    place: str = ""
    description: str = ""
    client_id: str = ""


def read_request(form, today: date, public: bool) -> tuple[RequestForm, dict[str, str]]:
    """The form as entered, and a sentence for each wrong field. The public form must say who
    asks and how to reach them; a coordinator's may leave that to the client record."""
    entered = RequestForm(**{name: str(form.get(name, "")).strip() for name in RequestForm.__struct_fields__})
    errors = {}
    if public and not 2 <= len(entered.requester) <= 200:
        errors["requester"] = N_("Please tell us who is asking: a name or an institution.")
    elif len(entered.requester) > 200:
        errors["requester"] = N_("Please use at most 200 characters.")
    if public and not 3 <= len(entered.contact) <= 200:
        errors["contact"] = N_("Please give a phone number or e-mail address so that we can answer.")
    elif len(entered.contact) > 200:
        errors["contact"] = N_("Please use at most 200 characters.")
    if entered.language not in LANGUAGE_CODES:
        errors["language"] = N_("Please choose the language needed.")
    if entered.purpose not in PURPOSES:
        errors["purpose"] = N_("Please choose what the accompaniment is for.")
    if entered.day:
        day = parse_day(entered.day)
        if day is None or day < today:
            errors["day"] = N_("Please enter a date from today on, or leave it empty.")
    for name in ("time_from", "time_to"):
        if getattr(entered, name) and not TIME.match(getattr(entered, name)):
            errors[name] = N_("Please enter a time as HH:MM, or leave it empty.")
    if entered.time_from and entered.time_to and "time_to" not in errors and entered.time_to <= entered.time_from:
        errors["time_to"] = N_("The window must end after it starts.")
    if len(entered.place) > 200:
        errors["place"] = N_("Please use at most 200 characters.")
    if len(entered.description) > 4000:
        errors["description"] = N_("Please describe it in at most 4,000 characters.")
    if entered.client_id and parse_uuid(entered.client_id) is None:
        errors["client_id"] = N_("Please choose a client from the list.")
    return entered, errors


def values(entered: RequestForm) -> dict:
    """The columns of a checked form."""
    return {
        "requester": entered.requester, "contact": entered.contact, "language": entered.language,
        "purpose": entered.purpose, "day": parse_day(entered.day) if entered.day else None,
        "time_from": entered.time_from or None, "time_to": entered.time_to or None, "place": entered.place,
        "description": entered.description,
    }
