"""Validators for organization settings (timezones, currencies, holiday calendars) and for typed dates."""

import zoneinfo
from datetime import date
from functools import cache

import holidays
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


@cache
def _timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_timezone(value: str) -> None:
    if value not in _timezones():
        raise ValidationError(_("%(value)s is not an IANA timezone such as Europe/London."), params={"value": value})


def validate_currency(value: str) -> None:
    if len(value) != 3 or not value.isalpha() or not value.isupper():
        raise ValidationError(_("Use a three-letter ISO 4217 currency code such as GBP."))


def validate_holiday_country(value: str) -> None:
    if value not in holidays.list_supported_countries():
        raise ValidationError(
            _("%(value)s has no public-holiday calendar; use an ISO code such as GB."), params={"value": value}
        )


# Every date and moment MLS reads from a person or a system (forms, CSV, API, statement months) lies in these
# years. Far from Python's and psycopg's limits (years 1 and 9999) on purpose: 9999-12-31T23:00 typed in a zone
# behind UTC is stored by PostgreSQL as year 10000, which no page can read back.
EARLIEST_YEAR = 1900
LATEST_YEAR = 2200


def is_sane_year(year: int) -> bool:
    return EARLIEST_YEAR <= year <= LATEST_YEAR


def validate_sane_date(value: date) -> None:
    """A date or datetime (as typed, in its own zone) in EARLIEST_YEAR..LATEST_YEAR."""
    if not is_sane_year(value.year):
        raise ValidationError(
            _("Give a year from %(earliest)s to %(latest)s."), params={"earliest": EARLIEST_YEAR, "latest": LATEST_YEAR}
        )
