from ssops_site import context


def navigation(request):
    """Values every page template needs: the request id (shown in error pages and footers)."""
    return {"request_id": getattr(request, "request_id", "") or context.get_request_id()}
