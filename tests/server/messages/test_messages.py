"""Coordination writes to all volunteers or a filtered group; each reads it in their inbox."""

from server.accounts.store import Language, update_user
from server.accounts.tables import User
from server.messages.tables import Message, MessageRecipient
from server.organisations.tables import Organisation
from tests.conftest import csrf_headers, signed_in, visible_text


async def test_a_message_to_arabic_speakers_reaches_only_them_and_is_read_in_the_inbox(app, demo):
    async with signed_in(app, "koordination") as office:
        headers = await csrf_headers(office)
        sent = await office.post("/messages", data={"language": "ar", "district": "", "subject": "Stammtisch am Freitag",
                                                     "body": "Wir treffen uns um 18 Uhr im Café Mitte."}, headers=headers)
        assert sent.status_code == 200
        assert "An 1 Lots*in gesendet." in visible_text(sent.text)
        assert "gelesen von 0 von 1" in visible_text(sent.text)
    async with signed_in(app, "lotse1") as amina:
        inbox = await amina.get("/inbox")
        assert "Stammtisch am Freitag" in inbox.text and "Café Mitte" in inbox.text and "Sabine Krüger" in inbox.text
        message_id = (await Message.select(Message.id).first())["id"]
        read = await amina.post(f"/inbox/{message_id}/read", headers=await csrf_headers(amina))
        assert read.status_code == 303
        assert 'action="/inbox/' not in (await amina.get("/inbox")).text
    async with signed_in(app, "lotse2") as jonas:  # speaks no Arabic
        assert "Stammtisch am Freitag" not in (await jonas.get("/inbox")).text
        refused = await jonas.post(f"/inbox/{message_id}/read", headers=await csrf_headers(jonas))
        assert refused.status_code == 404
    async with signed_in(app, "koordination") as office:
        assert "gelesen von 1 von 1" in visible_text((await office.get("/messages")).text)


async def test_district_filters_and_a_filter_that_reaches_nobody_sends_nothing(app, demo):
    organisation_id = (await Organisation.select(Organisation.id).first())["id"]
    jonas = (await User.select(User.id).where(User.username == "lotse2").first())["id"]
    await update_user(jonas, organisation_id, languages=[Language("ar", "basic")])
    async with signed_in(app, "koordination") as office:
        headers = await csrf_headers(office)
        nobody = await office.post("/messages", data={"language": "ti", "subject": "Tigrinya", "body": "Hallo"}, headers=headers)
        assert nobody.status_code == 400 and "nicht gesendet" in visible_text(nobody.text)
        assert "Hallo" in nobody.text  # what was typed is still there
        empty = await office.post("/messages", data={"subject": "", "body": ""}, headers=headers)
        assert empty.status_code == 400
        assert await Message.count() == 0
        south = await office.post("/messages", data={"district": "Südstadt", "subject": "Südstadt", "body": "Neue Räume"},
                                  headers=headers)
        assert "An 1 Lots*in gesendet." in visible_text(south.text)
        everyone = await office.post("/messages", data={"subject": "Alle", "body": "Schulung"}, headers=headers)
        assert "An 2 Lots*innen gesendet." in visible_text(everyone.text)
    assert await MessageRecipient.count().where(MessageRecipient.recipient == jonas) == 2
