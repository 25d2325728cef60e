"""Teams and their members. Admin changes are audited from the admin log (audit.signals)."""

from django.contrib import admin

from teams.models import Membership, Team


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "cost_center"]
    search_fields = ["slug", "name"]
    inlines = [MembershipInline]
