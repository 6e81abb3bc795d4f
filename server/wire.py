"""The base of every msgspec type the server reads from the wire: unknown fields are an error."""

import msgspec


class Strict(msgspec.Struct, forbid_unknown_fields=True):
    pass
