"""The one Piccolo app; its migrations live in the top-level `migrations/` package."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from server.accounts.tables import Device, Invitation, Throttle, User, UserSession
from server.notes.tables import Note
from server.organisations.tables import Organisation
from server.sync_tables import ChangeLog, DevicePush, Revision, SyncClock, SyncConflict
from server.visits.tables import VisitLog

import migrations

TABLES = [
    Organisation, User, Device, UserSession, Invitation, Throttle,
    SyncClock, ChangeLog, Revision, SyncConflict, DevicePush, Note, VisitLog,
]

APP_CONFIG = AppConfig(
    app_name="lotsenbuch",
    migrations_folder_path=Path(migrations.__file__).parent,
    table_classes=TABLES,
)
