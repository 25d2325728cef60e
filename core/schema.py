"""The API schema: drf-spectacular's, with the error answers of every operation declared.

An operation's success answer comes from its serializer (or `extend_schema`); its errors are
the same for the whole API, so they are declared here once, from what the view is:

- 400 on every operation: a NUL character anywhere in a request is refused before any view
  runs, and bad fields, query or paging parameters answer 400 too (`FieldErrors`);
- 401 where a login is needed (`WWW-Authenticate` says how);
- 403 where the view checks more than a login (a role), and on every write (the services check
  who may change the object; a session needs its CSRF token);
- 404 on every operation on one object (a path parameter): a missing object, or one the caller
  may not see;
- 429 where a rate limit applies (`Retry-After` says for how long).

An answer in another format than JSON (a CSV export) is declared as text, not as the JSON
structure drf-spectacular would otherwise claim for it.

A view declares what only it knows (409 for a wrong state, 410, 404 for an object named in the
body) in its `extend_schema(responses=…)`, with or without a body: a declared error without a
body gets the shared one. Errors answered by DRF carry `{"detail": …}` (`Error`); field errors
are normalised by `field_errors_handler` so that every 400 has one of the two shapes.
"""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework import permissions
from rest_framework.exceptions import ValidationError
from rest_framework.views import exception_handler


def _component(name: str, schema: dict) -> ResolvedComponent:
    return ResolvedComponent(
        name=name, type=ResolvedComponent.SCHEMA, object=f"core.schema.{name}", schema=schema
    )


ERROR = _component(
    "Error",
    {
        "type": "object",
        "description": "Why the request was refused.",
        "properties": {"detail": {"type": "string"}},
        "required": ["detail"],
        "additionalProperties": False,
    },
)
FIELD_ERRORS = _component(
    "FieldErrors",
    {
        "type": "object",
        "description": (
            "Errors per field: the messages about a field, or the errors of the fields (or, by "
            "position, the items) inside it. `non_field_errors` holds what is wrong with the "
            'input as a whole. Example: {"parameters": {"name": ["This field is required."]}}'
        ),
        "additionalProperties": {
            "oneOf": [
                {"type": "array", "items": {"type": "string"}},
                {"$ref": "#/components/schemas/FieldErrors"},
            ]
        },
    },
)

# What each shared error means; the view's own description wins where it gives one.
DESCRIPTIONS = {
    "400": "Bad input: errors per field, or the reason (a NUL character, unreadable JSON).",
    "401": "No valid credentials: log in, or send `Authorization: Token …`.",
    "403": "Signed in, but not allowed to do this.",
    "404": "No such object, or not one the caller may see.",
    "409": "The object is not in a state that allows this.",
    "410": "Gone.",
    "429": "Too many requests: wait as long as `Retry-After` says.",
}
# Statuses whose body may be field errors (a service names the fields it refused).
FIELD_STATUSES = {"400", "409"}
HEADERS = {
    "401": {
        "WWW-Authenticate": {
            "schema": {"type": "string"},
            "description": "How to authenticate (`Token`).",
        }
    },
    "429": {
        "Retry-After": {
            "schema": {"type": "integer"},
            "description": "Seconds until the rate limit lets a request through again.",
        }
    },
}
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class AutoSchema(SpectacularAutoSchema):
    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        responses = operation["responses"]
        media_types = _media_types(responses)
        for status in [*self.shared_errors(), *(s for s in responses if s >= "400")]:
            declared = responses.get(status, {})
            if "content" in declared:
                continue  # the view described this answer itself
            responses[status] = {
                "description": declared.get("description") or DESCRIPTIONS.get(status, ""),
                "content": {
                    media_type: {"schema": self._error_schema(status)} for media_type in media_types
                },
                **({"headers": HEADERS[status]} if status in HEADERS else {}),
            }
        for response in responses.values():
            for media_type, content in response.get("content", {}).items():
                if not _is_json(media_type):
                    # A CSV export is text, not the JSON structure drf-spectacular assumes.
                    content["schema"] = {
                        "type": "string",
                        "description": f"The answer as {media_type} text.",
                    }
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def shared_errors(self) -> list[str]:
        """The error statuses this operation can answer whatever its view does."""
        checks = self.view.get_permissions()
        statuses = ["400"]
        if self.view.get_authenticators() and not all(
            isinstance(check, permissions.AllowAny) for check in checks
        ):
            statuses.append("401")
        checks_a_role = any(
            type(check) not in (permissions.AllowAny, permissions.IsAuthenticated)
            for check in checks
        )
        if checks_a_role or self.method not in SAFE_METHODS:
            statuses.append("403")
        if "{" in self.path:
            statuses.append("404")
        if self.view.get_throttles():  # declared whatever the rates: a deployment sets them
            statuses.append("429")
        return statuses

    def _error_schema(self, status: str) -> dict:
        self.registry.register_on_missing(ERROR)
        if status not in FIELD_STATUSES:
            return ERROR.ref
        self.registry.register_on_missing(FIELD_ERRORS)
        return {"oneOf": [ERROR.ref, FIELD_ERRORS.ref]}


def _is_json(media_type: str) -> bool:
    return media_type == "application/json" or media_type.endswith("+json")


def _media_types(responses: dict) -> list[str]:
    """The media types the operation answers in (its errors are rendered the same way)."""
    for status, response in sorted(responses.items()):
        if status < "400" and response.get("content"):
            return list(response["content"])
    return ["application/json"]


def field_errors(detail) -> dict:
    """DRF's validation errors in the one shape the schema declares (`FieldErrors`): a single
    message becomes a list of one, errors of list items are keyed by position (as DRF's
    ListField does already), and errors about the input as a whole go under
    `non_field_errors`."""
    if isinstance(detail, dict):
        return {str(name): _messages(errors) for name, errors in detail.items()}
    return {"non_field_errors": _messages(detail)}


def _messages(errors):
    if isinstance(errors, dict):
        return {str(name): _messages(inner) for name, inner in errors.items()}
    if isinstance(errors, list):
        if all(isinstance(message, str) for message in errors):
            return list(errors)
        return {str(position): _messages(item) for position, item in enumerate(errors) if item}
    return [errors]


def field_errors_handler(exc, context):
    """DRF's exception handler, with every validation error in the `FieldErrors` shape."""
    response = exception_handler(exc, context)
    if response is not None and isinstance(exc, ValidationError):
        response.data = field_errors(response.data)
    return response
