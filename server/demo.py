"""Demo data for `lotsenbuch up --demo`: one realistic organisation and its people.

Only ever run by --demo or `lotsenbuch demo`, and only into an empty database. Every feature adds
its own records here, so that the demo always shows the whole product.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from server import sync_store
from server.accounts.store import Language, create_user, update_user
from server.notes.tables import Note
from server.organisations import store as organisations
from sync.types import Actor, Mutation

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


async def seed(now: datetime, records: bool = True) -> list[tuple[str, str]]:
    """Create the demo organisation, its accounts and (unless `records` is false, as most tests
    want) their records; return (user name, role) of each login."""
    if await organisations.count():
        raise DemoRefused("The database already holds data; demo data is only added to an empty database.")
    organisation_id = await organisations.create_organisation(ORGANISATION, now)
    ids = {}
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
        ids[username] = user_id
    if records:
        await _records(organisation_id, ids, now)
    return [(username, role) for username, _, role, _ in PEOPLE]


async def _records(organisation_id, ids: dict, now: datetime) -> None:
    """Amina's visit logs and notes of the last weeks, Sabine's review, and one open conflict —
    written through the sync engine like every other write."""
    amina = Actor(user_id=ids["lotse1"], organisation_id=organisation_id, role="volunteer")
    sabine = Actor(user_id=ids["koordination"], organisation_id=organisation_id, role="coordinator")
    engine = Note._meta.db
    day = lambda n: (now - timedelta(days=n)).date().isoformat()  # noqa: E731
    logs = [uuid.uuid4() for _ in range(4)]
    notes = [uuid.uuid4() for _ in range(3)]

    def upsert(record_id, entity, fields, base=None):
        return Mutation(mutation_id=1, entity=entity, id=record_id, op="upsert", base_version=base, fields=fields)

    async def write(actor, *mutations):
        for mutation in mutations:
            await sync_store.apply_push(engine, actor, [mutation], now, uuid.uuid4)

    await write(
        amina,
        upsert(logs[0], "visit_log", {
            "date": day(12), "start_time": "09:00", "duration_minutes": 120, "place_type": "auslaenderbehoerde",
            "place_name": "Ausländerbehörde Musterstadt, Zimmer 214", "topics": ["aufenthalt", "termin"],
            "outcome": "Verlängerung der Aufenthaltserlaubnis beantragt. Fiktionsbescheinigung ausgestellt.",
            "follow_up_needed": True, "follow_up_text": "Biometrisches Passfoto nachreichen.",
            "follow_up_due": day(-5), "travel_km": 6.5, "expenses_cents": 580, "status": "submitted"}),
        upsert(logs[1], "visit_log", {
            "date": day(8), "start_time": "10:30", "duration_minutes": 90, "place_type": "jobcenter",
            "place_name": "Jobcenter Musterstadt Mitte", "topics": ["arbeit", "leistungen"],
            "outcome": "Weiterbewilligungsantrag abgegeben, Eingangsbestätigung erhalten.", "travel_km": 4.0,
            "status": "submitted"}),
        upsert(logs[2], "visit_log", {
            "date": day(3), "start_time": "08:15", "duration_minutes": 60, "place_type": "arztpraxis",
            "place_name": "Kinderarztpraxis am Markt", "topics": ["gesundheit"],
            "outcome": "U-Untersuchung gedolmetscht; nächster Termin in drei Monaten.", "status": "draft"}),
        upsert(logs[3], "visit_log", {
            "date": day(1), "start_time": "14:00", "duration_minutes": 45, "place_type": "kita_schule",
            "place_name": "Kita Sonnenblume", "topics": ["kita"], "outcome": "Anmeldung für die Kita ausgefüllt.",
            "travel_km": 2.5, "status": "submitted"}),
        upsert(notes[0], "note", {"body": "Familie wünscht Termine möglichst vormittags; der Vater arbeitet ab 14 Uhr."}),
        upsert(notes[1], "note", {"body": "Unterlagen für den Kita-Antrag: Geburtsurkunde, Impfnachweis, Meldebescheinigung."}),
        upsert(notes[2], "note", {"body": "Privat: Telefonnummer der Dolmetscherin bei mir gespeichert.", "shared": False}),
    )
    await write(
        sabine,
        upsert(logs[0], "visit_log", {"status": "approved"}, base=1),
        upsert(logs[1], "visit_log", {"status": "returned", "coordinator_comment": "Bitte die Fahrtkilometer prüfen."}, base=1),
        upsert(logs[3], "visit_log", {"duration_minutes": 60}, base=1),
    )
    # Amina, offline on the way home, corrected the same duration: both values are kept.
    phone = Actor(user_id=ids["lotse1"], organisation_id=organisation_id, role="volunteer", device_id=None)
    await write(phone, upsert(logs[3], "visit_log", {"duration_minutes": 50}, base=1))
