"""The audit log is append-only: a trigger refuses UPDATE, and DELETE except while the whole
organisation is being removed (offboarding sets `lotsenbuch.offboarding` on PostgreSQL; on SQLite
the organisation row is already gone when its entries are cascaded away)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-22T08:01:12:000000"
VERSION = "1.38.0"
DESCRIPTION = "audit log append-only"

POSTGRES = [
    """CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('lotsenbuch.offboarding', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'the audit log is append-only';
END
$$ LANGUAGE plpgsql""",
    """CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()""",
]
SQLITE = [
    """CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
    """CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    WHEN EXISTS (SELECT 1 FROM organisation WHERE id = OLD.organisation)
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="lotsenbuch", description=DESCRIPTION)

    async def append_only():
        engine = engine_finder()
        for statement in POSTGRES if engine.engine_type == "postgres" else SQLITE:
            await engine.run_ddl(statement)

    manager.add_raw(append_only)
    return manager
