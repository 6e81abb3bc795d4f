"""GET /dashboard, /reports (a period: month, quarter, year or any) with its CSV and PDF, and the
volunteer's /statement with its PDF."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.response import Template

from server.access import roles
from server.clock import LOCAL, Clock
from server.errors import BadRequest, locale_of
from server.i18n import N_, gettext
from server.organisations import store as organisation_store
from server.reports import pdf, store
from server.requests import labels
from server.templating import render
from server.wire import parse_day

COORDINATION = roles("coordinator")
RISKY = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet reads a cell starting so as a formula


def _period(request: Request, today: date) -> tuple[date, date]:
    start_text, end_text = request.query_params.get("from", ""), request.query_params.get("to", "")
    if not start_text and not end_text:
        return store.quarter(today)
    start, end = parse_day(start_text), parse_day(end_text)
    if start is None or end is None:
        raise BadRequest(N_("Please give the period as two dates, from and to (YYYY-MM-DD)."))
    if end < start or (end - start).days > 3 * 366:
        raise BadRequest(N_("The period must end after it starts and span at most three years."))
    return start, end


def _presets(today: date) -> list[tuple[str, date, date]]:
    month_start = today.replace(day=1)
    quarter = store.quarter(today)
    previous = store.quarter(quarter[0] - timedelta(days=1))
    return [(N_("This month"), month_start, _month_end(today)),
            (N_("This quarter"), *quarter), (N_("Last quarter"), *previous),
            (N_("This year"), date(today.year, 1, 1), date(today.year, 12, 31))]


def _month_end(day: date) -> date:
    following = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return following - timedelta(days=1)


@get("/dashboard", opt=COORDINATION)
async def dashboard(request: Request, clock: NamedDependency[Clock]) -> Template:
    today = clock().astimezone(LOCAL).date()
    return render(request, "reports/dashboard.html", counts=await store.dashboard(request.user.organisation_id, today))


@get("/reports", opt=COORDINATION)
async def report(request: Request, clock: NamedDependency[Clock]) -> Template:
    today = clock().astimezone(LOCAL).date()
    start, end = _period(request, today)
    figures = await store.figures(request.user.organisation_id, start, end)
    return render(request, "reports/page.html", figures=figures, presets=_presets(today))


def inert(value: object) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(RISKY) else text


@get("/reports.csv", opt=COORDINATION)
async def report_csv(request: Request, clock: NamedDependency[Clock]) -> Response[bytes]:
    today = clock().astimezone(LOCAL).date()
    start, end = _period(request, today)
    figures = await store.figures(request.user.organisation_id, start, end)
    locale = locale_of(request)

    def _(message: str) -> str:
        return gettext(locale, message)

    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    row = lambda *cells: writer.writerow([inert(cell) for cell in cells])  # noqa: E731
    row(_("Period"), start.isoformat(), end.isoformat())
    row(_("Accompaniments"), figures.visits)
    row(_("Distinct clients"), figures.clients)
    row(_("Hours"), f"{figures.minutes / 60:.1f}")
    row(_("Travel km"), f"{figures.km:.1f}")
    for title, pairs, names in ((_("By type of place"), figures.by_place, labels.PLACE_TYPES),
                                (_("By purpose"), figures.by_purpose, labels.PURPOSES),
                                (_("By language"), figures.by_language, {})):
        for key, count in pairs:
            row(title, _(names[key]) if key in names else (key or _("without assignment")), count)
    for line in figures.volunteers:
        row(_("Volunteer"), line.name, line.visits, f"{line.minutes / 60:.1f}", f"{line.km:.1f}", f"{line.expenses_cents / 100:.2f}")
    row(_("New volunteers"), figures.new_volunteers)
    row(_("Modules completed"), figures.modules_completed)
    row(_("Certificates"), figures.certificates)
    for event in figures.events:
        row(_("Event"), event.day.isoformat(), event.title, event.coming, event.attended)
    return _download(out.getvalue().encode("utf-8-sig"), "text/csv; charset=utf-8",
                     f"lotsenbuch-{start.isoformat()}-{end.isoformat()}.csv")


def _download(body: bytes, media_type: str, name: str) -> Response[bytes]:
    return Response(body, media_type=media_type, headers={"content-disposition": f'attachment; filename="{name}"'})


async def _organisation_name(request: Request) -> str:
    organisation = await organisation_store.get(request.user.organisation_id)
    return organisation.name if organisation else ""


@get("/reports.pdf", opt=COORDINATION)
async def report_pdf(request: Request, clock: NamedDependency[Clock]) -> Response[bytes]:
    """The report as a document for a funder."""
    now = clock()
    start, end = _period(request, now.astimezone(LOCAL).date())
    figures = await store.figures(request.user.organisation_id, start, end)
    body = pdf.report(figures, await _organisation_name(request), locale_of(request), now)
    return _download(body, "application/pdf", f"lotsenbuch-{start.isoformat()}-{end.isoformat()}.pdf")


@get("/statement", opt=roles("volunteer"))
async def own_statement(request: Request, clock: NamedDependency[Clock]) -> Template:
    """The volunteer's own statement for a period, to print for an expense claim."""
    today = clock().astimezone(LOCAL).date()
    start, end = _period(request, today)
    lines = await store.statement(request.user.id, request.user.organisation_id, start, end)
    totals = {"minutes": sum(line.minutes for line in lines), "km": sum(line.km for line in lines),
              "expenses_cents": sum(line.expenses_cents for line in lines)}
    return render(request, "reports/statement.html", lines=lines, totals=totals, start=start, end=end,
                  presets=_presets(today))


@get("/statement.pdf", opt=roles("volunteer"))
async def own_statement_pdf(request: Request, clock: NamedDependency[Clock]) -> Response[bytes]:
    now = clock()
    start, end = _period(request, now.astimezone(LOCAL).date())
    lines = await store.statement(request.user.id, request.user.organisation_id, start, end)
    body = pdf.statement(lines, request.user.display_name, await _organisation_name(request), start, end,
                         locale_of(request), now)
    return _download(body, "application/pdf", f"lotsenbuch-statement-{start.isoformat()}-{end.isoformat()}.pdf")


@get("/admin/network", opt=roles("admin"))
async def network(request: Request, clock: NamedDependency[Clock]) -> Template:
    """For an installation's integration office: every organisation's figures together,
    anonymous, with no way into any record."""
    today = clock().astimezone(LOCAL).date()
    start, end = _period(request, today)
    organisations = [(o.id, o.name) for o in await organisation_store.list_all()]
    figures, lines = await store.network(organisations, start, end)
    return render(request, "reports/network.html", figures=figures, organisations=lines, presets=_presets(today))


ROUTES = [dashboard, report, report_csv, report_pdf, own_statement, own_statement_pdf, network]
