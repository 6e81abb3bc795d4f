"""Piccolo table of organisations."""

from piccolo.columns import UUID, Timestamptz, Varchar
from piccolo.table import Table


class Organisation(Table, tablename="organisation"):
    id = UUID(primary_key=True)
    name = Varchar(length=200, unique=True)
    created_at = Timestamptz()
