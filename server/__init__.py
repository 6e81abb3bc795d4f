"""Lotsenbuch: the Litestar server behind the volunteers' offline app."""
