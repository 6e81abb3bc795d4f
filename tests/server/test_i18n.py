"""Translations: every catalogue is complete, the template catalogue is current, locales are chosen well."""

import re
from pathlib import Path

import pytest
from babel import Locale
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po

import pwa
from server.i18n import DEFAULT_LOCALE, LOCALES, choose_locale, gettext, ngettext, translations
from server.offline.strings import app_strings

ROOT = Path(__file__).resolve().parents[2]
FORMAT_FIELD = re.compile(r"%\(\w+\)[sd]")
TRANSLATED = [locale for locale in LOCALES if locale != "en"]  # English msgids are the English text


def _catalog(path: Path, locale: str | None = None):
    with path.open("rb") as file:
        return read_po(file, locale=locale)  # the locale gives the number of plural forms


def _ids(catalog) -> set[str]:
    return {_singular(message.id) for message in catalog if message.id}


def _singular(msgid) -> str:
    return msgid[0] if isinstance(msgid, tuple) else msgid


def _complete(message) -> bool:
    return all(message.string) if isinstance(message.string, tuple) else bool(message.string)


def test_the_message_catalogue_is_current_with_the_sources():
    """Fails when a template or module gains a message that was not extracted (see README: i18n)."""
    keywords = {**DEFAULT_KEYWORDS, "N_": None}
    found = set()
    for directory, method in (("server", "python"), ("pwa/templates", "jinja2")):
        for _, _, message, *_ in extract_from_dir(
            ROOT / directory, method_map=[("**.py" if method == "python" else "**.html", method)],
            options_map={"**.html": {"extensions": "jinja2.ext.i18n"}}, keywords=keywords,
        ):
            found.add(message if isinstance(message, str) else message[0])
    assert found == _ids(_catalog(pwa.LOCALES / "messages.pot"))


def _template_ids() -> set[str]:
    return _ids(_catalog(pwa.LOCALES / "messages.pot"))


def _fields(text: str) -> list[str]:
    return sorted(set(FORMAT_FIELD.findall(text)))


@pytest.mark.parametrize("locale", TRANSLATED)
def test_every_catalogue_translates_every_message_and_keeps_format_fields(locale):
    """German, Arabic, Ukrainian and Turkish: every message, every plural form the language has."""
    catalogue = _catalog(pwa.LOCALES / locale / "LC_MESSAGES" / "messages.po", locale)
    translated = {_singular(m.id): m for m in catalogue if m.id and _complete(m) and not m.fuzzy}
    assert _template_ids() - set(translated) == set()
    forms = get_plural(locale).num_plurals
    for msgid, message in translated.items():
        if isinstance(message.id, tuple):
            assert len(message.string) == forms, f"{locale}: {msgid!r} needs {forms} plural forms"
            wanted = _fields(message.id[1])
        else:
            wanted = _fields(msgid)
        texts = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in texts:
            if isinstance(message.id, tuple):  # a plural form may say the count in words ("once")
                assert set(wanted) - {"%(num)d"} <= set(_fields(text)) <= set(wanted), f"{locale}: {msgid!r}"
            else:
                assert _fields(text) == wanted, f"{locale}: {msgid!r}"


def test_every_offered_locale_has_a_catalogue_that_is_not_empty():
    """A missing .po file would fall back to English msgids without a word; it must fail here."""
    assert DEFAULT_LOCALE in LOCALES
    for locale in LOCALES:
        assert (pwa.LOCALES / locale / "LC_MESSAGES" / "messages.po").exists(), locale
    for locale in TRANSLATED:
        assert gettext(locale, "Sign in") != "Sign in", locale


def test_english_falls_back_to_the_msgids_in_singular_and_plural():
    """The English catalogue leaves msgstr empty (or equal to the msgid), so English is the msgid."""
    english = _catalog(pwa.LOCALES / "en" / "LC_MESSAGES" / "messages.po", "en")
    assert _ids(english) == _template_ids()
    for message in english:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        assert all(text in ("", *ids) for text in strings), message.id
        if isinstance(message.id, tuple):
            one, many = message.id
            assert translations("en").ngettext(one, many, 1) == one
            assert translations("en").ngettext(one, many, 2) == many
        else:
            assert translations("en").gettext(message.id) == message.id


def test_plural_forms_follow_each_languages_rules():
    one, many = "%(num)d minute", "%(num)d minutes"
    assert [ngettext("de", one, many, n) for n in (1, 2)] == ["1 Minute", "2 Minuten"]
    assert [ngettext("uk", one, many, n) for n in (1, 3, 5, 21)] == ["1 хвилина", "3 хвилини", "5 хвилин", "21 хвилина"]
    arabic = [ngettext("ar", one, many, n) for n in (0, 1, 2, 3, 11, 100)]
    assert len(set(arabic[2:4])) == 2 and arabic[3] == "3 دقائق" and arabic[2] == "2 دقيقتان"
    assert ngettext("tr", one, many, 7) == "7 dakika"


@pytest.mark.parametrize("locale", LOCALES)
def test_the_phones_plural_texts_cover_every_category_of_the_language(locale):
    """The page picks a text by Intl.PluralRules' category; each category it can name is there."""
    texts = app_strings(locale)["plurals"]["waiting"]
    rules = Locale.parse(locale)
    assert set(texts) == {rules.plural_form(n) for n in range(1000)}
    for n in (0, 1, 2, 3, 5, 11, 21, 100, 102):
        assert texts[rules.plural_form(n)] == translations(locale).ngettext(
            "%(num)d entry waits on this phone.", "%(num)d entries wait on this phone.", n,
        )
    if locale == "ar":
        assert set(texts) == {"zero", "one", "two", "few", "many", "other"}


def test_templates_hold_no_untranslated_text():
    """Text between tags must come from gettext; only the brand name and markup may stand bare."""
    allowed = {"Lotsenbuch", "·", ","}
    for template in pwa.TEMPLATES.rglob("*.html"):
        source = re.sub(r"{[{%#].*?[}%#]}", " ", template.read_text(), flags=re.S)
        source = re.sub(r"<(script|style)\b.*?</\1>", " ", source, flags=re.S)
        for text in re.findall(r">([^<>]+)<", source):
            if '="' in text:  # attribute markup a macro emits, not text
                continue
            words = [w for w in text.split() if w not in allowed]
            assert not words, f"{template.relative_to(pwa.ROOT)}: untranslated text {text.strip()!r}"


def test_templates_hold_no_untranslated_text_in_attributes_read_aloud():
    """Labels a screen reader speaks (aria-label, title, alt, placeholder) come from gettext too."""
    readable = re.compile(r'\b(aria-label|aria-description|title|alt|placeholder)="([^"]*)"')
    for template in pwa.TEMPLATES.rglob("*.html"):
        source = re.sub(r"{[{%#].*?[}%#]}", " ", template.read_text(), flags=re.S)
        for attribute, value in readable.findall(source):
            words = [w for w in value.split() if w not in {"Lotsenbuch", "·", ","}]
            assert not words, f"{template.relative_to(pwa.ROOT)}: untranslated {attribute}={value!r}"


@pytest.mark.parametrize(
    ("header", "preferred", "expected"),
    [
        (None, None, "de"),
        ("en-US,en;q=0.9", None, "en"),
        ("fr-FR,fr;q=0.9", None, "de"),
        ("fr;q=0.9,en;q=0.8,de;q=0.7", None, "en"),
        ("de;q=0.1,en;q=0.9", None, "en"),
        ("en;q=0", None, "de"),
        ("en;q=oops", None, "de"),
        ("en-US", "de", "de"),
        ("de", "en", "en"),
        ("de", "xx", "de"),
        ("ar-SY,ar;q=0.9,de;q=0.5", None, "ar"),
        ("uk-UA,uk;q=0.9,ru;q=0.8", None, "uk"),
        ("tr-TR", None, "tr"),
        ("de-DE", "ar", "ar"),
    ],
)
def test_locale_choice(header, preferred, expected):
    assert choose_locale(header, preferred) == expected


def test_gettext_fills_in_named_values():
    assert gettext("de", "Hello, %(name)s", name="Amina") == "Hallo, Amina"
    assert gettext("en", "Hello, %(name)s", name="Amina") == "Hello, Amina"
    assert gettext("ar", "Hello, %(name)s", name="Amina") == "مرحبًا، Amina"


@pytest.mark.parametrize(
    ("locale", "expected"),
    [("de", "1.234,5 · 12.345 · 5,80\xa0€"), ("en", "1,234.5 · 12,345 · €5.80"), ("uk", "1\xa0234,5 · 12\xa0345 · 5,80\xa0EUR"),
     ("tr", "1.234,5 · 12.345 · €5,80")],
)
def test_numbers_and_money_follow_the_locale(locale, expected):
    from types import SimpleNamespace

    from server.templating import make_environment

    request = SimpleNamespace(scope={"state": {"locale": locale}}, headers={})
    template = make_environment().from_string("{{ 1234.5|number(1) }} · {{ 12345|number }} · {{ 580|money }}")
    assert template.render(request=request) == expected


def test_dates_are_shown_in_berlin_time_in_the_users_language():
    from datetime import UTC, datetime
    from types import SimpleNamespace

    from server.templating import make_environment

    moment = datetime(2026, 7, 1, 22, 30, tzinfo=UTC)  # already 2 July in Berlin (summer time)
    shown = {}
    for locale in ("de", "en"):
        request = SimpleNamespace(scope={"state": {"locale": locale}}, headers={})
        shown[locale] = make_environment().from_string("{{ moment|datetime }}").render(request=request, moment=moment)
    assert shown["de"] == "02.07.26, 00:30"
    assert shown["en"].startswith("7/2/26") and "12:30" in shown["en"]
