from core import context, navigation


def navigation_links(request):
    """Values every page template needs: the main navigation and the request id (shown in error
    pages and footers)."""
    return {
        "nav": navigation.entries(),
        "request_id": getattr(request, "request_id", "") or context.get_request_id(),
    }
