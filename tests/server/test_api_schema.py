"""Schemathesis against the OpenAPI schema of /api, on a real server: no 500, nothing the schema does not say.

Every operation under /api/ is called with generated valid and invalid data by a signed-in phone
(a device session of the demo volunteer, with its CSRF header), on SQLite and, where configured,
PostgreSQL. Each response must be documented for its status code, with the declared media type
and a body that matches the declared schema. Signing out (DELETE /api/session) is left out: it
would end the session every later case runs in; tests/server/accounts covers it.

Part of the default pytest run, which is how .ci/run runs it.
"""

from __future__ import annotations

import contextlib
import uuid

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance, negative_data_rejection, not_a_server_error, response_schema_conformance,
    status_code_conformance,
)

from sync.types import SCHEMA
from tests.conftest import BACKENDS
from tests.server.live import LiveServer, sign_in_device

EXAMPLES = 30
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          negative_data_rejection]


class SignedInPhone:
    def __init__(self, server: LiveServer):
        self.base_url = server.base_url
        with httpx.Client(base_url=server.base_url) as http:
            self.device_id, csrf = sign_in_device(http)
            cookies = "; ".join(f"{name}={value}" for name, value in http.cookies.items())
        self.headers = {**csrf, "cookie": cookies}


@pytest.fixture(scope="module", params=BACKENDS)
def phone(request, tmp_path_factory):
    database_url = None
    if request.param == "postgres":
        from tests.conftest import _truncate_postgres

        database_url = request.getfixturevalue("postgres_url")
        _truncate_postgres(database_url)
    server = LiveServer(tmp_path_factory.mktemp("api"), database_url)
    server.prepare()
    with server:
        server.start()
        yield SignedInPhone(server)


def _into_the_engine(case, phone: SignedInPhone) -> None:
    """Past the device and schema-version checks into the sync engine, leaving an invalid value invalid."""
    if not isinstance(case.body, dict):
        return
    with contextlib.suppress(KeyError, TypeError, ValueError, AttributeError):
        uuid.UUID(case.body["device_id"])
        case.body["device_id"] = phone.device_id
    if type(case.body.get("schema")) is int:
        case.body["schema"] = SCHEMA


def _operations(phone: SignedInPhone):
    schema = schemathesis.openapi.from_url(phone.base_url + "/api/schema/openapi.json")
    schema = schema.include(path_regex="^/api/").exclude(path_regex="^/api/schema")
    operations = [result.ok() for result in schema.get_all_operations()]
    return [op for op in operations if (op.method.upper(), op.path) != ("DELETE", "/api/session")]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_the_api_answers_as_its_schema_says(phone, mode):
    operations = _operations(phone)
    assert {op.path for op in operations} >= {"/api/sync", "/api/session", "/api/me", "/api/push/subscriptions"}
    failures = []
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES, deadline=None, database=None, phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))
        def call(case):
            _into_the_engine(case, phone)
            case.call_and_validate(base_url=phone.base_url, headers=phone.headers, checks=CHECKS)

        try:
            call()
        except Unsatisfiable:  # nothing to make invalid in an operation without parameters or body
            assert mode == GenerationMode.NEGATIVE and not operation.body and not operation.query and not operation.path_parameters, operation.label
        except (Exception, BaseExceptionGroup) as failure:  # every operation is tried; all failures are reported
            failures.append(f"{operation.label}: {failure}")
    assert not failures, "\n\n".join(failures)
