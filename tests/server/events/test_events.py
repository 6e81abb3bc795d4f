"""Events with answers and attendance; modules completed by training or as recorded; the certificate."""

from server.accounts.tables import User
from server.events import store
from server.events.tables import EventResponse, Module, ModuleCompletion
from server.organisations.tables import Organisation
from tests.conftest import csrf_headers, signed_in, visible_text

TRAINING = {"kind": "training", "title": "Grundlagen Sozialrecht", "day": "2026-03-10", "start": "18:00",
            "place": "Raum 3, Rathaus", "description": "Bürgergeld, Sozialhilfe, Wohngeld."}


async def _ids():
    organisation_id = (await Organisation.select(Organisation.id).first())["id"]
    users = {r["username"]: r["id"] for r in await User.select(User.username, User.id)}
    return organisation_id, users


async def test_every_organisation_starts_with_the_module_catalogue(app, demo):
    organisation_id, _ = await _ids()
    names = [m.name for m in await store.modules(organisation_id)]
    assert names == list(store.CATALOGUE)
    async with signed_in(app, "koordination") as office:
        page = visible_text((await office.get(f"/volunteers/{(await _ids())[1]['lotse1']}")).text)
    assert "Recht und Politik" in page and "Interkulturelle Kompetenz" in page


async def test_a_training_planned_answered_and_attended_completes_its_module(app, demo):
    organisation_id, users = await _ids()
    module = (await Module.select(Module.id).where(Module.name == "Social security").first())["id"]
    async with signed_in(app, "koordination") as office:
        headers = await csrf_headers(office)
        wrong = await office.post("/events", data={**TRAINING, "kind": "stammtisch", "module": str(module), "day": "2026-03-01"},
                                  headers=headers)
        assert wrong.status_code == 400
        assert "Nur eine Schulung" in visible_text(wrong.text) and "ab heute" in visible_text(wrong.text)
        made = await office.post("/events", data={**TRAINING, "module": str(module)}, headers=headers)
        assert made.status_code == 303
        event_path = made.headers["location"]
    event_id = event_path.rsplit("/", 1)[1]
    async with signed_in(app, "lotse1") as amina:
        listing = await amina.get("/events")
        assert "Grundlagen Sozialrecht" in listing.text and "10.03.26, 18:00" in visible_text(listing.text)
        answered = await amina.post(f"/events/{event_id}/answer", data={"answer": "yes"}, headers=await csrf_headers(amina))
        assert answered.status_code == 303
        assert 'aria-pressed="true">Ich komme' in (await amina.get("/events")).text
        bad = await amina.post(f"/events/{event_id}/answer", data={"answer": "vielleicht"}, headers=await csrf_headers(amina))
        assert bad.status_code == 400
    async with signed_in(app, "koordination") as office:
        headers = await csrf_headers(office)
        detail = await office.get(event_path)
        assert "Amina Haddad · Ich komme" in visible_text(detail.text)
        saved = await office.post(f"{event_path}/attendance", data={"present": [str(users["lotse1"])]}, headers=headers)
        assert "1 Modul abgeschlossen." in visible_text(saved.text)
        again = await office.post(f"{event_path}/attendance", data={"present": [str(users["lotse1"])]}, headers=headers)
        assert "0 Module abgeschlossen." in visible_text(again.text)
        stranger = await office.post(f"{event_path}/attendance", data={"present": [str(users["admin"])]}, headers=headers)
        assert stranger.status_code == 400
    attended = {r["volunteer"]: r["attended"] for r in await EventResponse.select()}
    assert attended == {users["lotse1"]: True, users["lotse2"]: False}
    completion = await ModuleCompletion.select().first()
    assert (completion["volunteer"], completion["module"], str(completion["completed_on"])) == (users["lotse1"], module, "2026-03-10")


async def test_the_certificate_comes_once_every_required_module_is_completed(app, demo):
    organisation_id, users = await _ids()
    catalogue = await store.modules(organisation_id)
    amina = users["lotse1"]
    async with signed_in(app, "koordination") as office:
        headers = await csrf_headers(office)
        future = await office.post(f"/volunteers/{amina}/modules", data={"module": str(catalogue[0].id), "completed_on": "2027-01-01"},
                                   headers=headers)
        assert future.status_code == 400
        for module in catalogue[:-1]:
            response = await office.post(f"/volunteers/{amina}/modules",
                                         data={"module": str(module.id), "completed_on": "2026-02-01"}, headers=headers)
            assert response.status_code == 303
        assert (await office.get(f"/volunteers/{amina}/certificate")).status_code == 404
        assert "/certificate" not in (await office.get(f"/volunteers/{amina}")).text
        await office.post(f"/volunteers/{amina}/modules", data={"module": str(catalogue[-1].id), "completed_on": "2026-02-20"},
                          headers=headers)
        certificate = await office.get(f"/volunteers/{amina}/certificate")
        assert certificate.status_code == 200
        text = visible_text(certificate.text)
        assert "Amina Haddad" in text and "Interkulturelle Kompetenz · 20.02.2026" in text
    async with signed_in(app, "lotse1") as phone:
        assert (await phone.get("/certificate")).status_code == 200
    async with signed_in(app, "lotse2") as jonas:
        assert (await jonas.get("/certificate")).status_code == 404


def test_the_certificate_needs_at_least_one_required_module():
    assert store.certificate_due([], {}) is False
    optional = store.ModuleRecord(id=__import__("uuid").uuid4(), name="x", required=False)
    assert store.certificate_due([optional], {}) is False


async def test_a_training_after_midnight_completes_its_module_on_that_berlin_day(app, demo, clock):
    organisation_id, users = await _ids()
    module = (await store.modules(organisation_id))[0]
    async with signed_in(app, "koordination") as office:
        made = await office.post("/events", data={**TRAINING, "start": "00:30", "module": str(module.id)},
                                 headers=await csrf_headers(office))
        await office.post(f"{made.headers['location']}/attendance", data={"present": [str(users["lotse1"])]},
                          headers=await csrf_headers(office))
    completion = await ModuleCompletion.select(ModuleCompletion.completed_on).first()
    assert str(completion["completed_on"]) == "2026-03-10"  # 23:30 UTC on the 9th
