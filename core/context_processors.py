from functools import partial

from core import banners, context, navigation


def navigation_links(request):
    """Values every page template needs: the main navigation, the request id (shown in error
    pages and footers) and the notices at the top (a callable: worked out only if printed)."""
    return {
        "nav": navigation.entries(),
        "request_id": getattr(request, "request_id", "") or context.get_request_id(),
        "banners": partial(banners.shown, request),
    }
