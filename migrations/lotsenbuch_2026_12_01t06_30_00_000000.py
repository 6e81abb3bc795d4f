"""A retried push finds its stored results by device and mutation-id range (R5). The lookup
had only an index on last_id, and since every device counts its mutation ids from 1 it read
the rows of nearly every device's pushes (server/sync_store.py, _stored_results)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-01T06:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "device push lookup index"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="lotsenbuch", description=DESCRIPTION)

    async def index():
        await engine_finder().run_ddl(
            "CREATE INDEX IF NOT EXISTS device_push_device ON device_push (device, last_id)")

    manager.add_raw(index)
    return manager
