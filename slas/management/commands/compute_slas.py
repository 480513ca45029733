"""Operators' entry to the SLA engine: recompute provisional periods, or finalize those past their grace days,
for every engagement with an SLA schedule (or one organization / engagement / month)."""

from argparse import ArgumentParser
from collections import Counter
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from engagements.models import Engagement
from mls.models import Organization
from mls.tenancy import organization_scope
from slas import services
from slas.models import SlaPeriod
from slas.periods import Period
from slas.selectors import engagements_with_sla


class Command(BaseCommand):
    help = "Compute SLA measurements (provisional) or, with --finalize, close periods past their grace days."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--organization", help="Organization slug (default: all).")
        parser.add_argument("--engagement", type=int, help="Engagement id (needs --organization).")
        parser.add_argument("--period", help="Month YYYY-MM in the engagement's timezone (default: every open one).")
        parser.add_argument(
            "--finalize", action="store_true", help="Finalize periods whose grace days are over (in order)."
        )

    def handle(self, *args: object, **options: object) -> None:
        if options["engagement"] and not options["organization"]:
            raise CommandError("--engagement needs --organization (engagement ids are per tenant).")
        organizations = Organization.objects.order_by("slug")
        if options["organization"]:
            organizations = organizations.filter(slug=options["organization"])
            if not organizations.exists():
                raise CommandError(f"No organization with slug {options['organization']!r}.")
        for organization in organizations:
            with organization_scope(organization):
                engagements = engagements_with_sla()
                if options["engagement"]:
                    engagements = engagements.filter(pk=options["engagement"])
                    if not engagements.exists():
                        raise CommandError(f"Engagement {options['engagement']} has no SLA schedule here.")
                for engagement in engagements:
                    self._run(engagement, options["period"], finalize=options["finalize"])

    def _run(self, engagement: Engagement, month: str | None, *, finalize: bool) -> None:
        now = timezone.now()
        try:
            if month:
                period = Period.parse(month, engagement.timezone)
                run = services.finalize_period if finalize else services.compute_period
                rows = [run(engagement=engagement, period=period, now=now)]
            elif finalize:
                rows = services.finalize_due_periods(engagement=engagement, now=now)
            else:
                rows = services.recompute_open_periods(engagement=engagement, now=now)
        except ValueError as error:
            raise CommandError(str(error)) from error
        except ValidationError as error:
            raise CommandError(f"{engagement}: {' '.join(error.messages)}") from error
        for row in rows:
            self.stdout.write(self._describe(engagement, row))
        if not rows:
            self.stdout.write(f"{engagement.organization.slug} · {engagement}: nothing to do")

    def _describe(self, engagement: Engagement, row: SlaPeriod) -> str:
        counts = Counter(row.measurements.values_list("status", flat=True))
        summary = ", ".join(f"{count} {status}" for status, count in sorted(counts.items())) or "no targets"
        total = sum((credit.amount for credit in row.credits.all()), Decimal("0.00"))
        credits = f"; credits {total} {engagement.currency}" if row.is_finalized else ""
        return f"{engagement.organization.slug} · {engagement} · {row.month:%Y-%m} {row.status}: {summary}{credits}"
