"""The sync engine: pure functions over msgspec types (standard library and msgspec only, no I/O)."""
