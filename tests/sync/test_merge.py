"""Three-way text merge over words, and set merge."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.merge import merge_set, merge_text

BASE = "Frau A. braucht einen Termin beim Jobcenter. Unterlagen: Pass, Mietvertrag."


@pytest.mark.parametrize(
    ("server", "client", "expected"),
    [
        (BASE, "neu", "neu"),  # the server kept the base: fast-forward
        ("neu", BASE, "neu"),  # the client kept the base
        ("gleich", "gleich", "gleich"),
        (
            BASE.replace("Frau A.", "Frau B."),
            BASE.replace("Pass,", "Pass, Meldebescheinigung,"),
            "Frau B. braucht einen Termin beim Jobcenter. Unterlagen: Pass, Meldebescheinigung, Mietvertrag.",
        ),
        (BASE.replace("Jobcenter", "Sozialamt"), BASE.replace("Jobcenter", "Bürgeramt"), None),
    ],
)
def test_merge_text(server, client, expected):
    assert merge_text(BASE, server, client) == expected


@given(st.text(max_size=80), st.text(max_size=80))
def test_an_unchanged_side_never_conflicts(base, edited):
    assert merge_text(base, base, edited) == edited
    assert merge_text(base, edited, base) == edited


@given(st.lists(st.sampled_from("abcdef"), unique=True), st.lists(st.sampled_from("abcdef"), unique=True),
       st.lists(st.sampled_from("abcdef"), unique=True))
def test_set_merge_keeps_both_sides_additions_and_removals(base, server, client):
    merged = set(merge_set(base, server, client))
    assert set(client) - set(base) <= merged
    assert not (set(base) - set(client)) & merged
    assert (set(server) - set(base)) - (set(base) - set(client)) <= merged
