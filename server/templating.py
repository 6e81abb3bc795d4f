"""Jinja2 for Litestar: one environment, gettext in the request's locale, and the render helper.

A page template includes its fragment; an htmx request gets the fragment alone.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from babel import Locale
from babel.dates import format_date, format_datetime, get_day_names
from babel.numbers import format_currency, format_decimal

from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context
from litestar import Request
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.template.config import TemplateConfig

import pwa
from server.accounts.forms import DAYPARTS, LANGUAGE_CODES, WEEKDAYS
from server.clock import LOCAL
from server.requests import labels
from server.errors import locale_of
from server.i18n import RTL_LOCALES, translations
from server.offline.strings import app_strings_json


@pass_context
def _gettext(context: Context, message: str) -> str:
    return translations(locale_of(context["request"])).gettext(message)


@pass_context
def _language_name(context: Context, code: str) -> str:
    return Locale.parse(locale_of(context["request"])).languages.get(code, code)


@pass_context
def _format_date(context: Context, value: date | None) -> str:
    return format_date(value, format="medium", locale=locale_of(context["request"])) if value else ""


@pass_context
def _format_datetime(context: Context, value: datetime | None) -> str:
    if value is None:
        return ""
    return format_datetime(value, format="short", tzinfo=LOCAL, locale=locale_of(context["request"]))


@pass_context
def _format_number(context: Context, value: float, places: int = 0) -> str:
    """A count or a measure with the locale's digit grouping and decimal sign (1.234,5 in German)."""
    pattern = "#,##0" + ("." + "0" * places if places else "")
    return format_decimal(value, format=pattern, locale=locale_of(context["request"]))


@pass_context
def _format_money(context: Context, cents: int) -> str:
    return format_currency(cents / 100, "EUR", locale=locale_of(context["request"]))


@pass_context
def _weekday_names(context: Context) -> list[str]:
    names = get_day_names("abbreviated", locale=locale_of(context["request"]))
    return [names[i] for i in range(7)]


@pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    return translations(locale_of(context["request"])).ngettext(singular, plural, n)


def make_environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(pwa.TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        auto_reload=False,
    )
    environment.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
    environment.globals["rtl_locales"] = RTL_LOCALES
    environment.globals["language_name"] = _language_name
    environment.globals["language_codes"] = LANGUAGE_CODES
    environment.globals["weekdays"] = WEEKDAYS
    environment.globals["dayparts"] = DAYPARTS
    environment.globals["weekday_names"] = _weekday_names
    environment.filters["date"] = _format_date
    environment.filters["datetime"] = _format_datetime
    environment.filters["number"] = _format_number
    environment.filters["money"] = _format_money
    environment.globals["locale_of"] = locale_of
    environment.globals["labels"] = labels
    environment.globals["app_strings_json"] = app_strings_json
    # Unmatched paths (404) never pass the session middleware, so read the user from the scope.
    environment.globals["current_user"] = lambda request: request.scope.get("user")
    return environment


def template_config() -> TemplateConfig:
    return TemplateConfig(engine=JinjaTemplateEngine.from_environment(make_environment()))


def render(
    request: Request, page: str, fragment: str | None = None, *, status_code: int = 200,
    headers: dict[str, str] | None = None, **context: Any,
) -> Template:
    """The page, or for an htmx request its fragment alone."""
    is_htmx = request.headers.get("hx-request") == "true"
    name = fragment if is_htmx and fragment else page
    return Template(name, context=context, status_code=status_code, headers=headers)
