"""Team roles and the platform-wide groups."""

from django.db import models


class TeamRole(models.TextChoices):
    MEMBER = "member", "Member"
    APPROVER = "approver", "Approver"
    ADMIN = "admin", "Team admin"


class PlatformGroup:
    """Names of the Django groups that give platform-wide roles."""

    ADMIN = "platform-admin"
    ONCALL = "oncall"
    EXECUTIVE = "executive"

    ALL = (ADMIN, ONCALL, EXECUTIVE)
