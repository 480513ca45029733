"""Create (or refresh) the demo tenant "Acme Corp": one user per role, the providers Northwind Learning and Kestrel
Skills (each with its own account manager and engagement), and a year of delivery ending with last month, measured
by the SLA engine, with its QBRs, governance meetings and a dispute."""

from allauth.account.models import EmailAddress
from django.core.management.base import BaseCommand
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from engagements.demo import seed_demo_contract, seed_demo_dispute, seed_demo_governance, seed_demo_second_contract
from mls.enums import Role
from mls.formatting import money
from mls.models import Membership, Organization, User
from mls.services import create_organization
from mls.tenancy import organization_scope
from reporting.models import QuarterlyReview
from reporting.services import generate_due_qbrs
from scheduling.demo import (
    KESTREL_YEAR,
    NORTHWIND_YEAR,
    demo_months,
    seed_demo_delivery,
    seed_demo_provider,
    seed_demo_reference,
)
from slas.demo import KESTREL_TARGETS, NORTHWIND_TARGETS, DemoSlas, Relief, seed_demo_slas
from slas.enums import ReliefKind

DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105 - documented demo login, printed on the console
DEMO_ORGANIZATION = "Acme Corp"
DEMO_PROVIDER = "Northwind Learning"
SECOND_PROVIDER = "Kestrel Skills"
# email, first and last name, role, provider (of a provider account manager)
DEMO_USERS: list[tuple[str, str, str, str, str]] = [
    ("owner@demo.test", "Olivia", "Owner", Role.OWNER, ""),
    ("director@demo.test", "Dana", "Director", Role.LD_DIRECTOR, ""),
    ("procurement@demo.test", "Priya", "Procurement", Role.PROCUREMENT, ""),
    ("provider@demo.test", "Noah", "Northwind", Role.PROVIDER_MANAGER, DEMO_PROVIDER),
    ("provider2@demo.test", "Kit", "Kestrel", Role.PROVIDER_MANAGER, SECOND_PROVIDER),
    ("viewer@demo.test", "Victor", "Viewer", Role.VIEWER, ""),
]


def _demo_user(email: str, first_name: str, last_name: str) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email, DEMO_PASSWORD, first_name=first_name, last_name=last_name)
    EmailAddress.objects.update_or_create(user=user, email=email, defaults={"verified": True, "primary": True})
    return user


class Command(BaseCommand):
    help = "Seed the demo organization Acme Corp (idempotent) and print the demo logins."

    def handle(self, *args: object, **options: object) -> None:
        # Learner notifications are sent on commit; demo learners are fictional, so nothing is sent at all.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
            self._seed()

    @transaction.atomic
    def _seed(self) -> None:
        now = timezone.now()
        months = demo_months(now)
        users = {email: _demo_user(email, first, last) for email, first, last, _role, _provider in DEMO_USERS}
        organization = Organization.objects.filter(slug="acme").first()
        if organization is None:
            organization = create_organization(
                owner=users["owner@demo.test"],
                name=DEMO_ORGANIZATION,
                timezone="Europe/London",
                currency="GBP",
                holiday_country="GB",
            )
            organization.slug = "acme"
            organization.save(update_fields=["slug"])
        with organization_scope(organization):
            memberships = self._memberships(organization, users)
            director, owner = memberships["director@demo.test"], memberships["owner@demo.test"]
            northwind, kestrel = memberships["provider@demo.test"], memberships["provider2@demo.test"]
            engagement = seed_demo_contract(organization, northwind.provider, memberships, months[0])
            second_months = demo_months(now, KESTREL_YEAR.months)
            second = seed_demo_second_contract(organization, kestrel.provider, memberships, second_months[0])
            seed_demo_reference(organization, owner, northwind)
            sessions = seed_demo_delivery(engagement, northwind, NORTHWIND_YEAR, now)
            sessions += seed_demo_delivery(second, kestrel, KESTREL_YEAR, now)
            power_cut = NORTHWIND_YEAR.outages[4]
            relief = Relief(
                day=months[4].replace(day=power_cut[0]),
                kind=ReliefKind.FORCE_MAJEURE,
                metrics=["platform_uptime"],
                reason="Regional power cut at the LMS host's data centre (the grid operator's incident report).",
            )
            slas = {
                engagement: seed_demo_slas(engagement, director, northwind, NORTHWIND_TARGETS, now, relief=relief),
                second: seed_demo_slas(second, director, kestrel, KESTREL_TARGETS, now),
            }
            seed_demo_governance(engagement, director, months, now, monthly=True)
            seed_demo_governance(second, director, second_months, now, monthly=False)
            seed_demo_dispute(engagement, northwind, director, months[9], now)
            for each in slas:
                generate_due_qbrs(engagement=each)
            qbrs = QuarterlyReview.objects.count()
        self.stdout.write(
            self.style.SUCCESS(f"Demo organization {organization.name} is ready (/o/{organization.slug}/).")
        )
        self.stdout.write(
            f"Engagements: {engagement.name} ({DEMO_PROVIDER}: signed SoW, change request awaiting the client, "
            f"a dispute) and {second.name} ({SECOND_PROVIDER})."
        )
        self.stdout.write(
            f"Delivery: {sessions} sessions from {months[0]:%B %Y} to the coming weeks, with learners, tickets, "
            f"feedback; {qbrs} QBRs of finished quarters."
        )
        for each, result in slas.items():
            self.stdout.write(f"SLAs of {each.name}: {_sla_summary(result, each.currency)}")
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for email, _first, _last, role, provider in DEMO_USERS:
            self.stdout.write(f"  {email:<24} {Role(role).label}{f' ({provider})' if provider else ''}")

    def _memberships(self, organization: Organization, users: dict[str, User]) -> dict[str, Membership]:
        """The client's members first: procurement adds the providers whose account managers join then."""
        contacts = {DEMO_PROVIDER: "accounts@northwind.example", SECOND_PROVIDER: "hello@kestrel.example"}
        for email, _first, _last, role, provider in DEMO_USERS:
            if not provider:
                Membership.objects.update_or_create(
                    organization=organization, user=users[email], defaults={"role": role}
                )
        procurement = Membership.objects.select_related("user", "organization").get(user=users["procurement@demo.test"])
        for email, _first, _last, role, name in DEMO_USERS:
            if name:
                provider = seed_demo_provider(procurement, name, contacts[name])
                Membership.objects.update_or_create(
                    organization=organization, user=users[email], defaults={"role": role, "provider": provider}
                )
        return {m.user.email: m for m in Membership.objects.select_related("user", "provider", "organization")}


def _sla_summary(result: DemoSlas, currency: str) -> str:
    return (
        f"{_counted(result.targets, 'target')}, {_counted(result.finalized, 'month')} finalized with "
        f"{_counted(result.breaches, 'breach', 'breaches')}, {money(result.credits, currency)} of service credits "
        f"({result.earned_back} earned back) and {_counted(result.escalations, 'escalation')}."
    )


def _counted(number: int, one: str, many: str = "") -> str:
    """`1, "breach", "breaches"` → "1 breach"; the console reads like the pages."""
    return f"{number} {one if number == 1 else many or one + 's'}"
