"""What the codes of requests, offers and assignments are called on screen (gettext msgids)."""

from server.i18n import N_

PURPOSES = {
    "behoerde": N_("Public office"), "arzt": N_("Doctor"), "kita_schule": N_("Kindergarten or school"),
    "wohnung": N_("Housing"), "arbeit": N_("Work"), "sonstiges": N_("Other"),
}
REQUEST_STATUSES = {
    "new": N_("new"), "matching": N_("matching"), "offered": N_("offered"), "assigned": N_("assigned"),
    "done": N_("done"), "cancelled": N_("cancelled"),
}
OFFER_STATUSES = {
    "open": N_("waiting for an answer"), "accepted": N_("accepted"), "declined": N_("declined"),
    "taken": N_("already taken"), "withdrawn": N_("withdrawn"),
}
PLACE_TYPES = {
    "auslaenderbehoerde": N_("Immigration office"), "jobcenter": N_("Jobcenter"), "sozialamt": N_("Social welfare office"),
    "arztpraxis": N_("Doctor's practice"), "krankenhaus": N_("Hospital"), "kita_schule": N_("Kindergarten or school"),
    "wohnungsamt": N_("Housing office"), "beratungsstelle": N_("Advice centre"), "sonstiges": N_("Other"),
}
TOPICS = {  # what a visit was about: codes in the data, words on screen
    "residence": N_("Residence permit"), "benefits": N_("Benefits"), "health": N_("Health"), "housing": N_("Housing"),
    "work": N_("Work"), "school": N_("Kindergarten or school"), "language_course": N_("Language course"),
    "documents": N_("Documents and forms"), "appointment": N_("Appointment made"), "other": N_("Other"),
}
EVENT_KINDS = {"stammtisch": N_("Stammtisch"), "training": N_("Training"), "supervision": N_("Supervision")}
ANSWERS = {"yes": N_("I will come"), "maybe": N_("Maybe"), "no": N_("I cannot come")}
LEVELS = {"native": N_("native"), "fluent": N_("fluent"), "basic": N_("basic")}
HELP_KINDS = {  # professional help a visit may need, beyond a volunteer's limits (the Wegweiser)
    "legal": N_("Legal advice"), "health": N_("Medical help"), "crisis": N_("Crisis"), "child_protection": N_("Child protection"),
}
