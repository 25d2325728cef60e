from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render

from audit.filtersets import AuditEventFilterSet
from audit.selectors import audit_event_visible

PAGE_SIZE = 50


@login_required
def event_list(request):
    """Newest first, keyset-paged by seq so that deep pages stay fast on millions of rows."""
    filterset = AuditEventFilterSet(request.GET, queryset=audit_event_visible(user=request.user))
    events = filterset.qs.order_by("-seq")
    before = request.GET.get("before", "")
    if before.isdigit():
        events = events.filter(seq__lt=int(before))
    page = list(events[: PAGE_SIZE + 1])
    has_more = len(page) > PAGE_SIZE
    page = page[:PAGE_SIZE]
    query = request.GET.copy()
    query.pop("before", None)
    return render(
        request,
        "audit/event_list.html",
        {
            "filterset": filterset,
            "events": page,
            "next_before": page[-1].seq if has_more else None,
            "query": query.urlencode(),
        },
    )


@login_required
def event_detail(request, uuid):
    event = get_object_or_404(audit_event_visible(user=request.user), uuid=str(uuid))
    return render(request, "audit/event_detail.html", {"event": event})
