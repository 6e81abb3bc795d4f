"""The one Piccolo app; its migrations live in the top-level `migrations/` package."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from server.accounts.tables import Device, Invitation, Throttle, User, UserSession
from server.assignments.tables import Assignment
from server.clients.tables import Client
from server.directory.tables import DirectoryEntry, DirectorySuggestion, HelpFollowUp, Howto
from server.events.tables import Event, EventResponse, Module, ModuleCompletion
from server.messages.tables import Message, MessageRecipient
from server.notes.tables import Note
from server.organisations.tables import Organisation
from server.privacy.tables import AuditEntry, RetentionPolicy
from server.push.tables import PushAlert, PushKey, PushPreference, PushSubscription
from server.requests.tables import HelpRequest, Offer
from server.sync_tables import ChangeLog, DevicePush, Revision, SyncClock, SyncConflict
from server.visits.tables import VisitLog

import migrations

TABLES = [
    Organisation, User, Device, UserSession, Invitation, Throttle,
    SyncClock, ChangeLog, Revision, SyncConflict, DevicePush, Note, VisitLog,
    Client, HelpRequest, Offer, Assignment, Message, MessageRecipient, Module, Event, EventResponse, ModuleCompletion,
    PushKey, PushSubscription, PushAlert, PushPreference, AuditEntry, RetentionPolicy, DirectoryEntry, Howto,
    DirectorySuggestion, HelpFollowUp,
]

APP_CONFIG = AppConfig(
    app_name="lotsenbuch",
    migrations_folder_path=Path(migrations.__file__).parent,
    table_classes=TABLES,
)
