"""The Wegweiser's forms — a directory entry, a how-to, a suggested correction, a follow-up —
as entered, each checked field by field with a sentence for what is wrong."""

from __future__ import annotations

from datetime import date

import msgspec

from server.accounts.forms import LANGUAGE_CODES
from server.i18n import N_
from server.requests.labels import PLACE_TYPES, TOPICS
from server.wire import parse_day, parse_uuid
from sync.schema import HELP_KINDS

LONG_TEXT = 4000
CHECKLIST_ITEMS = 30


class EntryForm(msgspec.Struct):
    name: str = ""
    category: str = "beratungsstelle"
    address: str = ""
    opening_hours: str = ""
    phone: str = ""
    languages: list[str] = []
    help_kinds: list[str] = []
    bring: str = ""
    notes: str = ""
    last_checked: str = ""
    shared: bool = False


class HowtoForm(msgspec.Struct):
    title: str = ""
    body: str = ""
    checklist: str = ""  # one document a line
    entries: list[str] = []
    place_types: list[str] = []
    topics: list[str] = []


def _text(form, name: str) -> str:
    return str(form.get(name, "")).strip()


def _many(form, name: str) -> list[str]:
    return sorted({str(value) for value in form.getall(name, [])})


def read_entry(form, today: date) -> tuple[EntryForm, dict[str, str]]:
    entered = EntryForm(
        name=_text(form, "name"), category=_text(form, "category"), address=_text(form, "address"),
        opening_hours=_text(form, "opening_hours"), phone=_text(form, "phone"), languages=_many(form, "languages"),
        help_kinds=_many(form, "help_kinds"), bring=_text(form, "bring"), notes=_text(form, "notes"),
        last_checked=_text(form, "last_checked"), shared=form.get("shared") == "1",
    )
    errors = {}
    if not 1 <= len(entered.name) <= 200:
        errors["name"] = N_("Please give the name (at most 200 characters).")
    if entered.category not in PLACE_TYPES:
        errors["category"] = N_("Please choose a category from the list.")
    if len(entered.address) > 300:
        errors["address"] = N_("The address can have at most 300 characters.")
    if len(entered.phone) > 40 or any(c not in "0123456789+ /-()" for c in entered.phone):
        errors["phone"] = N_("Please enter the phone number with digits, spaces, + / - ( ) only.")
    if any(code not in LANGUAGE_CODES for code in entered.languages):
        errors["languages"] = N_("Please choose languages from the list.")
    if any(kind not in HELP_KINDS for kind in entered.help_kinds):
        errors["help_kinds"] = N_("Please choose the kinds of help from the list.")
    for name in ("opening_hours", "bring", "notes"):
        if len(getattr(entered, name)) > LONG_TEXT:
            errors[name] = N_("Please use at most 4,000 characters.")
    if entered.last_checked:
        day = parse_day(entered.last_checked)
        if day is None or day > today:
            errors["last_checked"] = N_("Please enter the day it was last checked, not in the future.")
    return entered, errors


def entry_values(entered: EntryForm) -> dict:
    values = msgspec.structs.asdict(entered)
    values["last_checked"] = parse_day(entered.last_checked) if entered.last_checked else None
    return values


def read_howto(form, known_entries: set) -> tuple[HowtoForm, dict[str, str]]:
    entered = HowtoForm(
        title=_text(form, "title"), body=_text(form, "body"), checklist=_text(form, "checklist"),
        entries=_many(form, "entries"), place_types=_many(form, "place_types"), topics=_many(form, "topics"),
    )
    errors = {}
    if not 1 <= len(entered.title) <= 200:
        errors["title"] = N_("Please give the how-to a title of at most 200 characters.")
    if len(entered.body) > LONG_TEXT:
        errors["body"] = N_("Please use at most 4,000 characters.")
    items = checklist(entered)
    if len(items) > CHECKLIST_ITEMS or any(len(item) > 200 for item in items):
        errors["checklist"] = N_("Please list at most 30 documents of at most 200 characters each, one a line.")
    if any(parse_uuid(value) not in known_entries for value in entered.entries):
        errors["entries"] = N_("Please choose directory entries from the list.")
    if any(code not in PLACE_TYPES for code in entered.place_types):
        errors["place_types"] = N_("Please choose types of place from the list.")
    if any(code not in TOPICS for code in entered.topics):
        errors["topics"] = N_("Please choose topics from the list.")
    return entered, errors


def checklist(entered: HowtoForm) -> list[str]:
    return [line.strip() for line in entered.checklist.splitlines() if line.strip()]


def howto_values(entered: HowtoForm) -> dict:
    return {"title": entered.title, "body": entered.body, "checklist": checklist(entered),
            "entries": [str(parse_uuid(value)) for value in entered.entries], "place_types": entered.place_types,
            "topics": entered.topics}


def read_text(form, name: str, limit: int) -> tuple[str, str | None]:
    """A required free text (a suggestion, a follow-up) and the sentence if it is missing or too long."""
    text = _text(form, name)
    if not 1 <= len(text) <= limit:
        return text, N_("Please write something, at most %(limit)s characters.")
    return text, None
