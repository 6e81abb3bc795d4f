"""msgspec types of the account forms and the JSON sign-in API."""

from __future__ import annotations

from typing import Annotated

import msgspec

from server.accounts.passwords import MIN_PASSWORD_LENGTH
from server.i18n import LOCALES, N_
from server.wire import Strict

Login = Annotated[str, msgspec.Meta(min_length=1, max_length=254)]
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAYPARTS = ("am", "pm", "eve")
SLOTS = tuple(f"{day}-{part}" for day in WEEKDAYS for part in DAYPARTS)
LEVELS = ("basic", "fluent", "native")
# Languages volunteers most often bring, as ISO 639 codes; names come from Babel per UI language.
LANGUAGE_CODES = (
    "ar", "fa", "prs", "ps", "ku", "ckb", "ti", "so", "am", "uk", "ru", "tr", "en", "fr", "es", "it", "pl",
    "ro", "bg", "sq", "sr", "bs", "hr", "ur", "hi", "bn", "ta", "vi", "zh", "de",
)
UI_LANGUAGES = LOCALES


class LoginForm(msgspec.Struct):
    # Form posts carry the CSRF field besides the credentials; missing fields show as empty.
    login: str = ""
    password: str = ""
    next: str = "/"
    keep: str = ""  # "1": this is my own phone, keep me signed in (a device session)
    device_name: str = ""


class LoginRequest(Strict):
    login: Login
    password: Password
    device_name: Annotated[str, msgspec.Meta(max_length=80)] | None = None


class SetPasswordForm(msgspec.Struct):
    password: str = ""
    password_again: str = ""
    device_name: str = ""


class Me(msgspec.Struct):
    id: str
    organisation_id: str
    username: str
    display_name: str
    role: str
    ui_language: str
    device_id: str | None = None
    csrf_token: str | None = None  # for a page kept offline whose token went stale


class Profile(msgspec.Struct):
    """A user's profile as entered: what the volunteer or the coordinator may change."""

    display_name: str = ""
    ui_language: str = "de"
    languages: list[tuple[str, str]] = []  # (code, level)
    districts: list[str] = []
    availability: list[str] = []


def read_profile(form) -> tuple[Profile, dict[str, str]]:
    """The profile from a posted form (a multi-dict), and a message per field that is wrong."""
    codes, levels = form.getall("language", []), form.getall("level", [])
    profile = Profile(
        display_name=str(form.get("display_name", "")).strip(),
        ui_language=str(form.get("ui_language", "de")),
        languages=[(c, lv) for c, lv in zip(codes, levels, strict=False) if c],
        districts=[d.strip() for d in str(form.get("districts", "")).split(",") if d.strip()],
        availability=list(form.getall("availability", [])),
    )
    errors = profile_errors(profile)
    if len(codes) != len(levels):  # every language row sends both selects
        errors["languages"] = N_("Please choose each language once, with its level.")
    return profile, errors


def profile_errors(profile: Profile) -> dict[str, str]:
    errors = {}
    if not 1 <= len(profile.display_name) <= 120:
        errors["display_name"] = N_("Please enter a name of 1 to 120 characters.")
    if profile.ui_language not in UI_LANGUAGES:
        errors["ui_language"] = N_("Please choose one of the offered languages.")
    seen = [code for code, _ in profile.languages]
    if any(c not in LANGUAGE_CODES or lv not in LEVELS for c, lv in profile.languages) or len(set(seen)) != len(seen):
        errors["languages"] = N_("Please choose each language once, with its level.")
    if len(profile.districts) > 20 or any(len(d) > 60 for d in profile.districts):
        errors["districts"] = N_("Please list at most 20 districts of at most 60 characters each.")
    if not set(profile.availability) <= set(SLOTS):
        errors["availability"] = N_("Please choose the times from the table.")
    return errors


def password_errors(password: str, again: str, username: str) -> dict[str, str]:
    if len(password) < MIN_PASSWORD_LENGTH or len(password) > 1024:
        return {"password": N_("The password must have at least 10 characters.")}
    if password.strip().lower() == username.lower():
        return {"password": N_("The password must not be your user name.")}
    if password != again:
        return {"password_again": N_("The two passwords differ.")}
    return {}
