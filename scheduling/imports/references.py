"""How a row names its engagement: by name, MLS id or external_id."""

import re
from typing import Any

from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from engagements.models import Engagement

from .lookups import _column_values
from .rows import _Context, _Row

# A row names its engagement by exactly one of these: the name (readable, but a rename breaks an integration), the
# MLS id or the engagement's external_id (both stable).
ENGAGEMENT_COLUMNS = ("engagement", "engagement_id", "engagement_external_id")
_ENGAGEMENT_KEYS = {"engagement": "name", "engagement_id": "pk", "engagement_external_id": "external_id"}
NO_ENGAGEMENT = {
    "engagement": gettext_lazy("No engagement '%(value)s' in this organization."),
    "engagement_id": gettext_lazy("No engagement with id '%(value)s' in this organization."),
    "engagement_external_id": gettext_lazy("No engagement with external_id '%(value)s' in this organization."),
}


def load_engagements(rows: list[_Row]) -> dict[str, dict[Any, Engagement]]:
    """The engagements the rows refer to, by reference column and key, in one query (none without references)."""
    names, external_ids = _column_values(rows, "engagement"), _column_values(rows, "engagement_external_id")
    ids = {int(value) for value in _column_values(rows, "engagement_id") if re.fullmatch(r"[0-9]{1,18}", value)}
    found: dict[str, dict[Any, Engagement]] = {column: {} for column in ENGAGEMENT_COLUMNS}
    if names or ids or external_ids:
        wanted = models.Q(name__in=names) | models.Q(pk__in=ids) | models.Q(external_id__in=external_ids - {""})
        for engagement in Engagement.objects.filter(wanted):
            for column, attribute in _ENGAGEMENT_KEYS.items():
                found[column][getattr(engagement, attribute)] = engagement
    return found


def engagement_of(row: _Row, context: _Context) -> Engagement | None:
    """The row's engagement, named by exactly one of ENGAGEMENT_COLUMNS, or None with an error on the cell; a
    provider manager's row must name an engagement of their provider."""
    given = [column for column in ENGAGEMENT_COLUMNS if row.text(column)]
    if len(given) != 1:
        row.error(
            given[1] if given else "engagement",
            _("Give the engagement by exactly one of engagement (its name), engagement_id or engagement_external_id."),
        )
        return None
    [column] = given
    text = row.text(column)
    if column == "engagement_id" and not re.fullmatch(r"[0-9]{1,18}", text):
        row.error(column, _("'%(value)s' is not an engagement id (a whole number).") % {"value": text})
        return None
    engagement = context.found[column].get(int(text) if column == "engagement_id" else text)
    if engagement is None:
        row.error(column, NO_ENGAGEMENT[column] % {"value": text})
    context.check_provider(row, column, engagement, f"'{text}'")
    return engagement
