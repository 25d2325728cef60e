"""Content negotiation that refuses an unknown `?format=` with a 400 naming the formats the
endpoint answers in. DRF answers 404 there, as it rightly does for an unknown URL suffix
(`/api/teams.xml`), which tells the caller the object is missing when only the parameter is
wrong."""

from __future__ import annotations

from rest_framework.exceptions import ValidationError
from rest_framework.negotiation import DefaultContentNegotiation


class StrictContentNegotiation(DefaultContentNegotiation):
    def select_renderer(self, request, renderers, format_suffix=None):
        name = self.settings.URL_FORMAT_OVERRIDE
        wanted = None if format_suffix else request.query_params.get(name)
        if wanted and not any(renderer.format == wanted for renderer in renderers):
            known = ", ".join(dict.fromkeys(renderer.format for renderer in renderers))
            raise ValidationError({name: [f"{wanted!r} is not a format; use {known}."]})
        return super().select_renderer(request, renderers, format_suffix)
