"""Translations: German is complete, the template catalogue is current, locales are chosen well."""

import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

import pwa
from server.i18n import choose_locale, gettext

ROOT = Path(__file__).resolve().parents[2]
FORMAT_FIELD = re.compile(r"%\(\w+\)s")


def _catalog(path: Path):
    with path.open("rb") as file:
        return read_po(file)


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


def test_german_translates_every_message_and_keeps_format_fields():
    german = _catalog(pwa.LOCALES / "de" / "LC_MESSAGES" / "messages.po")
    expected = _ids(_catalog(pwa.LOCALES / "messages.pot"))
    translated = {_singular(m.id): m for m in german if m.id and _complete(m) and not m.fuzzy}
    assert expected - set(translated) == set()
    for msgid, message in translated.items():
        texts = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in texts:
            assert sorted(set(FORMAT_FIELD.findall(msgid))) == sorted(set(FORMAT_FIELD.findall(text))), msgid


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
    ],
)
def test_locale_choice(header, preferred, expected):
    assert choose_locale(header, preferred) == expected


def test_gettext_fills_in_named_values():
    assert gettext("de", "Hello, %(name)s", name="Amina") == "Hallo, Amina"
    assert gettext("en", "Hello, %(name)s", name="Amina") == "Hello, Amina"
