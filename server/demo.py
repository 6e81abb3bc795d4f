"""Demo data for `lotsenbuch up --demo`: one realistic organisation and its people.

Only ever run by --demo or `lotsenbuch demo`, and only into an empty database. Every feature adds
its own records here, so that the demo always shows the whole product.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from server import sync_store
from server.accounts.store import Language, create_user, update_user
from server.clients.store import create_client
from server.directory import store as directory
from server.events import store as events
from server.messages import store as messages
from server.notes.tables import Note
from server.organisations import store as organisations
from server.requests import store as requests
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
        await _wegweiser(organisation_id, ids, now)
        await _records(organisation_id, ids, now)
        await _coordination(organisation_id, ids, now)
        await _events_and_messages(organisation_id, ids, now)
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
            "status": "submitted", "help_kind": "legal",
            "help_reason": "Mietschulden und eine Mahnung vom Inkassobüro; braucht Schuldner- und Rechtsberatung."}),
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


async def _coordination(organisation_id, ids: dict, now: datetime) -> None:
    """Three clients and the requests of a normal week: one just in from the public form, one
    being matched, one offered to Amina and waiting for her answer, one she accepted for tomorrow."""
    fatima = await create_client(organisation_id, now, alias="Fatima", languages=["ar", "fr"], district="Nordstadt",
                                 needs="Termine bei Behörden und in der Kita; spricht etwas Französisch.",
                                 consent_on=(now - timedelta(days=30)).date())
    oleksandr = await create_client(organisation_id, now, alias="Oleksandr", languages=["uk", "ru"], district="Südstadt",
                                    needs="Arbeitssuche, Anerkennung des Berufsabschlusses.",
                                    consent_on=(now - timedelta(days=14)).date())
    tesfay = await create_client(organisation_id, now, alias="Tesfay", languages=["ti", "en"], district="Innenstadt",
                                 needs="Arzttermine für die Familie.", consent_on=(now - timedelta(days=7)).date())
    day = lambda n: (now + timedelta(days=n)).date()  # noqa: E731
    await requests.create_request(
        organisation_id, now, source="public", status="new", requester="Grundschule am Park, Frau Yilmaz",
        contact="0521 123456", language="ar", purpose="kita_schule", day=day(6), time_from="14:00", time_to="15:00",
        place="Grundschule am Park", description="Elterngespräch zur Einschulung, Mutter spricht Arabisch.")
    await requests.create_request(
        organisation_id, now, source="coordinator", status="matching", client=oleksandr, language="uk", purpose="arbeit",
        day=day(3), time_from="10:00", place="Jobcenter Musterstadt Mitte", description="Erstgespräch Arbeitsvermittlung.")
    offered = await requests.create_request(
        organisation_id, now, source="coordinator", status="matching", client=tesfay, language="ti", purpose="arzt",
        day=day(4), time_from="08:30", place="Kinderarztpraxis am Markt", description="Vorsorgeuntersuchung der Tochter.")
    await requests.make_offers(offered, organisation_id, [ids["lotse1"]], now)
    accepted = await requests.create_request(
        organisation_id, now, source="coordinator", status="matching", client=fatima, language="ar", purpose="behoerde",
        day=day(1), time_from="09:00", place="Ausländerbehörde Musterstadt, Zimmer 214",
        description="Abholung des elektronischen Aufenthaltstitels.")
    await requests.make_offers(accepted, organisation_id, [ids["lotse1"]], now)
    [offer] = await requests.offers_of_request(accepted.id, organisation_id)
    await requests.answer_offer(offer.id, ids["lotse1"], organisation_id, True, now)


async def _events_and_messages(organisation_id, ids: dict, now: datetime) -> None:
    """A Stammtisch Amina said yes to, a training that completes a module, Amina's modules so
    far, and a message to the Arabic speakers."""
    catalogue = await events.modules(organisation_id)
    for module in catalogue[:5]:
        await events.complete(module.id, ids["lotse1"], (now - timedelta(days=60)).date())
    evening = (now + timedelta(days=4)).replace(hour=17, minute=30, second=0, microsecond=0)
    stammtisch = await events.create_event(
        organisation_id, now, kind="stammtisch", title="Stammtisch der Lots*innen", starts_at=evening,
        place="Café Mitte, Marktplatz 2", description="Erfahrungen austauschen, neue Lots*innen kennenlernen.")
    await events.answer(stammtisch, ids["lotse1"], "yes", now)
    await events.create_event(
        organisation_id, now, kind="training", title="Grundlagen der sozialen Sicherung", starts_at=evening + timedelta(days=7),
        place="Rathaus, Raum 3", description="Bürgergeld, Wohngeld, Kinderzuschlag: wer hilft wo?", module=catalogue[5].id)
    await messages.send(organisation_id, ids["koordination"], "Neue Sprechzeiten im Integrationszentrum",
                        "Ab Montag sind wir dienstags und donnerstags bis 18 Uhr erreichbar.", messages.Audience(), now)


# The Wegweiser of Musterstadt (a fictional town of about 80,000; the numbers are fictional too:
# no German area code begins with 0123). (name, category, address, phone, opening hours,
# languages, kinds of professional help, what to bring, notes for volunteers, shared)
DIRECTORY = [
    ("Ausländerbehörde Musterstadt", "auslaenderbehoerde", "Rathausplatz 1, Haus B, 2. OG, 31234 Musterstadt",
     "0123 4567-214", "Mo, Di, Do 8–12 Uhr\nDo 14–17 Uhr (nur mit Termin)", ["de", "en"], [],
     "Reisepass, aktueller Aufenthaltstitel oder Fiktionsbescheinigung, biometrisches Passfoto, Terminbestätigung",
     "Termine nur über das Online-Terminportal. Wartemarke am Automaten im Erdgeschoss ziehen; Zimmer 214 ist barrierefrei "
     "über den Aufzug im Hof erreichbar.", False),
    ("Jobcenter Musterstadt Mitte", "jobcenter", "Bahnhofstraße 23, 31234 Musterstadt", "0123 4567-300",
     "Mo–Fr 8–12 Uhr\nDo 14–18 Uhr", ["de", "en", "tr"], [],
     "Personalausweis oder Pass, Bescheide, Kontoauszüge der letzten 3 Monate, Mietvertrag",
     "Unterlagen vorher kopieren: am Empfang gibt es keinen Kopierer. Eingangsbestätigung für jede Abgabe verlangen.", False),
    ("Fachdienst Soziales (Sozialamt)", "sozialamt", "Rathausplatz 1, Haus A, 31234 Musterstadt", "0123 4567-250",
     "Mo, Mi, Fr 8–12 Uhr", ["de"], [], "Pass, Bescheide anderer Stellen, Nachweise über Einkommen und Miete",
     "Zuständig für Leistungen nach dem Asylbewerberleistungsgesetz und Grundsicherung im Alter.", False),
    ("Wohngeldstelle", "wohnungsamt", "Lindenallee 8, 31234 Musterstadt", "0123 4567-270", "Di und Do 8–12 Uhr",
     ["de"], [], "Mietvertrag, Mietbescheinigung des Vermieters, Einkommensnachweise aller Haushaltsmitglieder",
     "Der Antrag kann vorab online gestellt werden; die Vermieterbescheinigung ist das Formular, das am häufigsten fehlt.", False),
    ("Migrationsberatung für Erwachsene (Caritas)", "beratungsstelle", "Kirchgasse 5, 31234 Musterstadt", "0123 4589-10",
     "Mo–Do 9–12 Uhr, Di 14–17 Uhr offene Sprechstunde", ["ar", "de", "fa", "fr"], ["legal"],
     "Alle Briefe der Behörden, Aufenthaltstitel",
     "Berät zu Aufenthalt, Familiennachzug, Sprachkursen und Anerkennung; Dari und Farsi dienstags.", True),
    ("Asylverfahrensberatung Flüchtlingshilfe Musterstadt e. V.", "beratungsstelle", "Am Stadtgraben 12, 31234 Musterstadt",
     "0123 4589-40", "Mo und Mi 10–13 Uhr, sonst nach Vereinbarung", ["ar", "de", "en", "ti"], ["legal"],
     "Bescheid des BAMF mit Briefumschlag (Zustelldatum!), Anhörungsprotokoll",
     "Bei einem ablehnenden Bescheid sofort anrufen: die Klagefrist beträgt oft nur eine oder zwei Wochen.", True),
    ("Schuldner- und Insolvenzberatung der Diakonie", "beratungsstelle", "Marktstraße 17, 31234 Musterstadt",
     "0123 4589-70", "Mo–Do 9–12 Uhr, Termine nach telefonischer Absprache", ["de", "en"], ["legal"],
     "Alle Mahnungen und Inkassoschreiben, Kontoauszüge, Einkommensnachweise",
     "Bei Kontopfändung: Umwandlung in ein P-Konto bei der Bank sofort beantragen; die Beratung hilft mit der Bescheinigung.",
     False),
    ("Sozialpsychiatrischer Dienst und Krisendienst", "beratungsstelle", "Gesundheitsamt, Lindenallee 2, 31234 Musterstadt",
     "0123 4567-600", "Mo–Fr 8–16 Uhr; nachts und am Wochenende Krisentelefon 0123 4567-699", ["de", "en"],
     ["crisis", "health"], "", "Bei akuter Gefahr für Leib und Leben immer 112 anrufen.", True),
    ("Jugendamt – Allgemeiner Sozialer Dienst", "beratungsstelle", "Rathausplatz 1, Haus C, 31234 Musterstadt",
     "0123 4567-500", "Mo–Fr 8–12 Uhr; Kinderschutz-Bereitschaft rund um die Uhr über 0123 4567-599", ["de"],
     ["child_protection"], "",
     "Bei Sorge um das Wohl eines Kindes: nicht selbst ermitteln, sondern die Koordination informieren und den ASD anrufen.",
     False),
    ("Kinderarztpraxis am Markt", "arztpraxis", "Markt 3, 31234 Musterstadt", "0123 4578-30",
     "Mo–Fr 8–12 Uhr, Mo, Di, Do 15–18 Uhr", ["ar", "de", "en"], ["health"],
     "Gesundheitskarte oder Behandlungsschein, gelbes Untersuchungsheft, Impfpass",
     "Dr. Nassar spricht Arabisch. Akutsprechstunde ohne Termin morgens ab 8 Uhr.", False),
    ("Hausarztpraxis Dr. Yıldız", "arztpraxis", "Nordring 44, 31234 Musterstadt", "0123 4578-55",
     "Mo–Fr 7:30–12 Uhr, Di und Do 15–18 Uhr", ["de", "ku", "tr"], ["health"],
     "Gesundheitskarte oder Behandlungsschein, Medikamentenliste", "Nimmt neue Patientinnen und Patienten auf.", False),
    ("Klinikum Musterstadt, Zentrale Notaufnahme", "krankenhaus", "Klinikstraße 1, 31234 Musterstadt", "0123 4570",
     "rund um die Uhr", ["de", "en"], ["health"], "Gesundheitskarte, Medikamentenliste, Arztbriefe",
     "Dolmetschen per Video ist möglich; an der Anmeldung danach fragen.", True),
    ("Kita Sonnenblume", "kita_schule", "Blumenweg 7, 31234 Musterstadt", "0123 4591-20", "Mo–Fr 7–16:30 Uhr",
     ["de", "uk"], [], "Geburtsurkunde, Impfnachweis (Masern!), Meldebescheinigung",
     "Anmeldung über das Kita-Portal der Stadt; die Leitung hilft beim Ausfüllen donnerstags ab 14 Uhr.", False),
    ("Grundschule am Park", "kita_schule", "Parkstraße 10, 31234 Musterstadt", "0123 4591-50", "Sekretariat Mo–Fr 7:30–12 Uhr",
     ["de", "tr"], [], "Geburtsurkunde, Meldebescheinigung, Impfnachweis, letzte Zeugnisse",
     "Sprachlernklasse ab Klasse 2; Frau Yilmaz koordiniert die Elterngespräche.", False),
]
HOWTOS = [
    ("Termin bei der Ausländerbehörde",
     "1. Termin online im Terminportal der Stadt buchen (Anliegen genau wählen).\n"
     "2. Einen Tag vorher die Unterlagen mit der Klientin durchgehen.\n"
     "3. 15 Minuten vorher da sein und am Automaten eine Wartemarke ziehen.\n"
     "4. Nach dem Termin: Fiktionsbescheinigung oder Abholtermin notieren.",
     ["Reisepass", "Aktueller Aufenthaltstitel oder Fiktionsbescheinigung", "Biometrisches Passfoto (nicht älter als 6 Monate)",
      "Meldebescheinigung", "Terminbestätigung"],
     ["Ausländerbehörde Musterstadt", "Migrationsberatung für Erwachsene (Caritas)"], ["auslaenderbehoerde"], ["residence", "appointment"]),
    ("Bürgergeld-Antrag",
     "1. Antrag formlos stellen (Anruf oder Brief genügt, das Datum zählt).\n"
     "2. Hauptantrag und Anlagen beim Jobcenter abholen oder online ausfüllen.\n"
     "3. Alles kopieren, dann abgeben und eine Eingangsbestätigung verlangen.\n"
     "4. Fristen aus Nachforderungen in den Kalender eintragen.",
     ["Personalausweis oder Pass mit Aufenthaltstitel", "Mietvertrag und letzte Nebenkostenabrechnung",
      "Kontoauszüge der letzten 3 Monate", "Einkommensnachweise", "Krankenversicherungsnachweis"],
     ["Jobcenter Musterstadt Mitte", "Schuldner- und Insolvenzberatung der Diakonie"], ["jobcenter"], ["benefits", "documents"]),
    ("Anmeldung in der Kita",
     "1. Im Kita-Portal der Stadt registrieren und bis zu drei Wunsch-Kitas wählen.\n"
     "2. Bei der Wunsch-Kita einen Besuchstermin ausmachen.\n"
     "3. Den Rechtsanspruch ab dem ersten Geburtstag ansprechen; Absagen schriftlich geben lassen.",
     ["Geburtsurkunde des Kindes", "Nachweis über die Masernimpfung", "Meldebescheinigung", "Bescheid über Bürgergeld (für die Gebührenbefreiung)"],
     ["Kita Sonnenblume"], ["kita_schule"], ["school"]),
]


async def _wegweiser(organisation_id, ids: dict, now: datetime) -> None:
    """The town's directory (some entries shared with the installation), three how-tos, and a
    correction Amina suggested."""
    checked = (now - timedelta(days=21)).date()
    entries = {}
    for name, category, address, phone, hours, languages, help_kinds, bring, notes, shared in DIRECTORY:
        entries[name] = await directory.create_entry(organisation_id, now, {
            "name": name, "category": category, "address": address, "phone": phone, "opening_hours": hours,
            "languages": languages, "help_kinds": help_kinds, "bring": bring, "notes": notes, "last_checked": checked,
            "shared": shared})
    for title, body, checklist, linked, place_types, topics in HOWTOS:
        await directory.create_howto(organisation_id, now, {
            "title": title, "body": body, "checklist": checklist, "entries": [str(entries[name]) for name in linked],
            "place_types": place_types, "topics": topics})
    kita = await directory.get_entry(entries["Kita Sonnenblume"], organisation_id)
    await directory.suggest(kita, ids["lotse1"], "Die Kita-Leitung hilft jetzt mittwochs statt donnerstags beim Portal.", now)
