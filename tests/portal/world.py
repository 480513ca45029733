"""Two client organizations with learners who could be confused: A's learner Ada, a second learner of A (Bea), and
a learner of the other organization with Ada's very email. Each has sessions, mandatory training and completions,
so any leak between them shows on the page."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.test import Client
from django.urls import reverse

from engagements.models import Engagement
from mls.enums import Role
from mls.tenancy import organization_scope
from portal import services
from scheduling.enums import EnrollmentStatus, Modality, SessionStatus
from scheduling.models import (
    Completion,
    ComplianceAssignment,
    ComplianceRequirement,
    Course,
    Enrollment,
    Learner,
    Room,
    Session,
)
from tests.conftest import Tenant
from tests.factories.engagements import EngagementFactory

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


def make_course(organization: object, code: str, title: str) -> Course:
    return Course.objects.create(organization=organization, code=code, title=title, duration_hours=3)


def make_session(
    engagement: Engagement,
    course: Course,
    starts_at: datetime,
    *,
    room: Room | None = None,
    status: str = SessionStatus.CONFIRMED,
    join_url: str = "",
) -> Session:
    cancelled = status == SessionStatus.CANCELLED
    return Session.objects.create(
        organization=engagement.organization,
        engagement=engagement,
        course=course,
        modality=Modality.ILT if room else Modality.VILT,
        room=room,
        join_url=join_url,
        capacity=10,
        status=status,
        requested_at=starts_at - timedelta(days=20),
        confirmed_at=None if cancelled else starts_at - timedelta(days=20),
        cancelled_at=starts_at - timedelta(days=2) if cancelled else None,
        cancelled_by="provider" if cancelled else "",
        cancellation_reason="Instructor ill" if cancelled else "",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=3),
    )


def enrol(session: Session, learner: Learner, status: str = EnrollmentStatus.ENROLLED) -> Enrollment:
    return Enrollment.objects.create(
        organization=session.organization, session=session, learner=learner, status=status, requested_at=NOW
    )


def complete(learner: Learner, course: Course, completed_at: datetime) -> Completion:
    return Completion.objects.create(
        organization=learner.organization, learner=learner, course=course, completed_at=completed_at
    )


def assign(learner: Learner, requirement: ComplianceRequirement, due_on: object) -> ComplianceAssignment:
    return ComplianceAssignment.objects.create(
        organization=learner.organization, requirement=requirement, learner=learner, due_on=due_on
    )


@dataclass
class LearnerRecord:
    learner: Learner
    session: Session  # upcoming, enrolled
    past_session: Session
    completion: Completion
    assignment: ComplianceAssignment


def learner_with_training(tenant: Tenant, engagement: Engagement, name: str, email: str, tag: str) -> LearnerRecord:
    """A learner with an upcoming and a past session, a completion and a mandatory training, each titled `tag`."""
    organization = tenant.organization
    learner = Learner.objects.create(organization=organization, name=name, email=email)
    course = make_course(organization, f"{tag}-1", f"{tag} upcoming course")
    past_course = make_course(organization, f"{tag}-2", f"{tag} past course")
    session = make_session(
        engagement, course, datetime(2026, 3, 20, 9, tzinfo=UTC), join_url=f"https://meet.example/{tag}"
    )
    past = make_session(engagement, past_course, datetime(2026, 3, 2, 9, tzinfo=UTC), status=SessionStatus.DELIVERED)
    enrol(session, learner)
    enrol(past, learner, EnrollmentStatus.ATTENDED)
    completion = complete(learner, past_course, datetime(2026, 3, 2, 12, tzinfo=UTC))
    requirement = ComplianceRequirement.objects.create(organization=organization, name=f"{tag} mandatory training")
    assignment = assign(learner, requirement, datetime(2026, 4, 30).date())
    return LearnerRecord(learner, session, past, completion, assignment)


@dataclass
class PortalWorld:
    tenant: Tenant
    other: Tenant
    a: LearnerRecord
    b: LearnerRecord
    elsewhere: LearnerRecord  # the other organization's learner, with A's email
    link_token: str  # a valid sign-in link of A (not used)
    feed_token: str  # A's live calendar feed

    @property
    def session_a(self) -> Session:
        return self.a.session


def build_world(now: datetime) -> PortalWorld:
    tenant, other = Tenant("Acme Corp", "acme"), Tenant("Acme Corp", "acme-2")
    # The other organization first, so its rows' ids are the lower ones: A's ids are never the only ones there are.
    with other.scope():
        engagement = EngagementFactory(organization=other.organization, provider=other.provider)
        elsewhere = learner_with_training(other, engagement, "Ada Lovelace", "ada@acme.example", "Other")
    with tenant.scope():
        engagement = EngagementFactory(organization=tenant.organization, provider=tenant.provider)
        a = learner_with_training(tenant, engagement, "Ada Lovelace", "ada@acme.example", "Ada")
        b = learner_with_training(tenant, engagement, "Bea Baker", "bea@acme.example", "Bea")
        link = services.issue_sign_in_link(learner=a.learner, now=now)
        _, feed_token = services.issue_calendar_feed(learner=a.learner, now=now)
    return PortalWorld(tenant, other, a, b, elsewhere, link.raw, feed_token)


def sign_in_as(client: Client, learner: Learner) -> None:
    """Through the real door: a link issued for the learner, followed and confirmed."""
    with organization_scope(learner.organization_id):
        issued = services.issue_sign_in_link(learner=learner, now=NOW)
    response = client.post(reverse("portal:link", kwargs={"token": issued.raw}))
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:home")


def visit_as(client: Client, world: PortalWorld, visitor: str) -> None:
    if visitor == "member":
        client.force_login(world.tenant.user(Role.OWNER))
    elif visitor != "anonymous":
        learner = {"learner_a": world.a, "learner_b": world.b, "other_organization_learner": world.elsewhere}[visitor]
        sign_in_as(client, learner.learner)
