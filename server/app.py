"""create_app(settings) -> Litestar: wiring only."""

from __future__ import annotations

import asyncio
import gc
import logging
from litestar import Litestar, Router
from litestar.config.compression import CompressionConfig
from litestar.config.csrf import CSRFConfig
from litestar.di import Provide
from litestar.logging import LoggingConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.plugins.htmx import HTMXPlugin

from server import db, pokes, sql
from server.clock import Clock, system_clock
from server.access import access_rule, guard, public
from server.accounts.sessions import cookie_name, session_middleware
from server.accounts.views import InvitationController, ProfileController, SignInController
from server.assignments.views import AssignmentController
from server.clients.views import ClientController
from server.conflicts.views import ConflictController
from server.directory import views as directory_views
from server.errors import EXCEPTION_HANDLERS
from server.events.views import EventController, own_certificate
from server.home.views import healthz, start
from server.messages.views import InboxController, MessageController
from server.offline import views as offline_views
from server.offline.static import GZIP_FROM, static_file
from server.privacy import retention
from server.privacy import views as privacy_views
from server.push import views as push_views
from server.reports import views as report_views
from server.push.sender import Sender
from server.push.store import current_key
from server.organisations.views import AdminController
from server.requests.views import OfferController, PublicRequestController, RequestController
from server.sync_api import sync, sync_events
from server.visits.views import ReviewController
from server.volunteers.views import VolunteerController
from server.security import body_checks, security_headers
from server.settings import Settings
from server.templating import template_config

ROUTE_HANDLERS = [
    start, healthz, SignInController, InvitationController, ProfileController, VolunteerController, AdminController,
    sync, sync_events, ConflictController, ClientController, RequestController, PublicRequestController, OfferController,
    AssignmentController, ReviewController, MessageController, InboxController, EventController, own_certificate,
    *offline_views.ROUTES, *push_views.ROUTES, *report_views.ROUTES, *privacy_views.ROUTES, *directory_views.ROUTES, static_file,
]


def openapi_config() -> OpenAPIConfig:
    """The API description at /api/schema (tests/server/test_api_schema.py holds /api to it)."""
    return OpenAPIConfig(
        title="Lotsenbuch API", version="1", render_plugins=[JsonRenderPlugin()],
        openapi_router=Router(path="/api/schema", route_handlers=[], opt=public()),
    )


def create_app(settings: Settings, clock: Clock = system_clock) -> Litestar:
    settings = settings.with_secret()
    engine = db.configure(settings)

    async def check_database() -> None:
        await db.require_migrated()
        sql.keep_connections(engine)
        if isinstance(engine, db.KeptSQLiteEngine):
            engine.keep_connections()
        # A sync makes a few objects per row and frees them at its end; with Python's default
        # threshold (700 allocations) the collector ran dozens of times per request. Measured
        # in tests/benchmarks/bench_sync.py: push about 10 %, pull about 25 % faster.
        gc.set_threshold(50_000, 20, 50)
        if settings.uses_postgres:
            await engine.start_connection_pool(min_size=1, max_size=10, reset=sql.nothing_to_reset)
        await app.state.pokes.start(engine, settings.database_url or None)

        await current_key(clock())  # the first start of an installation makes its VAPID key
        if settings.push_sender:
            subject = settings.base_url if settings.base_url.startswith("https://") else "mailto:operator@localhost"
            push = Sender(engine, clock, subject=subject)
            app.state.push_task = asyncio.create_task(push.run())
        app.state.retention_task = asyncio.create_task(retention.run_forever(clock))

    async def close_database() -> None:
        for name in ("push_task", "retention_task"):
            task = getattr(app.state, name, None)
            if task is not None:
                task.cancel()
        await app.state.pokes.stop()
        await sql.close_idle(engine)
        if isinstance(engine, db.KeptSQLiteEngine):
            await engine.close_connections()
        if settings.uses_postgres:
            await engine.close_connection_pool()

    app = Litestar(
        route_handlers=ROUTE_HANDLERS,
        dependencies={
            "settings": Provide(lambda: settings, use_cache=True, sync_to_thread=False),
            "clock": Provide(lambda: clock, use_cache=True, sync_to_thread=False),
        },
        guards=[guard],
        middleware=[  # outermost first: the session sets the locale the body checks answer in
            session_middleware(settings, clock),
            lambda app: body_checks(app, max_body_bytes=settings.max_body_bytes),
        ],
        before_send=[security_headers(hsts=settings.base_url.startswith("https://"), session_cookie=cookie_name(settings))],
        csrf_config=CSRFConfig(
            secret=settings.secret_key or "",
            cookie_name="__Host-csrf" if settings.cookie_secure else "lotsenbuch-csrf",
            cookie_secure=settings.cookie_secure,
            cookie_httponly=True,
            cookie_samesite="lax",
            header_name="x-csrftoken",
        ),
        template_config=template_config(),
        # Pages go over slow phone networks gzipped, at level 4: on the start page 1 % larger
        # than level 6 in 20 % less time (docs/benchmarks.md). /static is gzipped once, at level 9
        # (server/offline/static.py); /api/sync is left to the reverse proxy, where compressing
        # costs the application's one core nothing.
        compression_config=CompressionConfig(backend="gzip", gzip_compress_level=4, minimum_size=GZIP_FROM,
                                             exclude=["^/api/sync", "^/static/"]),
        plugins=[HTMXPlugin()],
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        request_max_body_size=settings.max_body_bytes,
        openapi_config=openapi_config(),
        logging_config=LoggingConfig(
            root={"level": settings.log_level, "handlers": ["queue_listener"]}, log_exceptions="debug"
        ),
        on_startup=[check_database],
        on_shutdown=[close_database],
        debug=False,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.pokes = pokes.Hub()
    _require_access_rules(app)
    return app


def _require_access_rules(app: Litestar) -> None:
    """Refuse to start when any route names nobody who may reach it (server.access)."""
    missing = [
        f"{sorted(handler.http_methods)} {route.path}"
        for route in app.routes
        for handler in getattr(route, "route_handlers", [])
        if access_rule(handler) is None and handler.http_methods != {"OPTIONS"}
    ]
    if missing:
        raise RuntimeError(f"routes without an access rule: {', '.join(missing)}")


def create_app_from_env() -> Litestar:
    """Factory for `uvicorn --factory` and the CLI: settings read once from the environment."""
    settings = Settings.from_env()
    logging.getLogger("lotsenbuch").setLevel(settings.log_level)
    return create_app(settings)
