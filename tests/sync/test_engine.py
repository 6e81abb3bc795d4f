"""The engine as input -> expected pairs: no database, no event loop, no server."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from sync.engine import Entry, Viewer, clamp, needed_bases, order_pull, plan_push
from sync.schema import ENTITIES, LimitExceeded, check_limits, may_read
from sync.types import Actor, Mutation, Record, Result

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
ORG, OTHER_ORG = uuid4(), uuid4()
AMINA = Actor(user_id=uuid4(), organisation_id=ORG, role="volunteer", device_id=uuid4())
JONAS = Actor(user_id=uuid4(), organisation_id=ORG, role="volunteer", device_id=uuid4())
SABINE = Actor(user_id=uuid4(), organisation_id=ORG, role="coordinator", device_id=None)
STRANGER = Actor(user_id=uuid4(), organisation_id=OTHER_ORG, role="coordinator", device_id=uuid4())


def ids():
    counter = itertools.count(1)
    return lambda: UUID(int=next(counter))


def mutation(number, entity="note", record_id=None, fields=None, base=None, op="upsert", **extra) -> Mutation:
    return Mutation(mutation_id=number, entity=entity, id=record_id or uuid4(), op=op, base_version=base,
                    fields=fields or {}, **extra)


def push(mutations, actor=AMINA, records=None, done=None, last=0, bases=None, open_conflicts=None):
    return plan_push(
        mutations, actor=actor, records=records or {}, done=done or {}, last_mutation_id=last, bases=bases or {},
        open_conflicts=open_conflicts or {}, now=NOW, new_id=ids(),
    )


def record(entity="note", owner=AMINA, version=1, fields=None, field_versions=None, deleted=False, organisation=ORG, **kw):
    from sync.schema import DEFAULTS

    values = {**DEFAULTS[entity], **(fields or {})}
    return Record(
        entity=entity, id=kw.get("id", uuid4()), organisation_id=organisation, owner_id=owner.user_id, version=version,
        fields=values, field_versions=field_versions or {name: 1 for name in values},
        field_authors={name: str(owner.user_id) for name in values}, deleted=deleted, seq=kw.get("seq", 0),
    )


def keyed(*records):
    return {(r.entity, r.id): r for r in records}


# --- creating, idempotency (R4, R5) ------------------------------------------------------------


def test_a_create_is_applied_with_defaults_for_unsent_fields():
    plan = push([mutation(1, "visit_log", fields={"date": "2026-03-02", "outcome": "Antrag abgegeben"})])
    [result] = plan.results
    assert (result.status, result.version) == ("applied", 1)
    [written] = plan.written.values()
    assert written.owner_id == AMINA.user_id and written.organisation_id == ORG
    assert written.fields["date"] == date(2026, 3, 2) and written.fields["status"] == "draft"
    assert plan.revisions[0].op == "create" and plan.revisions[0].fields["outcome"] == "Antrag abgegeben"


def test_a_mutation_already_applied_returns_its_stored_result_and_changes_nothing():
    stored = Result(mutation_id=7, id=uuid4(), status="applied", version=3)
    plan = push([mutation(7, fields={"body": "x"})], done={7: stored}, last=7)
    assert plan.results == [stored] and plan.written == {} and plan.revisions == []


def test_the_same_mutation_twice_in_one_batch_applies_once():
    note = uuid4()
    first = mutation(1, record_id=note, fields={"body": "Hallo"})
    plan = push([first, first])
    assert plan.results[0] == plan.results[1]
    assert len(plan.revisions) == 1


def test_a_lower_mutation_id_never_seen_is_rejected():
    plan = push([mutation(3, fields={"body": "spät"})], last=5)
    assert plan.results[0].status == "rejected" and "already used" in plan.results[0].reason


def test_a_create_for_an_existing_id_with_equal_content_is_a_no_op():
    existing = record(fields={"body": "gleich"})
    plan = push([mutation(1, record_id=existing.id, fields={"body": "gleich"})], records=keyed(existing))
    assert plan.results[0].status == "applied" and plan.results[0].version == 1 and plan.written == {}


def test_a_create_for_an_existing_id_with_other_content_edits_its_first_version():
    existing = record(fields={"body": "alt"})
    plan = push([mutation(1, record_id=existing.id, fields={"body": "neu"})], records=keyed(existing))
    assert plan.results[0].version == 2 and plan.written[("note", existing.id)].fields["body"] == "neu"


def test_an_edit_of_a_record_the_server_does_not_have_is_rejected():
    plan = push([mutation(1, fields={"body": "x"}, base=3)])
    assert plan.results[0].status == "rejected" and "no longer exists" in plan.results[0].reason


# --- per-field merge (R6) ------------------------------------------------------------------------


def test_a_field_unchanged_on_the_server_since_the_base_takes_the_client_value():
    existing = record("visit_log", version=3, fields={"place_name": "Jobcenter Mitte"},
                      field_versions={"place_name": 1, "travel_km": 3})
    plan = push([mutation(1, "visit_log", existing.id, {"place_name": "Jobcenter Nord"}, base=2)], records=keyed(existing))
    assert plan.results[0].status == "applied" and plan.results[0].version == 4
    assert plan.written[("visit_log", existing.id)].field_versions["place_name"] == 4


def test_equal_values_are_a_no_op_even_when_the_server_changed_them():
    existing = record("visit_log", version=3, fields={"duration_minutes": 90}, field_versions={"duration_minutes": 3})
    plan = push([mutation(1, "visit_log", existing.id, {"duration_minutes": 90}, base=1)], records=keyed(existing))
    assert plan.results[0] == Result(mutation_id=1, id=existing.id, status="applied", version=3)


def test_two_writers_on_one_field_keep_the_server_value_and_the_client_value_in_a_conflict():
    existing = record("visit_log", version=2, fields={"duration_minutes": 60}, field_versions={"duration_minutes": 2})
    existing.field_authors["duration_minutes"] = str(SABINE.user_id)
    plan = push([mutation(1, "visit_log", existing.id, {"duration_minutes": 75}, base=1)], records=keyed(existing))
    [result] = plan.results
    assert result.status == "conflict" and result.version == 2 and result.conflict_id is not None
    [conflict] = plan.conflicts
    assert (conflict.field, conflict.server_value, conflict.client_value) == ("duration_minutes", 60, 75)
    assert conflict.server_author == str(SABINE.user_id) and conflict.client_author == AMINA.user_id
    assert plan.written == {}


def test_different_fields_of_one_record_merge():
    existing = record("visit_log", version=2, fields={"travel_km": 4.5}, field_versions={"travel_km": 2})
    plan = push([mutation(1, "visit_log", existing.id, {"place_name": "Sozialamt"}, base=1)], records=keyed(existing))
    written = plan.written[("visit_log", existing.id)]
    assert plan.results[0].status == "applied"
    assert written.fields["travel_km"] == 4.5 and written.fields["place_name"] == "Sozialamt"


def test_concurrent_text_edits_merge_three_way():
    base = "Termin am Montag um 9 Uhr bei Frau Schulz."
    existing = record(version=2, fields={"body": "Termin am Dienstag um 9 Uhr bei Frau Schulz."}, field_versions={"body": 2})
    bases = {("note", existing.id, "body", 1): base}
    plan = push([mutation(1, "note", existing.id, {"body": "Termin am Montag um 10 Uhr bei Frau Schulz."}, base=1)],
                records=keyed(existing), bases=bases)
    assert plan.results[0].status == "merged"
    assert plan.written[("note", existing.id)].fields["body"] == "Termin am Dienstag um 10 Uhr bei Frau Schulz."


def test_overlapping_text_edits_conflict_and_no_markers_enter_the_text():
    existing = record(version=2, fields={"body": "Termin am Dienstag."}, field_versions={"body": 2})
    bases = {("note", existing.id, "body", 1): "Termin am Montag."}
    plan = push([mutation(1, "note", existing.id, {"body": "Termin am Mittwoch."}, base=1)], records=keyed(existing), bases=bases)
    assert plan.results[0].status == "conflict"
    assert plan.conflicts[0].client_value == "Termin am Mittwoch." and plan.written == {}


def test_a_text_whose_base_is_gone_conflicts_instead_of_guessing():
    existing = record(version=2, fields={"body": "neu"}, field_versions={"body": 2})
    plan = push([mutation(1, "note", existing.id, {"body": "anders"}, base=1)], records=keyed(existing))
    assert plan.results[0].status == "conflict"


def test_topic_sets_merge_what_each_side_added_and_removed():
    existing = record("visit_log", version=2, fields={"topics": ["aufenthalt", "wohnung"]}, field_versions={"topics": 2})
    bases = {("visit_log", existing.id, "topics", 1): ["aufenthalt"]}
    plan = push([mutation(1, "visit_log", existing.id, {"topics": ["arbeit"]}, base=1)], records=keyed(existing), bases=bases)
    assert plan.results[0].status == "merged"
    assert plan.written[("visit_log", existing.id)].fields["topics"] == ["arbeit", "wohnung"]


def test_a_set_merge_that_changes_nothing_writes_nothing():
    existing = record("visit_log", version=2, fields={"topics": ["arbeit"]}, field_versions={"topics": 2})
    bases = {("visit_log", existing.id, "topics", 1): ["arbeit", "schule"]}
    plan = push([mutation(1, "visit_log", existing.id, {"topics": ["arbeit", "schule", "wohnung"]}, base=1)],
                records=keyed(existing), bases=bases)
    assert plan.written[("visit_log", existing.id)].fields["topics"] == ["arbeit", "wohnung"]
    bases = {("visit_log", existing.id, "topics", 1): ["arbeit", "schule"]}
    plan = push([mutation(2, "visit_log", existing.id, {"topics": ["arbeit", "schule"]}, base=1)], records=keyed(existing),
                bases=bases)
    assert plan.results[0].status == "applied" and plan.written == {}


def test_needed_bases_are_text_and_set_fields_sent_against_a_base():
    note, log = uuid4(), uuid4()
    wanted = needed_bases([
        mutation(1, "note", note, {"body": "x", "shared": False}, base=2),
        mutation(2, "visit_log", log, {"topics": ["a"], "duration_minutes": 3}, base=1),
        mutation(3, "note", uuid4(), {"body": "new"}),
        mutation(4, "nothing", uuid4(), {"body": "x"}, base=1),
    ])
    assert wanted == {("note", note, "body", 2), ("visit_log", log, "topics", 1)}


# --- tombstones (R7) -------------------------------------------------------------------------------


def test_a_delete_is_a_tombstone_with_a_new_version():
    existing = record(version=4)
    plan = push([mutation(1, "note", existing.id, op="delete", base=2)], records=keyed(existing))
    assert plan.results[0].version == 5 and plan.written[("note", existing.id)].deleted
    assert plan.revisions[0].op == "delete"


def test_deleting_what_is_gone_succeeds():
    gone = record(version=2, deleted=True)
    plan = push([mutation(1, "note", uuid4(), op="delete"), mutation(2, "note", gone.id, op="delete")], records=keyed(gone))
    assert [r.status for r in plan.results] == ["applied", "applied"] and plan.written == {}
    assert [r.version for r in plan.results] == [None, 2]


def test_an_edit_that_meets_a_tombstone_is_kept_in_a_conflict_and_can_restore_it():
    gone = record(version=3, fields={"body": "alt"}, deleted=True)
    plan = push([mutation(1, "note", gone.id, {"body": "noch wichtig"}, base=2)], records=keyed(gone))
    assert plan.results[0].status == "conflict" and plan.written == {}
    conflict = plan.conflicts[0]
    assert conflict.field == "*" and conflict.client_value == {"body": "noch wichtig"}
    restore = push([mutation(2, "note", gone.id, {"body": "noch wichtig"}, base=3, resolves=[conflict.id])],
                   records=keyed(gone), open_conflicts={conflict.id: ("note", gone.id)})
    restored = restore.written[("note", gone.id)]
    assert not restored.deleted and restored.fields["body"] == "noch wichtig" and restore.revisions[0].op == "restore"
    assert restore.resolved == {conflict.id: AMINA.user_id}


def test_restoring_with_unchanged_fields_still_undeletes():
    gone = record(version=3, fields={"body": "alt"}, deleted=True)
    conflict_id = uuid4()
    plan = push([mutation(1, "note", gone.id, {}, base=3, resolves=[conflict_id])], records=keyed(gone),
                open_conflicts={conflict_id: ("note", gone.id)})
    assert plan.results[0].version == 4 and not plan.written[("note", gone.id)].deleted


def test_resolving_closes_only_conflicts_of_that_record():
    existing = record(version=2)
    mine, elsewhere = uuid4(), uuid4()
    plan = push([mutation(1, "note", existing.id, {"body": "geklärt"}, base=2, resolves=[mine, elsewhere, uuid4()])],
                records=keyed(existing), open_conflicts={mine: ("note", existing.id), elsewhere: ("note", uuid4())})
    assert plan.resolved == {mine: AMINA.user_id}


# --- authorisation (R8, R9) -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"owner_id": str(uuid4())}, "set by the server"),
        ({"organisation_id": str(uuid4())}, "set by the server"),
        ({"colour": "red"}, "unknown field"),
        ({"coordinator_comment": "gut"}, "for coordination"),
        ({"status": "approved"}, "for coordination"),
        ({"duration_minutes": -5}, "duration_minutes"),
        ({"date": "2026-02-30"}, "date"),
        ({"place_type": "zoo"}, "place_type"),
        ({"start_time": "25:00"}, "start_time"),
        ({"place_name": "A\x00B"}, "NUL"),
        ({"topics": ["ok", "bad\x00"]}, "NUL"),
        ({"help_kind": "astrology"}, "help_kind"),
        ({"help_kind": None}, "help_kind"),
        ({"help_reason": "x" * 1001}, "help_reason"),
        ({"directory_entry_id": "Rathaus"}, "directory_entry_id"),
    ],
)
def test_a_forbidden_or_invalid_field_rejects_the_mutation_and_not_the_next(fields, reason):
    plan = push([mutation(1, "visit_log", fields=fields), mutation(2, "note", fields={"body": "danach"})])
    first, second = plan.results
    assert first.status == "rejected" and reason in first.reason
    assert second.status == "applied"


def test_a_visit_needing_professional_help_carries_its_kind_and_reason_and_the_reasons_merge():
    plan = push([mutation(1, "visit_log", fields={"help_kind": "child_protection", "help_reason": "Kind wirkte verängstigt."})])
    written = next(iter(plan.written.values()))
    assert plan.results[0].status == "applied"
    assert written.fields["help_kind"] == "child_protection" and written.fields["directory_entry_id"] is None
    assert ENTITIES["visit_log"]["help_reason"].kind == "text"  # R6: free text merges word by word


def test_unknown_entities_are_rejected_for_upserts_and_deletes():
    plan = push([mutation(1, "client", fields={"alias": "x"}), mutation(2, "client", op="delete")])
    assert [r.status for r in plan.results] == ["rejected", "rejected"]


def test_only_volunteers_and_coordinators_sync():
    admin = Actor(user_id=uuid4(), organisation_id=ORG, role="admin")
    assert push([mutation(1, fields={"body": "x"})], actor=admin).results[0].status == "rejected"


def test_a_volunteer_cannot_change_or_delete_another_volunteers_record():
    others = record(owner=JONAS)
    plan = push([mutation(1, "note", others.id, {"body": "x"}, base=1), mutation(2, "note", others.id, op="delete")],
                records=keyed(others))
    assert [r.reason for r in plan.results] == ["not yours to change", "not yours to change"]


def test_a_coordinator_edits_and_reviews_a_volunteers_log():
    log = record("visit_log", owner=AMINA, fields={"status": "submitted"})
    plan = push([mutation(1, "visit_log", log.id, {"status": "returned", "coordinator_comment": "Bitte km ergänzen"}, base=1)],
                actor=SABINE, records=keyed(log))
    written = plan.written[("visit_log", log.id)]
    assert written.fields["status"] == "returned" and written.owner_id == AMINA.user_id
    assert plan.revisions[0].device is None


def test_another_tenants_id_is_refused_without_saying_whose():
    foreign = record(owner=STRANGER, organisation=OTHER_ORG)
    plan = push([mutation(1, "note", foreign.id, {"body": "x"}), mutation(2, "note", foreign.id, op="delete")],
                records=keyed(foreign))
    assert [r.reason for r in plan.results] == ["this id is already in use"] * 2


# --- clocks and limits (R10, R12) -------------------------------------------------------------------


def test_client_times_are_display_only_and_clamped():
    assert clamp(NOW + timedelta(days=365), NOW) == NOW + timedelta(minutes=5)
    assert clamp(NOW - timedelta(days=365), NOW) == NOW - timedelta(days=365)
    assert clamp(datetime(2026, 3, 2, 9, 0), NOW) is None  # naive: no zone, no meaning
    assert clamp(None, NOW) is None
    assert clamp(datetime(1970, 1, 1, tzinfo=UTC), NOW) is None  # a phone's clock reset
    assert clamp(datetime(1, 1, 1, tzinfo=UTC), NOW) is None


def test_a_client_clock_a_year_off_changes_no_outcome():
    existing = record("visit_log", version=2, fields={"duration_minutes": 60}, field_versions={"duration_minutes": 2})
    outcomes = []
    for skew in (timedelta(days=365), -timedelta(days=365), timedelta(0)):
        plan = push([mutation(1, "visit_log", existing.id, {"duration_minutes": 75, "place_name": "Amt"}, base=1,
                              client_time=NOW + skew)], records=keyed(existing))
        outcomes.append((plan.results[0].status, plan.conflicts[0].client_value, plan.written[("visit_log", existing.id)].fields))
    assert outcomes[0] == outcomes[1] == outcomes[2]


def test_limits():
    check_limits([mutation(i + 1, fields={"body": "x" * 20_000}) for i in range(500)])
    with pytest.raises(LimitExceeded) as too_many:
        check_limits([mutation(i + 1) for i in range(501)])
    assert too_many.value.limit == "mutations_per_push"
    with pytest.raises(LimitExceeded) as too_long:
        check_limits([mutation(1, fields={"body": "x" * 20_001})])
    assert (too_long.value.limit, too_long.value.value) == ("characters_per_text_field", 20_000)


# --- pull (R3, R14) ---------------------------------------------------------------------------------


VIEW_AMINA = Viewer(user_id=AMINA.user_id, organisation_id=ORG, role="volunteer")
VIEW_SABINE = Viewer(user_id=SABINE.user_id, organisation_id=ORG, role="coordinator")


def test_a_pull_returns_each_record_once_at_its_latest_change_in_seq_order():
    first, second = record(seq=3), record(seq=2)
    entries = [Entry(1, "note", first.id), Entry(2, "note", second.id), Entry(3, "note", first.id)]
    changes, last, more = order_pull(entries, keyed(first, second), {}, VIEW_AMINA, 10)
    assert [c.id for c in changes] == [second.id, first.id] and (last, more) == (3, False)


def test_a_full_page_stops_before_the_next_change():
    notes = [record(seq=n) for n in (1, 2, 3)]
    entries = [Entry(r.seq, "note", r.id) for r in notes]
    changes, last, more = order_pull(entries, keyed(*notes), {}, VIEW_AMINA, 2)
    assert len(changes) == 2 and (last, more) == (2, True)


def test_private_notes_reach_only_their_author_and_a_lost_one_comes_as_removed():
    private = record(fields={"shared": False}, seq=5)
    was_shared = record(fields={"shared": True})
    entries = [Entry(5, "note", private.id)]
    assert order_pull(entries, keyed(private), {}, VIEW_SABINE, 10)[0] == []
    changes = order_pull(entries, keyed(private), {("note", private.id): [was_shared]}, VIEW_SABINE, 10)[0]
    assert [(c.op, c.fields) for c in changes] == [("removed", {})]
    assert order_pull(entries, keyed(private), {}, VIEW_AMINA, 10)[0][0].op == "upsert"


def test_a_purged_record_is_removed_from_those_who_saw_it():
    gone = uuid4()
    before = record(id=gone)
    changes = order_pull([Entry(4, "note", gone)], {}, {("note", gone): [before]}, VIEW_AMINA, 10)[0]
    assert [(c.op, c.version) for c in changes] == [("removed", 0)]


def test_tombstones_come_as_deletes():
    gone = record(deleted=True, version=3, seq=8)
    [change] = order_pull([Entry(8, "note", gone.id)], keyed(gone), {}, VIEW_AMINA, 10)[0]
    assert (change.op, change.version, change.fields) == ("delete", 3, {})


def test_an_older_entry_of_a_record_changed_again_is_skipped():
    note = record(seq=9)
    changes, last, _ = order_pull([Entry(4, "note", note.id)], keyed(note), {}, VIEW_AMINA, 10)
    assert changes == [] and last == 4
    assert order_pull([], {}, {}, VIEW_AMINA, 10) == ([], None, False)


def test_who_reads_what():
    theirs = record(owner=JONAS)
    assert not may_read(AMINA.user_id, "volunteer", ORG, theirs)
    assert may_read(SABINE.user_id, "coordinator", ORG, theirs)
    assert not may_read(STRANGER.user_id, "coordinator", OTHER_ORG, theirs)
    conflict = record(owner=JONAS, fields={}, entity="note")
    conflict = Record(entity="conflict", id=uuid4(), organisation_id=ORG, owner_id=JONAS.user_id, version=1,
                      fields={"record_owner_id": str(AMINA.user_id)}, field_versions={}, field_authors={})
    assert may_read(AMINA.user_id, "volunteer", ORG, conflict)
    assert may_read(JONAS.user_id, "volunteer", ORG, conflict)
    assert may_read(SABINE.user_id, "coordinator", ORG, conflict)
    assert not may_read(uuid4(), "volunteer", ORG, conflict)


def test_read_only_copies_go_to_their_volunteer_and_events_to_everyone():
    def copy(entity, owner):
        return Record(entity=entity, id=uuid4(), organisation_id=ORG, owner_id=owner.user_id, version=5, fields={},
                      field_versions={}, field_authors={})

    offer = copy("offer", AMINA)
    assert may_read(AMINA.user_id, "volunteer", ORG, offer)
    assert not may_read(JONAS.user_id, "volunteer", ORG, offer)
    assert not may_read(SABINE.user_id, "coordinator", ORG, copy("assignment", AMINA))
    event = copy("event", SABINE)
    assert may_read(JONAS.user_id, "volunteer", ORG, event) and may_read(AMINA.user_id, "volunteer", ORG, event)
    assert not may_read(STRANGER.user_id, "volunteer", OTHER_ORG, event)


def test_a_devices_newer_edit_supersedes_its_own_older_one_despite_a_stale_base():
    """The response to the first edit was lost, so the second still names base 1."""
    existing = record("visit_log", version=1, fields={"duration_minutes": 30})
    first = push([mutation(1, "visit_log", existing.id, {"duration_minutes": 45}, base=1)], records=keyed(existing))
    after_first = first.written[("visit_log", existing.id)]
    second = push([mutation(2, "visit_log", existing.id, {"duration_minutes": 50}, base=1)], records=keyed(after_first), last=1)
    assert second.results[0].status == "applied" and second.conflicts == []
    other_device = Actor(user_id=AMINA.user_id, organisation_id=ORG, role="volunteer", device_id=uuid4())
    third = push([mutation(1, "visit_log", existing.id, {"duration_minutes": 55}, base=1)], actor=other_device,
                 records=keyed(after_first))
    assert third.results[0].status == "conflict"  # the same person on another phone: both values kept


def test_leaving_a_record_deleted_closes_the_conflict_of_an_edit_that_met_the_delete():
    gone = record(version=3, deleted=True)
    conflict_id = uuid4()
    plan = push([mutation(1, "note", gone.id, op="delete", resolves=[conflict_id, conflict_id])], records=keyed(gone),
                open_conflicts={conflict_id: ("note", gone.id)})
    assert plan.results[0].status == "applied" and plan.written == {}
    assert plan.resolved == {conflict_id: AMINA.user_id}


def test_mutation_ids_must_grow_within_a_batch_too():
    plan = push([mutation(5, fields={"body": "a"}), mutation(3, fields={"body": "b"})])
    assert [r.status for r in plan.results] == ["applied", "rejected"]
    assert [r.mutation_id for r in plan.fresh] == [5, 3]
