"""A volunteer's pull reads the change-log entries whose audience is theirs or anyone's (NULL)
in seq order: one index serves both ranges (server/sync_store.py, _window)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-01T03:37:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "change log audience index"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="lotsenbuch", description=DESCRIPTION)

    async def index():
        await engine_finder().run_ddl(
            "CREATE INDEX IF NOT EXISTS change_log_audience ON change_log (organisation, audience, seq)")

    manager.add_raw(index)
    return manager
