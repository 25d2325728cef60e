from rest_framework import viewsets
from rest_framework.pagination import CursorPagination

from audit.api.serializers import AuditEventSerializer
from audit.filtersets import AuditEventFilterSet
from audit.selectors import audit_event_visible


class SeqCursorPagination(CursorPagination):
    ordering = "-seq"
    page_size = 100
    max_page_size = 1000
    page_size_query_param = "limit"


class AuditEventViewSet(viewsets.ReadOnlyModelViewSet):
    """Audit events the caller may see, newest first; read only."""

    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilterSet
    pagination_class = SeqCursorPagination
    lookup_field = "uuid"

    def get_queryset(self):
        return audit_event_visible(user=self.request.user)
