"""The sentences the phone's modules show, translated on the server and handed to the page.

The modules never hold text of their own: every string a volunteer reads passes gettext here
or in a template.
"""

from __future__ import annotations

from functools import cache

from babel import Locale
from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup

from server.accounts.forms import LANGUAGE_CODES
from server.i18n import N_, translations
from server.requests import labels

MESSAGES = {
    "saved": N_("Saved on this phone. It is sent as soon as the phone is online."),
    "all_synced": N_("Everything is on the server."),
    "last_sync": N_("Last synced: %(when)s"),
    "never_synced": N_("Not synced yet."),
    "syncing": N_("Syncing…"),
    "sync_done": N_("Synced."),
    "offline": N_("The phone is offline. Your entries wait here and are sent as soon as it is online."),
    "failed": N_("Sync did not work: %(reason)s. It is tried again by itself."),
    "signed_out": N_("Your session has ended. Please sign in again; your entries stay on this phone."),
    "no_device": N_("To work offline, sign in once more and tick “This is my own phone”."),
    "forbidden": N_("The server refused the sync: %(reason)s"),
    "upgrade": N_("A new version of the app is being loaded…"),
    "wiped": N_("This device was signed out. Everything Lotsenbuch kept on it has been erased."),
    "purged": N_("This phone had not reached the server for 30 days, so everything Lotsenbuch kept on it has been erased. Please sign in again."),
    "pending": N_("waiting on this phone"),
    "synced": N_("on the server"),
    "rejected": N_("refused: %(reason)s"),
    "in_conflict": N_("in conflict"),
    "untitled_note": N_("Note"),
    "visit_log": N_("Visit log"),
    "note": N_("Note"),
    "logout_confirm": N_("These entries have not reached the server yet and would be lost: %(list)s. Sign out anyway?"),
    "signed_out_offline": N_("You are signed out. Everything Lotsenbuch kept on this phone has been erased."),
    "not_found": N_("This entry is not on this phone."),
    "conflict_deleted": N_("The record was deleted on the server while you changed it."),
    "empty": N_("(empty)"),
    "yes": N_("yes"),
    "no": N_("no"),
    "push_on": N_("Alerts are on for this device."),
    "push_off": N_("Alerts are off for this device."),
    "push_denied": N_("This browser blocks alerts for Lotsenbuch; allow them in its settings."),
    "push_failed": N_("Alerts could not be turned on: %(reason)s"),
    "install_ios": N_("On an iPhone: tap the share button in Safari, then “Add to Home Screen”."),
}
PLURALS = {  # key: the text for a count, from a catalogue (written out so that extraction finds it)
    "waiting": lambda catalogue, n: catalogue.ngettext(
        "%(num)d entry waits on this phone.", "%(num)d entries wait on this phone.", n,
    ),
}
_PLURAL_SAMPLES = range(0, 200)  # every CLDR plural category of our locales occurs below 200
FIELD_NAMES = {
    "body": N_("Text"), "shared": N_("Shared with coordination"), "outcome": N_("Outcome"), "date": N_("Date"),
    "start_time": N_("Start"), "duration_minutes": N_("Duration in minutes"), "place_type": N_("Type of place"),
    "place_name": N_("Place"), "topics": N_("Topics"), "follow_up_needed": N_("Follow-up needed"),
    "follow_up_text": N_("Follow-up"), "follow_up_due": N_("Follow-up due"), "travel_km": N_("Travel km"),
    "expenses_cents": N_("Expenses"), "status": N_("Status"), "coordinator_comment": N_("Comment of coordination"),
    "directory_entry_id": N_("Directory entry"), "help_kind": N_("Needs professional help"),
    "help_reason": N_("Why professional help"), "*": N_("The whole entry"),
}
STATUSES = {"draft": N_("draft"), "submitted": N_("submitted"), "approved": N_("approved"), "returned": N_("returned")}


@cache
def app_strings(locale: str) -> dict:
    """Everything the modules may show, in this locale (built once per locale)."""
    catalogue = translations(locale)
    texts = {key: catalogue.gettext(message) for key, message in MESSAGES.items()}
    texts["plurals"] = {key: _plural_forms(locale, text) for key, text in PLURALS.items()}
    texts["fields"] = {key: catalogue.gettext(message) for key, message in FIELD_NAMES.items()}
    texts["statuses"] = {key: catalogue.gettext(message) for key, message in STATUSES.items()}
    texts["place_types"] = {key: catalogue.gettext(message) for key, message in labels.PLACE_TYPES.items()}
    texts["offer_statuses"] = {key: catalogue.gettext(message) for key, message in labels.OFFER_STATUSES.items()}
    texts["topics"] = {key: catalogue.gettext(message) for key, message in labels.TOPICS.items()}
    texts["help_kinds"] = {key: catalogue.gettext(message) for key, message in labels.HELP_KINDS.items()}
    texts["languages"] = {code: Locale.parse(locale).languages.get(code, code) for code in LANGUAGE_CODES}
    texts["locale"] = locale
    return texts


@cache
def app_strings_json(locale: str) -> Markup:
    """app_strings as JSON for the page's script element, made once per locale, not per view."""
    return htmlsafe_json_dumps(app_strings(locale))


def _plural_forms(locale: str, text) -> dict[str, str]:
    """The text for each CLDR plural category (what the page's Intl.PluralRules names), so the
    phone picks Arabic's six forms and Ukrainian's three as the catalogue has them."""
    catalogue, rules = translations(locale), Locale.parse(locale)
    return {rules.plural_form(n): text(catalogue, n) for n in _PLURAL_SAMPLES}

