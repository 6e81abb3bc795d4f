"""What each alert says — a generic sentence in the recipient's language and a link, never a
name, a place, or anything about health or residence — and how urgent and long-lived it is."""

from __future__ import annotations

from server.i18n import N_

ALERTS = {  # kind: (sentence, urgency, seconds the push service keeps it)
    "offer": (N_("You have a new request to accompany someone."), "normal", 2 * 86400),
    "message": (N_("Your coordination sent you a message."), "normal", 3 * 86400),
    "event": (N_("Your coordination announced a new date."), "low", 7 * 86400),
    "returned": (N_("A visit log came back to you with a comment."), "normal", 3 * 86400),
    "conflict": (N_("An entry waits for your decision."), "normal", 3 * 86400),
}
