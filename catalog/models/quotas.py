"""Quotas per team and resource kind, monthly budgets per team, and the reservations that
requests hold against them (active until the request is rejected, fails or is deleted).

What is in use is kept as counters next to the limits (Quota.used_*, MonthlySpend.amount),
changed in the same transaction as the reservation they count, so a submission reads and locks
one row instead of summing every reservation."""

from __future__ import annotations

from django.db import models

from catalog.choices import ReservationState
from teams.models import Team

# Quota dimensions: (model field holding the limit, reservation field holding the amount).
DIMENSIONS = (
    ("max_count", "count"),
    ("max_cpu_millicores", "cpu_millicores"),
    ("max_memory_mib", "memory_mib"),
    ("max_storage_gib", "storage_gib"),
)


class Quota(models.Model):
    """Limits for one team and one resource kind (an empty limit means no limit) and what the
    team's active reservations of that kind hold. A row exists for every kind a team has
    reserved, with or without limits."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="quotas")
    kind = models.CharField(max_length=63)
    max_count = models.PositiveIntegerField(null=True, blank=True)
    max_cpu_millicores = models.PositiveIntegerField(null=True, blank=True)
    max_memory_mib = models.PositiveIntegerField(null=True, blank=True)
    max_storage_gib = models.PositiveIntegerField(null=True, blank=True)
    used_count = models.BigIntegerField(default=0, editable=False)
    used_cpu_millicores = models.BigIntegerField(default=0, editable=False)
    used_memory_mib = models.BigIntegerField(default=0, editable=False)
    used_storage_gib = models.BigIntegerField(default=0, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["team__slug", "kind"]
        constraints = [models.UniqueConstraint(fields=["team", "kind"], name="quota_unique")]

    def __str__(self) -> str:
        return f"{self.team.slug}/{self.kind}"

    @property
    def used(self) -> dict[str, int]:
        return {amount: getattr(self, f"used_{amount}") for _, amount in DIMENSIONS}

    @property
    def has_limits(self) -> bool:
        return any(getattr(self, limit) is not None for limit, _ in DIMENSIONS)


class Budget(models.Model):
    team = models.OneToOneField(Team, on_delete=models.CASCADE, related_name="budget")
    monthly_limit = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, default="EUR")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["team__slug"]

    def __str__(self) -> str:
        return f"{self.team.slug}: {self.monthly_limit} {self.currency}/month"


class MonthlySpend(models.Model):
    """What a team's active reservations cost in one month (the budget check reads this)."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="spends")
    period = models.DateField(help_text="First day of the month.")
    amount = models.DecimalField(max_digits=14, decimal_places=2, default=0)

    class Meta:
        ordering = ["team_id", "-period"]
        constraints = [
            models.UniqueConstraint(fields=["team", "period"], name="monthly_spend_unique")
        ]

    def __str__(self) -> str:
        return f"{self.team_id} {self.period:%Y-%m}: {self.amount}"


class Reservation(models.Model):
    request = models.OneToOneField("Request", on_delete=models.CASCADE, related_name="reservation")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="reservations")
    kind = models.CharField(max_length=63)
    count = models.PositiveIntegerField(default=0)
    cpu_millicores = models.PositiveIntegerField(default=0)
    memory_mib = models.PositiveIntegerField(default=0)
    storage_gib = models.PositiveIntegerField(default=0)
    cost = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    currency = models.CharField(max_length=3, default="EUR")
    period = models.DateField(help_text="First day of the month the cost is booked to.")
    state = models.CharField(
        max_length=8, choices=ReservationState.choices, default=ReservationState.ACTIVE
    )
    created_at = models.DateTimeField(auto_now_add=True)
    released_at = models.DateTimeField(null=True, blank=True)
    release_reason = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["team", "kind", "state"], name="reservation_usage_idx"),
            models.Index(fields=["team", "period", "state"], name="reservation_budget_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.team.slug}/{self.kind} for {self.request_id} ({self.state})"

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            **{amount: getattr(self, amount) for _, amount in DIMENSIONS},
            "cost": str(self.cost),
            "currency": self.currency,
            "period": self.period.isoformat(),
            "state": self.state,
        }
