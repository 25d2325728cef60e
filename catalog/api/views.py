from rest_framework import viewsets

from catalog.api.serializers import TeamSerializer
from catalog.selectors import team_list_visible


class TeamViewSet(viewsets.ReadOnlyModelViewSet):
    """Teams the caller belongs to (platform admins and executives see all)."""

    serializer_class = TeamSerializer
    lookup_field = "slug"

    def get_queryset(self):
        return team_list_visible(user=self.request.user).prefetch_related("memberships__user")
