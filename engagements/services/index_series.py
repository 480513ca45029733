"""Index series (e.g. CPI) and their monthly values, which index adjustments read."""

from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction

from engagements.models import IndexSeries, IndexValue
from mls.audit import save_audited
from mls.models import User


@transaction.atomic
def create_index_series(*, organization: Any, actor: User, name: str, description: str = "") -> IndexSeries:
    series = IndexSeries(organization=organization, name=name.strip(), description=description)
    return save_audited(series, actor=actor, action="index_series.created", changes={})


@transaction.atomic
def record_index_value(*, series: IndexSeries, actor: User, month: date, value: Decimal) -> IndexValue:
    """Enter or correct one month of an index series (procurement)."""
    existing = IndexValue.objects.filter(series=series, month=month).first()
    index_value = existing or IndexValue(organization=series.organization, series=series, month=month)
    return save_audited(index_value, actor=actor, action="index_value.recorded", changes={"value": value})
