"""Schemathesis against the app's OpenAPI schema: no input may produce a server error.

(Driven through hypothesis directly: schemathesis' pytest plugin does not load under pytest 9.)
"""

from __future__ import annotations

from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from server.app import create_app
from storage.settings import load_settings
from tests.fakes.platforms import EL_KEY, serve, settings_for
from tests.test_trends import rss

EXAMPLES = 8


def test_no_server_errors(tmp_path: Path) -> None:
    with serve() as fake:  # the platforms' APIs (trends, publishing) on loopback
        fake.trends_rss = rss([("coral reef bleaching", "50K+")])
        app = create_app(load_settings(home=tmp_path, auth="none", max_upload_bytes=65536,
                                       elevenlabs_api_key=EL_KEY, **settings_for(fake)))
        _fuzz(app)


def _fuzz(app: object) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    checked = 0
    for result in schema.get_all_operations():
        op = result.ok()  # type: ignore[union-attr]

        @given(case=op.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(checks=[not_a_server_error])

        check()
        checked += 1
    assert checked >= 20
