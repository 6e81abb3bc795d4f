"""Ranking volunteers for a request: a pure function over plain values, no I/O.

Each candidate comes with the reasons for its place — language and level, district,
availability at that day and time, load this month, continuity with the same client — so a
coordinator can see why, and decide otherwise. When nobody speaks the language, the ones who
come close (a bridge language the client also speaks, or the language but another district)
are counted and ranked rather than leaving an empty list.
"""

from __future__ import annotations

from datetime import date
from typing import Literal
from uuid import UUID

import msgspec

from server.accounts.forms import WEEKDAYS

LEVEL_POINTS = {"native": 40, "fluent": 30, "basic": 15}
BRIDGE_FACTOR = 0.5  # a shared second language helps, but less than the one asked for
DISTRICT_POINTS = 15
AVAILABLE_POINTS = 15
CONTINUITY_POINTS = 20
LOAD_PENALTY = 5  # per assignment this month
LOAD_PENALTY_CAP = 25

Fit = Literal["speaks", "bridge", "none"]
FIT_ORDER = {"speaks": 0, "bridge": 1, "none": 2}


class Needs(msgspec.Struct, frozen=True):
    language: str
    client_languages: tuple[str, ...] = ()  # the client's languages; all but `language` can bridge
    district: str = ""
    day: date | None = None
    time_from: str | None = None  # "HH:MM"
    client_id: UUID | None = None


class Volunteer(msgspec.Struct, frozen=True):
    id: UUID
    name: str
    languages: tuple[tuple[str, str], ...]  # (code, level)
    districts: tuple[str, ...] = ()
    availability: tuple[str, ...] = ()  # "mon-am", "wed-eve", ...


class Reason(msgspec.Struct, frozen=True):
    kind: str  # language | bridge | no_language | district | other_district | available | unavailable | load | continuity
    value: str = ""
    count: int = 0


class Candidate(msgspec.Struct, frozen=True):
    volunteer: Volunteer
    score: float
    fit: Fit
    same_district: bool
    reasons: tuple[Reason, ...]


class Ranking(msgspec.Struct, frozen=True):
    candidates: tuple[Candidate, ...]  # best first
    speaking: int  # speak the language
    speaking_here: int  # ... and live in the request's district
    bridging: int  # do not speak it, but another language of the client


def slot(day: date, time_from: str | None) -> str | None:
    """The availability slot a day and start time fall in: mon-am, mon-pm (from 12:00), mon-eve (from 17:00)."""
    if time_from is None:
        return None
    hour = int(time_from[:2])
    part = "am" if hour < 12 else "pm" if hour < 17 else "eve"
    return f"{WEEKDAYS[day.weekday()]}-{part}"


def rank(needs: Needs, volunteers: list[Volunteer], load: dict[UUID, int], continuity: dict[UUID, int]) -> Ranking:
    """Every volunteer ranked for these needs, best first: those who speak the language, then
    those with a bridge language, then the rest; within each by score, ties by name."""
    candidates = [_candidate(needs, v, load.get(v.id, 0), continuity.get(v.id, 0)) for v in volunteers]
    candidates.sort(key=lambda c: (FIT_ORDER[c.fit], -c.score, c.volunteer.name.casefold(), str(c.volunteer.id)))
    return Ranking(
        candidates=tuple(candidates),
        speaking=sum(c.fit == "speaks" for c in candidates),
        speaking_here=sum(c.fit == "speaks" and c.same_district for c in candidates),
        bridging=sum(c.fit == "bridge" for c in candidates),
    )


def _candidate(needs: Needs, volunteer: Volunteer, load: int, continuity: int) -> Candidate:
    reasons: list[Reason] = []
    levels = dict(volunteer.languages)
    score = 0.0
    fit: Fit = "none"
    if needs.language in levels:
        fit = "speaks"
        score += LEVEL_POINTS.get(levels[needs.language], 0)
        reasons.append(Reason("language", f"{needs.language}:{levels[needs.language]}"))
    else:
        bridges = [code for code in needs.client_languages if code != needs.language and code in levels]
        if bridges:
            fit = "bridge"
            best = max(bridges, key=lambda code: LEVEL_POINTS.get(levels[code], 0))
            score += LEVEL_POINTS.get(levels[best], 0) * BRIDGE_FACTOR
            reasons.append(Reason("bridge", f"{best}:{levels[best]}"))
        else:
            reasons.append(Reason("no_language", needs.language))
    same_district = bool(needs.district) and needs.district in volunteer.districts
    if same_district:
        score += DISTRICT_POINTS
        reasons.append(Reason("district", needs.district))
    elif needs.district:
        reasons.append(Reason("other_district", ", ".join(volunteer.districts)))
    if needs.day is not None:
        wanted = slot(needs.day, needs.time_from)
        if wanted is not None:
            if wanted in volunteer.availability:
                score += AVAILABLE_POINTS
                reasons.append(Reason("available", wanted))
            else:
                reasons.append(Reason("unavailable", wanted))
    if continuity:
        score += CONTINUITY_POINTS
        reasons.append(Reason("continuity", count=continuity))
    score -= min(load * LOAD_PENALTY, LOAD_PENALTY_CAP)
    reasons.append(Reason("load", count=load))
    return Candidate(volunteer=volunteer, score=score, fit=fit, same_district=same_district, reasons=tuple(reasons))
