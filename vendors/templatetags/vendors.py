"""`{% expiry date today %}`: an insurance, contract or qualification date that needs attention stands out."""

from datetime import date, timedelta

from django import template

register = template.Library()

EXPIRY_WARNING = timedelta(days=30)


def expiry_state(on: date | None, today: date) -> str:
    """Expired once the day has passed, soon within the next 30 days (today included), else nothing to flag."""
    if on is None:
        return ""
    if on < today:
        return "expired"
    return "soon" if on <= today + EXPIRY_WARNING else ""


@register.inclusion_tag("vendors/_expiry.html")
def expiry(on: date | None, today: date) -> dict[str, object]:
    return {"on": on, "state": expiry_state(on, today), "days_left": (on - today).days if on else None}
