"""msgspec types of the sign-in form and the JSON sign-in API."""

from __future__ import annotations

from typing import Annotated

import msgspec

from server.wire import Strict

Login = Annotated[str, msgspec.Meta(min_length=1, max_length=254)]
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]


class LoginForm(msgspec.Struct):
    # Form posts carry the CSRF field besides the credentials; missing fields show as empty.
    login: str = ""
    password: str = ""
    next: str = "/"


class LoginRequest(Strict):
    login: Login
    password: Password


class Me(msgspec.Struct):
    id: str
    organisation_id: str
    username: str
    display_name: str
    role: str
    ui_language: str
