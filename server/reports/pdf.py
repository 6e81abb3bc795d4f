"""The report and the volunteer's statement as PDF documents, for funders and expense claims.

Drawn with fpdf2 in DejaVu Sans (bundled in pwa/fonts: Latin, Cyrillic, Arabic) with text
shaping, so names in any of the app's languages come out as typed. Clients appear only as counts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal
from fpdf import FPDF
from fpdf.enums import XPos, YPos

import pwa
from server.clock import LOCAL
from server.i18n import gettext
from server.reports.store import Figures, StatementLine
from server.requests import labels

FONT = "DejaVu"
INK, MUTED, BAR = (20, 20, 20), (90, 90, 90), (31, 94, 140)


class _Document(FPDF):
    """A4 portrait with the organisation on top and page numbers below."""

    def __init__(self, locale: str, heading: str, organisation: str, printed: datetime):
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.locale, self.heading, self.organisation = locale, heading, organisation
        self.add_font(FONT, "", pwa.ROOT / "fonts" / "DejaVuSans.ttf")
        self.add_font(FONT, "B", pwa.ROOT / "fonts" / "DejaVuSans-Bold.ttf")
        self.set_text_shaping(True)
        self.set_lang(locale)
        self.set_title(heading)
        self.set_creator("Lotsenbuch")
        self.set_creation_date(printed)
        self.set_auto_page_break(True, margin=18)
        self.printed = format_date(printed.astimezone(LOCAL).date(), format="medium", locale=locale)
        self.add_page()

    def _(self, message: str, **variables: object) -> str:
        return gettext(self.locale, message, **variables)

    def header(self) -> None:
        self.set_font(FONT, size=9)
        self.set_text_color(*MUTED)
        self.cell(0, 5, self.organisation, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(*INK)
        self.set_font(FONT, "B", 16)
        self.multi_cell(0, 8, self.heading, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(3)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, size=8)
        self.set_text_color(*MUTED)
        page = self._("Page %(page)s of %(pages)s", page=self.page_no(), pages="{nb}")
        self.cell(0, 5, f"Lotsenbuch · {self.printed} · {page}", align="C")

    def section(self, title: str) -> None:
        if self.get_y() > self.h - 60:  # a heading never stands alone at the foot of a page
            self.add_page()
        self.ln(3)
        self.set_font(FONT, "B", 12)
        self.cell(0, 7, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(FONT, size=10)

    def table(self, head: Iterable[str], rows: Iterable[Iterable[str]], widths: tuple[int, ...], text: int = 1) -> None:
        """A table whose first `text` columns are words (left) and the rest numbers (right)."""
        self.set_font(FONT, size=9)
        aligns = ("LEFT",) * text + ("RIGHT",) * (len(widths) - text)
        with super().table(col_widths=widths, text_align=aligns, line_height=5.5, first_row_as_headings=True,
                           headings_style=_headings()) as table:
            table.row(list(head))
            for row in rows:
                table.row(list(row))
        self.set_font(FONT, size=10)

    def bars(self, pairs: list[tuple[str, int]], name: Callable[[str], str]) -> None:
        """A horizontal bar chart, like the one on the page."""
        if not pairs:
            self.set_text_color(*MUTED)
            self.cell(0, 6, self._("Nothing in this period."), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            self.set_text_color(*INK)
            return
        top = max(count for _, count in pairs) or 1
        label_width, room = 60, self.epw - 60 - 16
        self.set_font(FONT, size=9)
        for key, count in pairs:
            if self.will_page_break(7):
                self.add_page()
            y = self.get_y()
            self.cell(label_width, 6, _fit(self, name(key), label_width - 2))
            width = max(room * count / top, 0.5)
            self.set_fill_color(*BAR)
            self.rect(self.l_margin + label_width, y + 0.8, width, 4.4, style="F")
            self.set_xy(self.l_margin + label_width + width + 1.5, y)
            self.cell(14, 6, _number(count, self.locale), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_fill_color(255, 255, 255)
        self.set_font(FONT, size=10)


def _headings():
    from fpdf.fonts import FontFace

    return FontFace(family=FONT, emphasis="BOLD", fill_color=(232, 238, 244))


def _fit(document: FPDF, text: str, width: float) -> str:
    """Shorten a label to its column with an ellipsis rather than overprint the bar."""
    if document.get_string_width(text) <= width:
        return text
    while text and document.get_string_width(text + "…") > width:
        text = text[:-1]
    return text + "…"


def _number(value: float, locale: str, digits: int = 0) -> str:
    return format_decimal(value, format="#,##0" + ("." + "0" * digits if digits else ""), locale=locale)


def _money(cents: int, locale: str) -> str:
    return format_currency(cents / 100, "EUR", locale=locale)


def _day(value: date, locale: str) -> str:
    return format_date(value, format="medium", locale=locale)


def report(figures: Figures, organisation: str, locale: str, printed: datetime) -> bytes:
    """The funders' report of a period: the same figures as the page, as a document."""
    period = dict(start=_day(figures.start, locale), end=_day(figures.end, locale))
    document = _Document(locale, gettext(locale, "Report %(start)s to %(end)s", **period), organisation, printed)
    _ = document._
    languages = Locale.parse(locale).languages
    facts = [(_("Accompaniments"), _number(figures.visits, locale)),
             (_("Distinct clients"), _number(figures.clients, locale)),
             (_("Hours"), _number(figures.minutes / 60, locale, 1)),
             (_("Travel km"), _number(figures.km, locale, 1)),
             (_("New volunteers"), _number(figures.new_volunteers, locale)),
             (_("Modules completed"), _number(figures.modules_completed, locale)),
             (_("Certificates"), _number(figures.certificates, locale)),
             (_("Came to events"), _number(sum(event.attended for event in figures.events), locale))]
    document.table((_("Figure"), _("Count")), facts, (3, 1))

    def month(key: str) -> str:
        year, number = key.split("-")
        return format_date(date(int(year), int(number), 1), format="MMM yyyy", locale=locale)

    def named(names: dict[str, str]) -> Callable[[str], str]:
        return lambda key: _(names[key]) if key in names else (languages.get(key, key) if key else _("without assignment"))

    document.section(_("Accompaniments by month"))
    document.bars(figures.by_month, month)
    document.section(_("By type of place"))
    document.bars(figures.by_place, named(labels.PLACE_TYPES))
    document.section(_("By purpose"))
    document.bars(figures.by_purpose, named(labels.PURPOSES))
    document.section(_("By language"))
    document.bars(figures.by_language, named({}))
    document.section(_("Hours and km per volunteer"))
    document.table((_("Volunteer"), _("Accompaniments"), _("Hours"), _("Travel km"), _("Expenses")),
                   ((line.name, _number(line.visits, locale), _number(line.minutes / 60, locale, 1),
                     _number(line.km, locale, 1), _money(line.expenses_cents, locale)) for line in figures.volunteers),
                   (5, 2, 2, 2, 2))
    if figures.events:
        document.section(_("Events"))
        document.table((_("Date"), _("Event"), _("Said they come"), _("Came")),
                       ((_day(event.day, locale), event.title, _number(event.coming, locale),
                         _number(event.attended, locale)) for event in figures.events), (2, 5, 2, 2), text=2)
    return bytes(document.output())


def statement(lines: list[StatementLine], person: str, organisation: str, start: date, end: date,
              locale: str, printed: datetime) -> bytes:
    """A volunteer's own statement of a period: visits, hours, km and expenses, to sign."""
    heading = gettext(locale, "Statement of %(name)s, %(start)s to %(end)s", name=person,
                      start=_day(start, locale), end=_day(end, locale))
    document = _Document(locale, heading, organisation, printed)
    _ = document._
    minutes, km = sum(line.minutes for line in lines), sum(line.km for line in lines)
    cents = sum(line.expenses_cents for line in lines)
    document.table((_("Figure"), _("Total")),
                   ((_("Accompaniments"), _number(len(lines), locale)), (_("Hours"), _number(minutes / 60, locale, 1)),
                    (_("Travel km"), _number(km, locale, 1)), (_("Expenses"), _money(cents, locale))), (3, 1))
    document.section(_("Accompaniments"))
    document.table((_("Date"), _("Place"), _("Hours"), _("Travel km"), _("Expenses")),
                   ((_day(line.day, locale),
                     _(labels.PLACE_TYPES.get(line.place_type, "Other")) + (f" · {line.place_name}" if line.place_name else ""),
                     _number(line.minutes / 60, locale, 1), _number(line.km, locale, 1),
                     _money(line.expenses_cents, locale)) for line in lines),
                   (2, 6, 1, 2, 2), text=2)
    document.ln(18)
    document.set_draw_color(*MUTED)
    document.line(document.l_margin, document.get_y(), document.l_margin + 80, document.get_y())
    document.ln(1)
    document.set_font(FONT, size=9)
    document.cell(80, 5, _("Confirmed by the coordination"))
    return bytes(document.output())
