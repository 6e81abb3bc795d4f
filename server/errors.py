"""One exception tree, and the one place that maps every error to a page, an htmx fragment or JSON.

    LotsenbuchError            a failure the user can be told about in one sentence
     ├── BadRequest            400  the input is malformed or breaks a rule
     ├── NotAuthenticated      401  sign in first
     ├── Forbidden             403  signed in, but not allowed
     ├── NotFound              404  no such thing, or not yours to see (never says which)
     ├── Conflict              409  the request clashes with the state of what it names
     ├── PayloadTooLarge       413  a body or batch over a named limit
     ├── UnsupportedMediaType  415  the body is not in a format this route reads
     ├── TooManyRequests       429  wait Retry-After seconds
     └── ServiceUnavailable    503  try again later

Messages are English msgids translated into the request's locale when the response is made.
"""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.response import Template

from server.i18n import N_, choose_locale, gettext

log = logging.getLogger("lotsenbuch.errors")


class LotsenbuchError(Exception):
    status_code = 500
    default_message = N_("Something went wrong on our side. Please try again in a moment.")

    def __init__(self, message: str | None = None, *, details: list[dict[str, Any]] | None = None, **variables: object):
        self.message = message or self.default_message
        self.variables = variables
        self.details = details or []
        self.headers: dict[str, str] = {}
        super().__init__(self.message % variables if variables else self.message)


class BadRequest(LotsenbuchError):
    status_code = 400
    default_message = N_("The request could not be read.")


class NotAuthenticated(LotsenbuchError):
    status_code = 401
    default_message = N_("Please sign in to continue.")


class Forbidden(LotsenbuchError):
    status_code = 403
    default_message = N_("You are not allowed to do this.")


class NotFound(LotsenbuchError):
    status_code = 404
    default_message = N_("This page does not exist, or you may not see it.")


class Conflict(LotsenbuchError):
    status_code = 409
    default_message = N_("This cannot be done in the current state.")


class PayloadTooLarge(LotsenbuchError):
    status_code = 413
    default_message = N_("The request is too large.")


class UnsupportedMediaType(LotsenbuchError):
    status_code = 415
    default_message = N_("The request body must be JSON (Content-Type: application/json).")


class TooManyRequests(LotsenbuchError):
    status_code = 429
    default_message = N_("Too many attempts. Please wait a moment and try again.")

    def __init__(self, message: str | None = None, *, retry_after: int, **variables: object):
        super().__init__(message, **variables)
        self.headers["Retry-After"] = str(retry_after)


class ServiceUnavailable(LotsenbuchError):
    status_code = 503
    default_message = N_("The service is busy. Please try again in a moment.")


# Litestar's own exceptions, by status, as sentences a user can act on.
_LITESTAR_MESSAGES = {
    400: BadRequest.default_message,
    401: NotAuthenticated.default_message,
    403: N_("The request was refused: the security token is missing or invalid. Reload the page and try again."),
    404: NotFound.default_message,
    405: N_("This address does not accept this kind of request."),
    413: N_("The request body is larger than this server accepts."),
    415: UnsupportedMediaType.default_message,
    429: TooManyRequests.default_message,
}


class ErrorBody(msgspec.Struct, omit_defaults=True):
    """Every JSON error: its status, a sentence for the user, and for some errors what exactly was wrong."""

    status: int
    error: str
    details: list[dict[str, Any]] = []


# What any /api/ route may answer besides success: the body checks (400, 413, 415), the session and
# CSRF checks (401, 403), another role's route (404), a database out of reach (503).
_API_ERRORS = {
    400: "The request is malformed or breaks a rule; nothing was changed.",
    401: "Not signed in, or the device was revoked.",
    403: "The CSRF token is missing or wrong, or this is not allowed.",
    404: "No such thing, or not yours to see.",
    413: "The body or a batch is over a named limit.",
    415: "The body is not JSON.",
    426: "The client's sync schema is no longer supported.",
    429: "Too many attempts; wait Retry-After seconds.",
    503: "Try again later (Retry-After).",
}


def api_errors(*extra: int) -> dict[int, ResponseSpec]:
    """The error answers of an /api/ route for its OpenAPI description, with the statuses only it has."""
    statuses = sorted({400, 401, 403, 404, 413, 415, 503, *extra})
    return {status: ResponseSpec(data_container=ErrorBody, description=_API_ERRORS[status]) for status in statuses}


def locale_of(request: Request) -> str:
    """The locale the session middleware chose; unmatched paths never pass it, so choose here."""
    locale = request.scope.get("state", {}).get("locale")
    return locale or choose_locale(request.headers.get("accept-language"))


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/healthz"


def render_error(request: Request, status: int, message: str, variables: dict, details: list[dict[str, Any]]) -> Response:
    locale = locale_of(request)
    sentence = gettext(locale, message, **variables)
    headers = {"Cache-Control": "no-store", "Vary": "HX-Request"}
    if wants_json(request):
        body: dict[str, Any] = {"status": status, "error": sentence}
        if details:
            body["details"] = details
        return Response(body, status_code=status, media_type=MediaType.JSON, headers=headers)
    template = "errors/_fragment.html" if request.headers.get("hx-request") == "true" else "errors/page.html"
    return Template(template, context={"status": status, "message": sentence}, status_code=status, headers=headers)


def handle_lotsenbuch_error(request: Request, exc: LotsenbuchError) -> Response:
    response = render_error(request, exc.status_code, exc.message, exc.variables, exc.details)
    response.headers.update(exc.headers)
    return response


def handle_http_exception(request: Request, exc: HTTPException) -> Response:
    status = exc.status_code
    if isinstance(exc, ValidationException):
        details = _validation_details(exc.extra)
        first = details[0]["message"] if details else exc.detail
        return render_error(request, 400, N_("The request is not valid: %(reason)s"), {"reason": first}, details)
    message = _LITESTAR_MESSAGES.get(status, LotsenbuchError.default_message if status >= 500 else BadRequest.default_message)
    response = render_error(request, status, message, {}, [])
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


def handle_unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return render_error(request, 500, LotsenbuchError.default_message, {}, [])


def _validation_details(extra: Any) -> list[dict[str, Any]]:
    if not isinstance(extra, list):
        return []
    return [
        {key: item[key] for key in ("message", "key", "source") if key in item}
        for item in extra
        if isinstance(item, dict)
    ]


EXCEPTION_HANDLERS = {
    LotsenbuchError: handle_lotsenbuch_error,
    HTTPException: handle_http_exception,
    Exception: handle_unexpected,
}
