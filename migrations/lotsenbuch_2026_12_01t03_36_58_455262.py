from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import UUID
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-01T03:36:58:455262"
VERSION = "1.38.0"
DESCRIPTION = "change log audience"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="lotsenbuch", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="ChangeLog",
        tablename="change_log",
        column_name="audience",
        db_column_name="audience",
        column_class_name="UUID",
        column_class=UUID,
        params={
            "default": None,
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    return manager
