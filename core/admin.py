"""Admin helpers shared by the apps (core registers no model of its own here)."""

from django.contrib import admin


class ReadOnlyMixin:
    """For records written only by audited services or beat jobs: the admin shows them."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(ReadOnlyMixin, admin.ModelAdmin):
    pass
