"""Holds a test-client response to the OpenAPI schema the API publishes: its status is one the
operation declares, and its body matches what the schema says for that status."""

from __future__ import annotations

from functools import cache

import requests
import schemathesis
from drf_spectacular.generators import SchemaGenerator


@cache
def published_schema():
    return schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))


def assert_conforms(response, path: str, method: str = "GET") -> None:
    """`response` (Django's test client) answered `method path` as the schema declares."""
    operation = published_schema()[path][method.upper()]
    declared = operation.responses.find_by_status_code(response.status_code)
    assert declared is not None, f"{method} {path}: {response.status_code} is not declared"
    url = "http://testserver" + response.wsgi_request.get_full_path()
    operation.validate_response(
        schemathesis.Response(
            status_code=response.status_code,
            headers={name.lower(): [value] for name, value in response.headers.items()},
            content=response.content,
            request=requests.Request(method.upper(), url).prepare(),
            elapsed=0.0,
            verify=True,
        )
    )
