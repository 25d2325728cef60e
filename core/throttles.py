"""API rate limits per user and per anonymous client, read from settings on every request (so
they can be changed without a restart of the class definitions, and in tests)."""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


class _FromSettings:
    setting = ""

    def get_rate(self):
        rate = getattr(settings, self.setting)
        return None if rate == "off" else rate


class UserRate(_FromSettings, UserRateThrottle):
    setting = "API_RATE_USER"


class AnonRate(_FromSettings, AnonRateThrottle):
    setting = "API_RATE_ANON"
