"""Engagement templates: creating a whole engagement from one (the wizard's single write) and saving an engagement
as its organization's own template.

Not re-exported by `engagements.services`: creating from a template also writes the SLA schedule and its targets
through `slas.services`, which itself imports this package, so the orchestration is imported by its callers
(`engagements.views_wizard`) once both domains are loaded. Every row is written by the domain service that owns
it — the engagement, SoW, scope and lines here, the schedule and targets in slas, the meetings in governance — so
their rules and audit events are the same as on the individual pages.
"""

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from engagements.enums import LineBasis, MeetingKind, PricingModel, StandardService, VersionStatus
from engagements.models import Engagement, EngagementTemplate, SowVersion
from engagements.template_content import (
    BUILT_IN_PREFIX,
    BUILT_IN_TEMPLATES,
    CadenceSpec,
    LineSpec,
    TargetSpec,
    TemplateContent,
)
from mls.enums import Permission
from mls.models import Membership, Organization, Provider
from slas import services as sla_services
from slas.models import SlaSchedule

from .engagements import create_engagement
from .governance import schedule_meeting
from .sows import add_service_line, create_sow, set_scope_item, update_draft_version

MEETING_HOUR = time(10, 0)  # local time of the engagement
MEETING_DAY = {MeetingKind.MONTHLY_OPERATIONAL_REVIEW: 15, MeetingKind.QUARTERLY_BUSINESS_REVIEW: 20}
AGENDAS = {
    MeetingKind.MONTHLY_OPERATIONAL_REVIEW: gettext_lazy(
        "Last month's SLA results and breaches, delivery volumes, open tickets and escalations, actions from the "
        "previous review."
    ),
    MeetingKind.QUARTERLY_BUSINESS_REVIEW: gettext_lazy(
        "Performance against the SLAs for the quarter, training volume against forecast, compliance delivery, change "
        "requests, the plan for the next quarter."
    ),
}
# How often a kind of meeting recurs when an engagement is saved as a template.
CADENCE_MONTHS = {MeetingKind.MONTHLY_OPERATIONAL_REVIEW: 1, MeetingKind.QUARTERLY_BUSINESS_REVIEW: 3}

# The SoW an engagement made from a template starts with (the wizard shows it before it is written).
FIRST_SOW_REFERENCE = "SOW-001"


@dataclass(frozen=True)
class ChosenTemplate:
    choice: str  # "builtin:<key>" or the pk of the organization's own template
    name: str
    content: TemplateContent
    built_in: bool


@dataclass(frozen=True)
class EngagementPlan:
    """What the wizard collected: the template, the contract's names, dates and money, and the SLA targets kept
    (the template's, edited). The service fills in everything else from the template."""

    template: ChosenTemplate
    provider: Provider
    name: str
    start_date: date
    end_date: date
    currency: str
    annual_value: Decimal
    annual_budget: Decimal | None
    forecast_learners: int
    lines: tuple[LineSpec, ...]
    at_risk_percent: Decimal
    targets: tuple[TargetSpec, ...]


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the month's last day when it is shorter)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    next_first = date(year + month // 12, month % 12 + 1, 1)
    return min(day.replace(year=year, month=month, day=1) + timedelta(days=day.day - 1), next_first - timedelta(1))


def default_end_date(start: date, content: TemplateContent) -> date:
    """The renewal date of a term of `term_months` from `start`: the day before the term's anniversary."""
    return add_months(start, content.term_months) - timedelta(days=1)


def default_monthly_amount(line: LineSpec, annual_value: Decimal | None, lines: tuple[LineSpec, ...]) -> Decimal:
    """A fixed-fee line left blank: a twelfth of the annual value when it is the only fixed line."""
    fixed = [other for other in lines if other.basis == LineBasis.FIXED]
    if annual_value and fixed == [line]:
        return (annual_value / 12).quantize(Decimal("0.01"))
    return line.amount


# --- Choosing a template ------------------------------------------------------------------------------------


def available_templates() -> list[ChosenTemplate]:
    """The built-in templates, then the organization's own (call inside its scope: the manager is scoped)."""
    built_in = [
        ChosenTemplate(BUILT_IN_PREFIX + key, template.name, template.content, built_in=True)
        for key, template in BUILT_IN_TEMPLATES.items()
    ]
    own = []
    for template in EngagementTemplate.objects.order_by("name"):
        try:
            content = TemplateContent.from_json(template.content)
            own.append(ChosenTemplate(str(template.pk), template.name, content, built_in=False))
        except ValidationError:
            continue  # an unreadable template is not offered rather than breaking the wizard
    return built_in + own


def chosen_template(choice: str) -> ChosenTemplate:
    """The template behind a wizard choice; another organization's template is unknown here (scoped manager)."""
    for template in available_templates():
        if template.choice == choice:
            return template
    raise ValidationError({"template": _("Choose one of the templates listed.")})


# --- Creating an engagement from a template -------------------------------------------------------------------


def check_create_from_template(membership: Membership) -> None:
    """The wizard writes contract terms and SLA terms: it takes both permissions."""
    needed = (Permission.MANAGE_CONTRACTS, Permission.MANAGE_SLAS)
    if not all(membership.has_permission(permission) for permission in needed):
        raise PermissionDenied(_("Creating an engagement takes the contract and SLA permissions."))


@transaction.atomic
def create_engagement_from_template(
    *, organization: Organization, membership: Membership, plan: EngagementPlan, now: datetime | None = None
) -> Engagement:
    """The engagement, its SoW with a draft v1 (scope matrix, priced lines), its SLA schedule and targets and its
    first governance meetings: all of it or, on any refusal, none of it."""
    now = now or timezone.now()
    check_create_from_template(membership)
    actor, content = membership.user, plan.template.content
    engagement = create_engagement(
        organization=organization,
        actor=actor,
        provider=plan.provider,
        name=plan.name,
        engagement_model=content.engagement_model,
        vendor_model=content.vendor_model,
        currency=plan.currency,
        timezone=organization.timezone,
        holiday_country=organization.holiday_country,
        holiday_subdivision=organization.holiday_subdivision,
        start_date=plan.start_date,
        end_date=plan.end_date,
        annual_value=plan.annual_value,
        annual_budget=plan.annual_budget,
        termination_notice_days=content.termination_notice_days,
        renewal_notice_days=content.renewal_notice_days,
    )
    sow = create_sow(
        engagement=engagement,
        actor=actor,
        reference=FIRST_SOW_REFERENCE,
        title=content.sow_title,
        effective_from=plan.start_date,
        pricing_model=content.pricing_model,
    )
    version = sow.versions.get()
    update_draft_version(version=version, actor=actor, forecast_learners=plan.forecast_learners)
    for service, responsibility in content.scope:
        set_scope_item(version=version, actor=actor, service=service, responsibility=responsibility)
    for line in plan.lines:
        _add_line(version, actor, line)
    schedule = sla_services.create_schedule(engagement=engagement, actor=actor, at_risk_percent=plan.at_risk_percent)
    for target in plan.targets:
        sla_services.save_target(
            schedule=schedule,
            actor=actor,
            metric=target.metric,
            target=target.target,
            threshold=target.threshold,
            allocation_percent=target.allocation_percent,
            active_from=plan.start_date,
        )
    for cadence in content.meetings:
        for scheduled_for in _meeting_times(engagement, cadence, now):
            schedule_meeting(
                engagement=engagement,
                membership=membership,
                kind=cadence.kind,
                scheduled_for=scheduled_for,
                agenda=str(AGENDAS.get(cadence.kind, MeetingKind(cadence.kind).label)),
            )
    return engagement


def _add_line(version: SowVersion, actor: Any, line: LineSpec) -> None:
    fields: dict[str, Any] = {"name": line.name, "basis": line.basis}
    if line.basis == LineBasis.FIXED:
        fields["amount"] = line.amount
    elif line.basis == LineBasis.PER_LEARNER:
        fields["included_learners"] = line.included_learners
    elif line.basis == LineBasis.UNIT:
        fields.update(unit_price=line.unit_price, usage_key=line.usage_key)
    add_service_line(version=version, actor=actor, bands=list(line.bands), **fields)


def _meeting_times(engagement: Engagement, cadence: CadenceSpec, now: datetime) -> list[datetime]:
    """Each review after a block of `every_months` in the first `months` months, on its usual day at 10:00 local
    time; a date already past is not scheduled (an engagement entered after its start)."""
    zone, day = engagement.calendar.zone, MEETING_DAY.get(cadence.kind, 15)
    first = engagement.start_date.replace(day=1)
    times = []
    for offset in range(cadence.every_months, cadence.months + 1, cadence.every_months):
        month = add_months(first, offset)
        moment = timezone.make_aware(datetime.combine(month.replace(day=day), MEETING_HOUR), zone)
        if moment > now and month <= engagement.end_date:
            times.append(moment)
    return times


# --- Saving an engagement as a template ---------------------------------------------------------------------


def check_save_as_template(membership: Membership, engagement: Engagement) -> None:
    """Contract managers of the client save templates; an engagement without a SoW has nothing to reuse."""
    if not membership.has_permission(Permission.MANAGE_CONTRACTS) or membership.is_provider_side:
        raise PermissionDenied(_("Only the client's contract managers save engagement templates."))
    if not engagement.sows.exists():
        raise ValidationError(_("This engagement has no SoW yet: there is no scope or pricing to reuse."))


def template_content_of(engagement: Engagement) -> TemplateContent:
    """The engagement's shape: its first SoW's signed (else latest) version, SLA terms and meeting kinds."""
    versions = SowVersion.objects.filter(sow__engagement=engagement).order_by("sow__reference", "-number")
    version = versions.filter(status=VersionStatus.SIGNED).first() or versions.first()
    schedule = SlaSchedule.objects.filter(engagement=engagement).prefetch_related("targets").first()
    today = timezone.localdate()
    targets = [t for t in schedule.targets.all() if t.active_to is None or t.active_to >= today] if schedule else []
    kinds = set(engagement.meetings.values_list("kind", flat=True))
    months = (engagement.end_date.year - engagement.start_date.year) * 12
    months += engagement.end_date.month - engagement.start_date.month + 1
    return TemplateContent(
        description=_("Saved from %(engagement)s.") % {"engagement": engagement.name},
        engagement_model=engagement.engagement_model,
        vendor_model=engagement.vendor_model,
        term_months=max(1, min(months, 120)),
        termination_notice_days=engagement.termination_notice_days,
        renewal_notice_days=engagement.renewal_notice_days,
        sow_title=version.sow.title,
        pricing_model=version.pricing_model,
        forecast_learners=version.forecast_learners,
        at_risk_percent=schedule.at_risk_percent if schedule else Decimal("10"),
        lines=tuple(
            LineSpec(
                name=line.name,
                basis=line.basis,
                amount=line.amount,
                included_learners=line.included_learners,
                unit_price=line.unit_price,
                usage_key=line.usage_key,
                bands=tuple((band.up_to, band.rate) for band in line.bands.all()),
            )
            for line in version.service_lines.prefetch_related("bands")
            if line.basis != LineBasis.GAIN_SHARE  # a gain share needs its own baseline: agreed per engagement
        ),
        scope=tuple(
            (item.service, item.responsibility)
            for item in version.scope_items.all()
            if item.service != StandardService.CUSTOM
        ),
        targets=tuple(
            TargetSpec(t.metric, t.target, t.allocation_percent, t.threshold)
            for t in sorted(targets, key=lambda t: t.metric)
        ),
        meetings=tuple(CadenceSpec(kind, every) for kind, every in CADENCE_MONTHS.items() if kind in kinds),
    )


@transaction.atomic
def save_engagement_as_template(*, engagement: Engagement, membership: Membership, name: str) -> EngagementTemplate:
    check_save_as_template(membership, engagement)
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Name the template.")})
    if name in {template.name for template in BUILT_IN_TEMPLATES.values()} or (
        EngagementTemplate.objects.filter(name=name).exists()
    ):
        raise ValidationError({"name": _("There is already a template named %(name)s.") % {"name": name}})
    content = template_content_of(engagement)
    if content.pricing_model == PricingModel.OUTCOME_BASED:
        # Without its gain-share line an outcome-based SoW cannot be signed: the template prices it as a retainer.
        content = replace(content, pricing_model=PricingModel.RETAINER)
    template = EngagementTemplate(
        organization=engagement.organization,
        name=name,
        content=content.to_json(),
        saved_from=engagement,
        created_by=membership.user,
    )
    template.full_clean()
    template.save()
    template.log_action("engagement_template.saved", actor=membership.user)
    return template
