"""Demo data for `lotsenbuch up --demo`: one realistic organisation and its people.

Only ever run by --demo or `lotsenbuch demo`, and only into an empty database. Every feature adds
its own records here, so that the demo always shows the whole product.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from server.accounts.store import Language, create_user, update_user
from server.organisations import store as organisations

ORGANISATION = "Kommunales Integrationszentrum Musterstadt"
PASSWORD = "demo"

# (user name, display name, role, e-mail)
PEOPLE = [
    ("koordination", "Sabine Krüger", "coordinator", "koordination@ki-musterstadt.example"),
    ("lotse1", "Amina Haddad", "volunteer", None),
    ("lotse2", "Jonas Becker", "volunteer", None),
    ("admin", "Thomas Wendt", "admin", "it@ki-musterstadt.example"),
]
# What the volunteers bring: languages, districts, when they are usually free, and whether the
# pledge is on record (lotse2's is not yet, so the demo shows the gate).
PROFILES = {
    "lotse1": dict(
        languages=[Language("ar", "native"), Language("de", "fluent"), Language("fr", "basic")],
        districts=["Nordstadt", "Innenstadt"], availability=["mon-am", "tue-am", "thu-pm", "fri-am"], pledge_days_ago=40,
    ),
    "lotse2": dict(
        languages=[Language("de", "native"), Language("uk", "fluent"), Language("ru", "fluent")],
        districts=["Südstadt"], availability=["wed-pm", "wed-eve", "sat-am"], pledge_days_ago=None,
    ),
}


class DemoRefused(Exception):
    """The database already holds data; demo data is only ever seeded into an empty one."""


async def seed(now: datetime) -> list[tuple[str, str]]:
    """Create the demo organisation and accounts; return (user name, role) of each login."""
    if await organisations.count():
        raise DemoRefused("The database already holds data; demo data is only added to an empty database.")
    organisation_id = await organisations.create_organisation(ORGANISATION, now)
    for username, display_name, role, email in PEOPLE:
        user_id = await create_user(
            organisation_id=organisation_id, username=username, display_name=display_name,
            role=role, password=PASSWORD, email=email, now=now,
        )
        if username in PROFILES:
            profile = dict(PROFILES[username])
            days = profile.pop("pledge_days_ago")
            await update_user(
                user_id, organisation_id, **profile,
                pledge_signed_on=(now - timedelta(days=days)).date() if days is not None else None,
            )
    return [(username, role) for username, _, role, _ in PEOPLE]
