"""Piccolo tables every synced entity shares: the clock, the change log, revisions, conflicts,
and each device's processed mutations (sync/RULES.md)."""

from piccolo.columns import JSON, UUID, BigInt, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.table import Table

from server.accounts.tables import Device, User
from server.organisations.tables import Organisation


class SyncedRecord:
    """The columns of R1 that every synced record carries; entity tables mix it in."""

    id = UUID(primary_key=True)  # chosen by the client
    organisation = ForeignKey(references=Organisation, null=False)
    owner = ForeignKey(references=User, null=False)
    version = Integer(default=1)
    seq = BigInt(default=0, index=True)
    deleted_at = Timestamptz(null=True, default=None)
    field_versions = JSON(default="{}")
    field_authors = JSON(default="{}")
    created_at = Timestamptz()
    updated_at = Timestamptz()


class SyncClock(Table, tablename="sync_clock"):
    """One row per organisation, locked by every write, so seq order is commit order (R2)."""

    organisation = ForeignKey(references=Organisation, primary_key=True)
    seq = BigInt(default=0)
    horizon = BigInt(default=0)  # change-log entries up to here are pruned: older cursors must reset


class ChangeLog(Table, tablename="change_log"):
    organisation = ForeignKey(references=Organisation, null=False)
    seq = BigInt(index=True)
    entity = Varchar(length=20)
    record_id = UUID(index=True)
    before = JSON(null=True, default=None)  # who could see the record before this change (R3)
    # The one volunteer this change can concern (the record's owner, before and after it), or
    # NULL: anyone's. A volunteer's pull reads only NULL and their own (server/sync_store.py).
    audience = UUID(null=True, default=None)


class Revision(Table, tablename="revision"):
    organisation = ForeignKey(references=Organisation, null=False)
    entity = Varchar(length=20)
    record_id = UUID(index=True)
    version = Integer()
    op = Varchar(length=10)
    fields = JSON(default="{}")
    actor = ForeignKey(references=User, null=True)
    device = ForeignKey(references=Device, null=True, default=None)
    at = Timestamptz()
    client_time = Timestamptz(null=True, default=None)


class SyncConflict(Table, tablename="sync_conflict"):
    id = UUID(primary_key=True)
    organisation = ForeignKey(references=Organisation, null=False)
    entity = Varchar(length=20)
    record_id = UUID(index=True)
    field = Varchar(length=40)
    base_version = Integer(null=True, default=None)
    server_value = JSON(null=True, default=None)
    server_author = UUID(null=True, default=None)
    client_value = JSON(null=True, default=None)
    client_author = ForeignKey(references=User, null=False)
    client_device = ForeignKey(references=Device, null=True, default=None)
    record_owner = ForeignKey(references=User, null=False)
    created_at = Timestamptz()
    resolved_at = Timestamptz(null=True, default=None)
    resolved_by = ForeignKey(references=User, null=True, default=None)
    version = Integer(default=1)
    seq = BigInt(default=0, index=True)


class DevicePush(Table, tablename="device_push"):
    """The stored results of the mutations one push processed, so a retry gets the same answers
    (R5): one row a push, covering its range of mutation ids."""

    id = Varchar(length=80, primary_key=True)  # device:first mutation id
    device = ForeignKey(references=Device, null=False)
    first_id = BigInt()
    last_id = BigInt(index=True)
    results = JSON()
    at = Timestamptz()
