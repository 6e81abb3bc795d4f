"""What each alert says — a generic sentence in the recipient's language and a link, never a
name, a place, or anything about health or residence — how urgent and long-lived it is, and
what it is called where a user chooses which alerts they want."""

from __future__ import annotations

from server.i18n import N_

ALERTS = {  # kind: (sentence, urgency, seconds the push service keeps it)
    "offer": (N_("You have a new request to accompany someone."), "normal", 2 * 86400),
    "offer_reminder": (N_("A request still waits for your answer."), "normal", 86400),
    "assignment_tomorrow": (N_("Tomorrow you accompany someone. The details are in the app."), "normal", 12 * 3600),
    "assignment_soon": (N_("An accompaniment starts in two hours."), "high", 2 * 3600),
    "message": (N_("Your coordination sent you a message."), "normal", 3 * 86400),
    "event": (N_("Your coordination announced a new date."), "low", 7 * 86400),
    "event_reminder": (N_("A date of your coordination is coming up."), "normal", 86400),
    "returned": (N_("A visit log came back to you with a comment."), "normal", 3 * 86400),
    "conflict": (N_("An entry waits for your decision."), "normal", 3 * 86400),
    "help_needed": (N_("A volunteer reports a visit that needs professional help."), "high", 2 * 86400),
}
CHOICES = {  # kind: what the profile page calls it
    "offer": N_("new offers"), "offer_reminder": N_("offers still waiting for my answer"),
    "assignment_tomorrow": N_("the evening before an assignment"), "assignment_soon": N_("two hours before an assignment"),
    "message": N_("messages from coordination"), "event": N_("new dates"), "event_reminder": N_("the day before a date"),
    "returned": N_("visit logs returned with a comment"), "conflict": N_("entries waiting for my decision"),
    "help_needed": N_("visits that need professional help"),
}
URGENT = "high"  # sent in quiet hours too
