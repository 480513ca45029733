"""Validators for organization settings (timezones, currencies, holiday calendars)."""

import zoneinfo
from functools import cache

import holidays
from django.core.exceptions import ValidationError


@cache
def _timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_timezone(value: str) -> None:
    if value not in _timezones():
        raise ValidationError("%(value)s is not an IANA timezone such as Europe/London.", params={"value": value})


def validate_currency(value: str) -> None:
    if len(value) != 3 or not value.isalpha() or not value.isupper():
        raise ValidationError("Use a three-letter ISO 4217 currency code such as GBP.")


def validate_holiday_country(value: str) -> None:
    if value not in holidays.list_supported_countries():
        raise ValidationError(
            "%(value)s has no public-holiday calendar; use an ISO code such as GB.", params={"value": value}
        )
