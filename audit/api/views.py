from rest_framework import viewsets

from audit.api.serializers import AuditEventSerializer
from audit.filtersets import AuditEventFilterSet
from audit.selectors import audit_event_visible
from core.pagination import StrictCursorPagination


class SeqCursorPagination(StrictCursorPagination):
    ordering = "-seq"
    page_size = 100


class AuditEventViewSet(viewsets.ReadOnlyModelViewSet):
    """Audit events the caller may see, newest first; read only."""

    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilterSet
    pagination_class = SeqCursorPagination
    lookup_field = "uuid"

    def get_queryset(self):
        return audit_event_visible(user=self.request.user)
