"""What the API's input serializers share."""

from __future__ import annotations

from collections.abc import Mapping

from rest_framework import serializers

# Sent by HTML forms along with the fields; not a field of anything.
FORM_KEYS = {"csrfmiddlewaretoken"}


class StrictInput:
    """Refuse fields the serializer does not know (400 naming each) instead of ignoring them: a
    misspelt "ttl_hour" or "comemnt" would otherwise be dropped and the call go ahead with the
    defaults the caller meant to change. Mix in before the DRF serializer class."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            unknown = sorted(set(data) - set(self.fields) - FORM_KEYS)
            if unknown:
                known = ", ".join(name for name, f in self.fields.items() if not f.read_only)
                raise serializers.ValidationError(
                    {name: [f"Unknown field; known: {known}."] for name in unknown}
                )
        return super().to_internal_value(data)
