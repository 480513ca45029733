"""Factories for the contracts domain: a signed retainer SoW is one call away."""

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import factory
from django.core.files.base import ContentFile

from engagements import services
from engagements.enums import (
    EngagementModel,
    LineBasis,
    MeetingKind,
    PricingModel,
    Responsibility,
    Side,
    StandardService,
    VendorModel,
)
from engagements.models import (
    ChangeRequest,
    Dispute,
    Engagement,
    GovernanceMeeting,
    IndexSeries,
    MeetingAction,
    OutcomeMeasurement,
    ScopeItem,
    ServiceLine,
    Sow,
    SowVersion,
)
from mls.enums import Role
from reporting.enums import ExportStatus
from reporting.models import DataExport
from scheduling import import_jobs
from scheduling import services as delivery_services
from scheduling.enums import Modality
from scheduling.models import (
    ComplianceRequirement,
    Course,
    Enrollment,
    ImportJob,
    Learner,
    Outage,
    Room,
    Session,
    SupportTicket,
    Venue,
)
from slas import services as sla_services
from slas.enums import EscalationLevel, ReliefKind
from slas.models import Escalation, ManualMeasurement, Measurement, ReliefEvent, SlaSchedule, SlaTarget
from slas.periods import Period
from tests.factories import OrganizationFactory, ProviderFactory
from vendors import services as vendor_services
from vendors.models import Instructor, InstructorQualification, Supplier


class EngagementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Engagement

    organization = factory.SubFactory(OrganizationFactory)
    provider = factory.SubFactory(ProviderFactory, organization=factory.SelfAttribute("..organization"))
    name = factory.Sequence(lambda n: f"Managed learning {n}")
    engagement_model = EngagementModel.MANAGED_SERVICES
    vendor_model = VendorModel.MASTER_SERVICE_PROVIDER
    currency = "GBP"
    timezone = "Europe/London"
    holiday_country = "GB"
    holiday_subdivision = "ENG"
    start_date = date(2026, 1, 1)
    end_date = date(2028, 12, 31)
    annual_value = Decimal("579000.00")


class SowFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Sow

    engagement = factory.SubFactory(EngagementFactory)
    organization = factory.SelfAttribute("engagement.organization")
    reference = factory.Sequence(lambda n: f"SOW-{n}")
    title = "Learning operations"


class SowVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SowVersion

    sow = factory.SubFactory(SowFactory)
    organization = factory.SelfAttribute("sow.organization")
    number = 1
    effective_from = date(2026, 1, 1)
    pricing_model = PricingModel.RETAINER


def draft_retainer_version(sow: Sow, monthly: str = "48250.00", number: int = 1) -> SowVersion:
    """A complete draft: two scope rows and one retainer line, ready to sign."""
    version = SowVersionFactory(sow=sow, number=number)
    ScopeItem.objects.create(
        organization=sow.organization,
        version=version,
        service=StandardService.SCHEDULING,
        responsibility=Responsibility.INCLUDED,
    )
    ScopeItem.objects.create(
        organization=sow.organization,
        version=version,
        service=StandardService.CONTENT_DEVELOPMENT,
        responsibility=Responsibility.CLIENT_RETAINED,
    )
    ServiceLine.objects.create(
        organization=sow.organization,
        version=version,
        name="Learning operations retainer",
        basis=LineBasis.FIXED,
        amount=Decimal(monthly),
    )
    return version


def outcome_based_version(
    sow: Sow, *, gain_share: str = "15", baseline: str | None = "70", uplift: str = "5"
) -> SowVersion:
    """A draft outcome-based version: a 10,000.00 base fee and a gain share on an outcome metric, ready to sign."""
    version = SowVersionFactory(sow=sow, pricing_model=PricingModel.OUTCOME_BASED)
    ScopeItem.objects.create(
        organization=sow.organization,
        version=version,
        service=StandardService.LEARNER_SUPPORT,
        responsibility=Responsibility.INCLUDED,
    )
    ServiceLine.objects.create(
        organization=sow.organization, version=version, name="Base fee", basis=LineBasis.FIXED, amount=Decimal("10000")
    )
    ServiceLine.objects.create(
        organization=sow.organization,
        version=version,
        name="First-time-fix gain share",
        basis=LineBasis.GAIN_SHARE,
        gain_share_percent=Decimal(gain_share),
        baseline=None if baseline is None else Decimal(baseline),
        required_uplift=Decimal(uplift),
    )
    return version


def submitted_outcome(tenant: object) -> OutcomeMeasurement:
    """An outcome-based engagement of the tenant's provider (signed from 2026-01) whose provider manager has
    submitted March 2026's outcome value (80 against a target of 70 + 5); the client has not verified it yet."""
    engagement = EngagementFactory(organization=tenant.organization, provider=tenant.provider)
    sow = SowFactory(engagement=engagement)
    with tenant.scope():
        version = services.sign_version(version=outcome_based_version(sow), actor=tenant.user(Role.PROCUREMENT))
        return services.submit_outcome_measurement(
            service_line=version.service_lines.get(basis=LineBasis.GAIN_SHARE),
            membership=tenant.members[Role.PROVIDER_MANAGER],
            month=date(2026, 3, 1),
            value=Decimal("80"),
            evidence="Service desk report, March 2026: first-time fix 80 %",
            now=datetime(2026, 4, 2, 9, 0, tzinfo=UTC),
        )


@dataclass
class Contract:
    engagement: Engagement
    sow: Sow
    signed_version: SowVersion
    change_request: ChangeRequest
    proposal_scope_item: ScopeItem
    meeting: GovernanceMeeting
    action: MeetingAction
    dispute: Dispute
    index_series: IndexSeries
    session: Session
    enrollment: Enrollment
    venue: Venue
    room: Room
    supplier: Supplier
    instructor: Instructor
    qualification: InstructorQualification
    import_job: ImportJob
    ticket: SupportTicket
    requirement: ComplianceRequirement
    sla_schedule: SlaSchedule
    sla_target: SlaTarget
    measurement: Measurement
    relief: ReliefEvent
    manual_measurement: ManualMeasurement
    data_export: DataExport
    outage: Outage
    escalation: Escalation
    import_batch: uuid.UUID  # two files the provider's manager uploaded together


def signed_contract_with_proposal(tenant: object) -> Contract:
    """An engagement with tenant's provider, a signed SoW v1 and the provider's draft change request (v2)."""
    engagement = EngagementFactory(organization=tenant.organization, provider=tenant.provider)
    sow = SowFactory(engagement=engagement)
    with tenant.scope():
        version = services.sign_version(version=draft_retainer_version(sow), actor=tenant.user(Role.PROCUREMENT))
        change_request = services.propose_change_request(
            sow=sow, membership=tenant.members[Role.PROVIDER_MANAGER], title="More support", description="Extend."
        )
        scope_item = change_request.proposed_version.scope_items.first()
        director = tenant.members[Role.LD_DIRECTOR]
        meeting = services.schedule_meeting(
            engagement=engagement,
            membership=director,
            kind=MeetingKind.MONTHLY_OPERATIONAL_REVIEW,
            scheduled_for=datetime(2026, 3, 2, 10, 0, tzinfo=UTC),
            agenda="SLA results; open actions",
        )
        action = services.add_meeting_action(
            meeting=meeting,
            membership=director,
            description="Send the February ticket log",
            owner_side=Side.PROVIDER,
            owner_name="Noah",
            due_on=date(2026, 3, 9),
        )
        dispute = services.open_dispute(
            engagement=engagement, membership=director, title="Invoice 2026-02", description="Credits missing."
        )
        index_series = services.create_index_series(
            organization=tenant.organization, actor=director.user, name="UK CPI"
        )
        provider_manager = tenant.members[Role.PROVIDER_MANAGER]
        course = Course.objects.create(
            organization=tenant.organization, code="LEAD-1", title="Leading teams", duration_hours=3
        )
        session = delivery_services.request_session(
            engagement=engagement,
            membership=provider_manager,
            course=course,
            modality=Modality.VILT,
            starts_at=datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
            ends_at=datetime(2026, 3, 2, 12, 0, tzinfo=UTC),
            capacity=10,
            join_url="https://meet.example/lead-1",
        )
        learner = Learner.objects.create(organization=tenant.organization, name="Ada Learner", email="ada@acme.example")
        enrollment = delivery_services.enroll(session=session, learner=learner, membership=provider_manager)
        venue = delivery_services.add_venue(
            organization=tenant.organization, membership=provider_manager, name="HQ", timezone="Europe/London"
        )
        room = delivery_services.add_room(venue=venue, membership=provider_manager, name="Room 1", capacity=12)
        supplier = vendor_services.add_supplier(
            membership=provider_manager, provider=tenant.provider, name="Brightpath Training"
        )
        instructor = vendor_services.add_instructor(
            membership=provider_manager, provider=tenant.provider, supplier=supplier, name="Ines", email="ines@x.test"
        )
        qualification = vendor_services.add_qualification(
            instructor=instructor, membership=provider_manager, name="First aid", expires_on=date(2027, 1, 31)
        )
        ticket = delivery_services.log_ticket(
            engagement=engagement,
            membership=provider_manager,
            category="enrollment",
            subject="Cannot see my session",
            opened_at=datetime(2026, 3, 2, 8, 0, tzinfo=UTC),
        )
        requirement = ComplianceRequirement.objects.create(organization=tenant.organization, name="Data protection")
        outage = delivery_services.log_outage(
            engagement=engagement,
            membership=provider_manager,
            starts_at=datetime(2026, 3, 3, 7, 0, tzinfo=UTC),
            ends_at=datetime(2026, 3, 3, 7, 40, tzinfo=UTC),
            planned=False,
            description="Virtual classroom unavailable",
        )
        import_job = import_jobs.upload(
            organization=tenant.organization,
            membership=provider_manager,
            kind="learners",
            filename="learners.csv",
            text="external_id,name,email\nHR-1,Ada Learner,ada@acme.example\n",
        )
        import_batch = import_jobs.upload_batch(
            organization=tenant.organization,
            membership=provider_manager,
            kind=import_jobs.DETECT,
            files=[
                import_jobs.UploadedFile(
                    "batch-learners.csv", "external_id,name,email\nHR-2,Bo Learner,bo@acme.example\n"
                ),
                import_jobs.UploadedFile(
                    "batch-tickets.csv",
                    "external_id,category,subject,opened_at\nT-9,technical,Slow,2026-03-02T09:00:00+00:00\n",
                ),
            ],
        )
        owner = tenant.user(Role.OWNER)
        sla_schedule = sla_services.create_schedule(engagement=engagement, actor=owner, at_risk_percent=Decimal("12"))
        sla_target = sla_services.save_target(
            schedule=sla_schedule,
            actor=owner,
            metric="support_first_response",
            target=Decimal("95"),
            allocation_percent=Decimal("40"),
            active_from=date(2026, 3, 1),
        )
        march = sla_services.compute_period(
            engagement=engagement,
            period=Period(date(2026, 3, 1), engagement.timezone),
            now=datetime(2026, 3, 10, tzinfo=UTC),
        )
        measurement = march.measurements.get()
        relief = sla_services.request_relief(
            engagement=engagement,
            membership=provider_manager,
            kind=ReliefKind.CLIENT_CAUSED,
            starts_on=date(2026, 3, 16),
            ends_on=date(2026, 3, 17),
            metrics=[],
            reason="The client's LMS was frozen for its migration",
        )
        manual_measurement = sla_services.submit_manual_measurement(
            engagement=engagement,
            membership=provider_manager,
            month=date(2026, 3, 1),
            metric="completion_reporting_accuracy",
            value=Decimal("98.50"),
            sample_size=40,
            evidence=ContentFile(b"record,matches\nC-1,yes\n", name="accuracy-audit.csv"),
            note="",
        )
        # An open notice, stored as is: the ladder that raises one is tests/slas' job.
        escalation = Escalation.objects.create(
            organization=tenant.organization,
            engagement=engagement,
            period=march,
            metric="support_first_response",
            level=EscalationLevel.NOTICE,
            breaches=1,
            respond_by=datetime(2026, 4, 8, 17, 0, tzinfo=UTC),
        )
        # A finished data export, stored as is: building a real one is tests/reporting/test_portability.py's job.
        data_export = DataExport.objects.create(
            organization=tenant.organization,
            requested_by=owner,
            status=ExportStatus.SUCCEEDED,
            file=ContentFile(b"PK\x05\x06" + bytes(18), name="mls-data.zip"),
            size=22,
            sha256="0" * 64,
        )
    return Contract(
        engagement,
        sow,
        version,
        change_request,
        scope_item,
        meeting,
        action,
        dispute,
        index_series,
        session,
        enrollment,
        venue,
        room,
        supplier,
        instructor,
        qualification,
        import_job,
        ticket,
        requirement,
        sla_schedule,
        sla_target,
        measurement,
        relief,
        manual_measurement,
        data_export,
        outage,
        escalation,
        import_batch,
    )


@dataclass
class ProviderDelivery:
    """One provider's own delivery in a tenant: what another provider's account manager must not see or change."""

    engagement: Engagement
    session: Session
    enrollment: Enrollment
    ticket: SupportTicket
    import_job: ImportJob


def provider_delivery(tenant: object, manager: object) -> ProviderDelivery:
    """An engagement of `manager`'s provider with a session (external_id SW-S-1), an enrollment (SW-E-1), a ticket
    (SW-T-1) and an uploaded import job, each written by `manager` through the services, as the provider would."""
    engagement = EngagementFactory(
        organization=tenant.organization, provider=manager.provider, name=f"{manager.provider.name} delivery"
    )
    with tenant.scope():
        course = Course.objects.create(organization=tenant.organization, code="SW-1", title="Safety", duration_hours=2)
        session = delivery_services.request_session(
            engagement=engagement,
            membership=manager,
            course=course,
            modality=Modality.VILT,
            starts_at=datetime(2026, 3, 3, 9, 0, tzinfo=UTC),
            ends_at=datetime(2026, 3, 3, 11, 0, tzinfo=UTC),
            capacity=10,
            join_url="https://meet.example/sw-1",
        )
        Session.objects.filter(pk=session.pk).update(external_id="SW-S-1")
        learner = Learner.objects.create(
            organization=tenant.organization, name="Sam Southwind", email="sam@acme.example", external_id="SW-L-1"
        )
        enrollment = delivery_services.enroll(session=session, learner=learner, membership=manager)
        Enrollment.objects.filter(pk=enrollment.pk).update(external_id="SW-E-1")
        ticket = delivery_services.log_ticket(
            engagement=engagement,
            membership=manager,
            category="enrollment",
            subject="Cannot join",
            opened_at=datetime(2026, 3, 3, 8, 0, tzinfo=UTC),
        )
        SupportTicket.objects.filter(pk=ticket.pk).update(external_id="SW-T-1")
        import_job = import_jobs.upload(
            organization=tenant.organization,
            membership=manager,
            kind="learners",
            filename="southwind-learners.csv",
            text="external_id,name,email\nSW-2,Sid Southwind,sid@acme.example\n",
        )
        for row in (session, enrollment, ticket):
            row.refresh_from_db()
    return ProviderDelivery(engagement, session, enrollment, ticket, import_job)
