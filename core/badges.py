"""Badge colours for values shown on pages (states, tiers, modes, outcomes): each app registers
the colours of its own choices; the `badge` template filter reads them. Classes in ssops.css:
ok, warn, bad; a value with no colour shows plain."""

from __future__ import annotations

BADGE: dict[str, str] = {}


def register(colours: dict) -> None:
    BADGE.update({str(value): colour for value, colour in colours.items()})


def badge(value) -> str:
    return BADGE.get(str(value), "")
