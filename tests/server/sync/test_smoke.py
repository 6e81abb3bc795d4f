from tests.server.sync.conftest import new_id


async def test_a_note_goes_up_and_comes_back(phones):
    phone = await phones("lotse1")
    note = new_id()
    payload = await phone.sync(phone.mutation("note", note, {"body": "Termin bei der Ausländerbehörde"}))
    assert payload["results"][0]["status"] == "applied"
    assert phone.records[("note", note)]["body"] == "Termin bei der Ausländerbehörde"
    office = await phones("koordination")
    await office.pull_all()
    assert office.records[("note", note)]["body"] == "Termin bei der Ausländerbehörde"
