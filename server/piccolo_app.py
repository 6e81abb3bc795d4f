"""The one Piccolo app; its migrations live in the top-level `migrations/` package."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from server.accounts.tables import Device, Invitation, Throttle, User, UserSession
from server.organisations.tables import Organisation

import migrations

TABLES = [Organisation, User, Device, UserSession, Invitation, Throttle]

APP_CONFIG = AppConfig(
    app_name="lotsenbuch",
    migrations_folder_path=Path(migrations.__file__).parent,
    table_classes=TABLES,
)
