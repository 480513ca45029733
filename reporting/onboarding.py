"""The "Get started" checklist on a young organization's dashboard. Each step ticks itself from the tenant's own
rows — nothing is stored — so a step done through the API or a CSV import ticks just as one done in the pages."""

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext as _

from engagements.models import Engagement
from mls.enums import Role
from mls.models import ApiToken, Invitation, Membership, Organization, Provider
from scheduling.models import ImportJob, ImportStatus, Session
from slas.models import Measurement


@dataclass(frozen=True)
class OnboardingStep:
    title: str
    help: str
    url_name: str  # an organization route (slug added by the template's org_url)
    done: bool


def _exists(rows: object) -> Exists:
    return Exists(rows.filter(organization=OuterRef("pk")))


def onboarding_steps(organization: Organization) -> list[OnboardingStep]:
    """The four steps from sign-up to a first SLA month, in the order they depend on each other; one query."""
    manager = Q(role=Role.PROVIDER_MANAGER)
    flags = (
        Organization.objects.filter(pk=organization.pk)
        .annotate(
            has_provider=_exists(Provider.objects.all()),
            invited_manager=_exists(Membership.objects.filter(manager))
            | _exists(Invitation.objects.filter(manager, revoked_at__isnull=True)),
            has_engagement=_exists(Engagement.objects.all()),
            has_delivery=_exists(Session.objects.all())
            | _exists(ImportJob.objects.filter(status=ImportStatus.SUCCEEDED))
            | _exists(ApiToken.objects.filter(revoked_at__isnull=True)),
            has_sla_month=_exists(Measurement.objects.all()),
        )
        .values("has_provider", "invited_manager", "has_engagement", "has_delivery", "has_sla_month")
        .get()
    )
    return [
        OnboardingStep(
            _("Add your provider and invite its account manager"),
            _("The training provider you contract with, and the person there who logs its delivery."),
            "vendors:providers" if flags["has_provider"] else "vendors:provider_create",  # none yet: add one
            flags["has_provider"] and flags["invited_manager"],
        ),
        OnboardingStep(
            _("Create an engagement from a template"),
            _(
                "Four short steps: a template fills in the scope, pricing, SLA targets and meetings; you set the dates "
                "and the money."
            ),
            "engagements:create",
            flags["has_engagement"],
        ),
        OnboardingStep(
            _("Import or connect delivery data"),
            _("Upload sessions and attendance as CSV, log them here, or connect your LMS with an API token."),
            "scheduling:imports",
            flags["has_delivery"],
        ),
        OnboardingStep(
            _("See your first SLA month"),
            _("Once delivery is in, each month's service levels are measured against the targets."),
            "slas:list",
            flags["has_sla_month"],
        ),
    ]


def checklist_for(membership: Membership, organization: Organization) -> list[OnboardingStep] | None:
    """The checklist to show, or None: hidden once every step is done, and from a provider's account manager,
    whose organization the client sets up."""
    if membership.is_provider_side:
        return None
    steps = onboarding_steps(organization)
    return None if all(step.done for step in steps) else steps
