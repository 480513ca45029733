"""Create (or refresh) the demo tenant "Acme Corp" with one user per role and the provider Northwind Learning."""

from allauth.account.models import EmailAddress
from django.core.management.base import BaseCommand
from django.db import transaction
from django.test.utils import override_settings

from engagements.demo import seed_demo_contract
from mls.enums import Role
from mls.models import Membership, Organization, Provider, User
from mls.services import create_organization
from mls.tenancy import organization_scope
from scheduling.demo import seed_demo_delivery
from slas.demo import seed_demo_slas

DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105 - documented demo login, printed on the console
DEMO_ORGANIZATION = "Acme Corp"
DEMO_PROVIDER = "Northwind Learning"
DEMO_USERS: list[tuple[str, str, str, str]] = [
    ("owner@demo.test", "Olivia", "Owner", Role.OWNER),
    ("director@demo.test", "Dana", "Director", Role.LD_DIRECTOR),
    ("procurement@demo.test", "Priya", "Procurement", Role.PROCUREMENT),
    ("provider@demo.test", "Noah", "Northwind", Role.PROVIDER_MANAGER),
    ("viewer@demo.test", "Victor", "Viewer", Role.VIEWER),
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
        users = {email: _demo_user(email, first, last) for email, first, last, _role in DEMO_USERS}
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
            provider, _ = Provider.objects.get_or_create(
                organization=organization,
                name=DEMO_PROVIDER,
                defaults={"contact_email": "accounts@northwind.example"},
            )
            for email, _first, _last, role in DEMO_USERS:
                Membership.objects.update_or_create(
                    organization=organization,
                    user=users[email],
                    defaults={"role": role, "provider": provider if role == Role.PROVIDER_MANAGER else None},
                )
            memberships = {m.user.email: m for m in Membership.objects.select_related("user", "provider")}
            engagement = seed_demo_contract(organization, provider, memberships)
            sessions = seed_demo_delivery(engagement, memberships["provider@demo.test"])
            slas = seed_demo_slas(engagement, memberships["director@demo.test"].user)
        self.stdout.write(
            self.style.SUCCESS(f"Demo organization {organization.name} is ready (/o/{organization.slug}/).")
        )
        self.stdout.write(f"Engagement: {engagement.name} (signed SoW v1, change request awaiting the client).")
        self.stdout.write(f"Delivery: {sessions} sessions in Q3 2026 and December, with learners, tickets, feedback.")
        self.stdout.write(
            f"SLAs: {slas.targets} targets, {slas.finalized} months finalized with {slas.breaches} breaches, "
            f"{slas.credits} {engagement.currency} of service credits and {slas.escalations} escalations."
        )
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for email, _first, _last, role in DEMO_USERS:
            self.stdout.write(f"  {email:<24} {Role(role).label}")
