"""The ranking of volunteers for a request: a pure function, tested without a database."""

from datetime import date
from uuid import UUID

from server.requests.matching import Needs, Reason, Volunteer, rank, slot

MONDAY = date(2026, 3, 2)


def volunteer(n: int, name: str, languages=(("ar", "native"),), districts=("Nordstadt",), availability=("mon-am",)):
    return Volunteer(id=UUID(int=n), name=name, languages=tuple(languages), districts=tuple(districts),
                     availability=tuple(availability))


def kinds(candidate) -> set[str]:
    return {reason.kind for reason in candidate.reasons}


def test_slots_split_the_day_at_noon_and_five():
    assert slot(MONDAY, "09:30") == "mon-am"
    assert slot(MONDAY, "12:00") == "mon-pm"
    assert slot(MONDAY, "16:59") == "mon-pm"
    assert slot(date(2026, 3, 8), "17:00") == "sun-eve"
    assert slot(MONDAY, None) is None


def test_language_level_orders_speakers_and_every_reason_is_given():
    native = volunteer(1, "Nadia", [("ar", "native")])
    basic = volunteer(2, "Bernd", [("ar", "basic")])
    fluent = volunteer(3, "Fatma", [("ar", "fluent")])
    ranking = rank(Needs(language="ar", district="Nordstadt", day=MONDAY, time_from="09:00"), [basic, native, fluent], {}, {})
    assert [c.volunteer.name for c in ranking.candidates] == ["Nadia", "Fatma", "Bernd"]
    top = ranking.candidates[0]
    assert top.reasons[0] == Reason("language", "ar:native")
    assert kinds(top) == {"language", "district", "available", "load"}
    assert (ranking.speaking, ranking.speaking_here, ranking.bridging) == (3, 3, 0)


def test_district_availability_load_and_continuity_each_move_a_volunteer():
    base = dict(languages=[("uk", "fluent")])
    here = volunteer(1, "Anna", districts=["Südstadt"], availability=[], **base)
    free = volunteer(2, "Boris", districts=["Weststadt"], availability=["tue-pm"], **base)
    busy = volunteer(3, "Chris", districts=["Südstadt"], availability=["tue-pm"], **base)
    known = volunteer(4, "Dana", districts=["Weststadt"], availability=[], **base)
    needs = Needs(language="uk", district="Südstadt", day=date(2026, 3, 3), time_from="14:00", client_id=UUID(int=99))
    ranking = rank(needs, [here, free, busy, known], load={busy.id: 3}, continuity={known.id: 2})
    scores = {c.volunteer.name: c.score for c in ranking.candidates}
    assert scores["Anna"] == 30 + 15  # district
    assert scores["Boris"] == 30 + 15  # available on Tuesday afternoon
    assert scores["Chris"] == 30 + 15 + 15 - 15  # both, but three assignments this month
    assert scores["Dana"] == 30 + 20  # accompanied this client twice before
    dana = next(c for c in ranking.candidates if c.volunteer.name == "Dana")
    assert Reason("continuity", count=2) in dana.reasons
    assert Reason("other_district", "Weststadt") in dana.reasons
    assert Reason("unavailable", "tue-pm") in dana.reasons
    assert ranking.candidates[0].volunteer.name == "Dana"
    assert ranking.speaking_here == 2


def test_the_load_penalty_is_capped():
    heavy = volunteer(1, "Heavy")
    ranking = rank(Needs(language="ar"), [heavy], load={heavy.id: 40}, continuity={})
    assert ranking.candidates[0].score == 40 - 25


def test_nobody_speaks_the_language_then_bridges_come_first_and_are_counted():
    bridge = volunteer(1, "Zoe", languages=[("fr", "fluent")], districts=["Weststadt"])
    stranger = volunteer(2, "Adam", languages=[("de", "native")])
    ranking = rank(Needs(language="ti", client_languages=("ti", "fr"), district="Nordstadt"), [stranger, bridge], {}, {})
    assert (ranking.speaking, ranking.bridging) == (0, 1)
    assert [c.fit for c in ranking.candidates] == ["bridge", "none"]
    assert ranking.candidates[0].reasons[0] == Reason("bridge", "fr:fluent")
    assert ranking.candidates[1].reasons[0] == Reason("no_language", "ti")
    assert len(ranking.candidates) == 2  # never an empty dead end


def test_the_best_bridge_language_counts_and_speakers_rank_above_bridges():
    bridge = volunteer(1, "Ben", languages=[("fr", "basic"), ("en", "native")], districts=["Nordstadt"], availability=["mon-am"])
    speaker = volunteer(2, "Sara", languages=[("fa", "basic")], districts=[], availability=[])
    ranking = rank(Needs(language="fa", client_languages=("fa", "fr", "en"), district="Nordstadt", day=MONDAY,
                         time_from="10:00"), [bridge, speaker], {}, {})
    assert [c.volunteer.name for c in ranking.candidates] == ["Sara", "Ben"]
    assert ranking.candidates[1].reasons[0] == Reason("bridge", "en:native")
    assert ranking.candidates[1].score == 20 + 15 + 15


def test_without_a_day_or_district_those_reasons_are_left_out_and_ties_go_by_name():
    one, two = volunteer(1, "berta"), volunteer(2, "Anton")
    ranking = rank(Needs(language="ar", day=MONDAY), [one, two], {}, {})
    assert [c.volunteer.name for c in ranking.candidates] == ["Anton", "berta"]
    assert kinds(ranking.candidates[0]) == {"language", "load"}
