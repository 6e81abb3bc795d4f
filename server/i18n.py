"""Translations: gettext catalogues compiled from the .po files in pwa/locales, and locale choice.

German is the default UI language; message ids are English.
"""

from __future__ import annotations

import io
from functools import cache

from babel.core import negotiate_locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

import pwa

DEFAULT_LOCALE = "de"
LOCALES = ("de", "en", "ar", "uk", "tr")
RTL_LOCALES = frozenset({"ar"})  # written right to left: the page gets dir="rtl"
DOMAIN = "messages"


@cache
def translations(locale: str) -> Translations:
    """The catalogue of one locale, compiled in memory from its .po file (no .mo files in the tree)."""
    po_path = pwa.LOCALES / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not po_path.exists():
        return Translations()
    with po_path.open("rb") as file:
        catalog = read_po(file, locale=locale, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def gettext(locale: str, message: str, **variables: object) -> str:
    text = translations(locale).gettext(message)
    return text % variables if variables else text


def ngettext(locale: str, singular: str, plural: str, n: int, **variables: object) -> str:
    text = translations(locale).ngettext(singular, plural, n)
    return text % {"num": n, **variables}


def choose_locale(accept_language: str | None, preferred: str | None = None) -> str:
    """The user's own choice if it is supported, else the browser's best supported one, else German."""
    if preferred in LOCALES:
        return preferred
    wanted = [tag.replace("-", "_") for tag in _by_quality(accept_language or "")]
    return negotiate_locale(wanted, LOCALES, sep="_") or DEFAULT_LOCALE


def _by_quality(header: str) -> list[str]:
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and tag != "*" and quality > 0:
            ranked.append((-quality, position, tag.strip()))
    return [tag for _, _, tag in sorted(ranked)]


def N_(message: str) -> str:
    """Marks a message for extraction where it is defined; it is translated where it is shown."""
    return message
