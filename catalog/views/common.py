"""What the POST views of the catalog share: run one service call and say how it went."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied

from catalog import services


def act(request, action, success: str) -> bool:
    """Call `action()`; its refusals come back as messages on the next page (a wrong state,
    field errors), a permission problem as 403. True when it succeeded."""
    try:
        action()
    except PermissionDenied as exc:
        raise PermissionDenied(str(exc) or "You may not do that.") from None
    except services.RequestInvalid as exc:
        for messages_of_field in exc.errors.values():
            for message in messages_of_field:
                messages.error(request, message)
    except services.TransitionNotAllowed as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, success)
        return True
    return False


def comment_of(request) -> str:
    """The decision's comment; RequestInvalid (shown by `act`) when it is not acceptable, e.g.
    too long, so that nothing is decided on a comment cut short."""
    from catalog.forms import DecisionForm

    form = DecisionForm(request.POST)
    if not form.is_valid():
        raise services.RequestInvalid({field: list(e) for field, e in form.errors.items()})
    return form.cleaned_data["comment"]
