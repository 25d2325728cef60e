"""What the metrics app adds to others' pages: the requester's rating on a request's page
(catalog.panels) and the quarterly survey at the top of every page (core.banners), both M12."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString

from catalog.panels import Panel


def rating(http_request, item) -> Panel:
    html = render_to_string("metrics/_request_rating.html", {"item": item}, request=http_request)
    return Panel(html=html)


SCALE = range(0, 11)


def survey(http_request) -> SafeString | None:
    """The quarterly survey (M12) at the top of the pages of an active user who has neither
    answered nor dismissed it this quarter (one indexed query per page shown)."""
    from metrics.periods import quarter_of
    from metrics.services import survey_due

    user = getattr(http_request, "user", None)
    if user is None or not survey_due(user=user):
        return None
    return render_to_string(
        "metrics/_survey.html",
        {
            "quarter": quarter_of(timezone.now()),
            "scale": SCALE,
            "next": http_request.get_full_path(),
        },
        request=http_request,
    )
