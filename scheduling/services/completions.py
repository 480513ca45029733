"""Completions: one learner's, a delivered session's in bulk, and the compliance assignments they close."""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from certificates.selectors import verification_url
from certificates.services import issue_certificate
from communications.enums import MessageKind
from communications.services import queue_learner_message
from engagements.models import Engagement
from mls.audit import save_audited
from mls.models import Membership
from scheduling.enums import CompletionSource, EnrollmentStatus, SessionStatus
from scheduling.models import Completion, ComplianceAssignment, Course, Learner, RequirementCourse, Session

from ._common import require_delivery_writer


@transaction.atomic
def record_completion(
    *,
    learner: Learner,
    course: Course,
    completed_at: datetime,
    membership: Membership,
    engagement: Engagement,
    session: Session | None = None,
    source: str = CompletionSource.PROVIDER_LOG,
) -> Completion:
    """Record a completion; it closes the learner's open assignments the course satisfies and opens the next cycle."""
    require_delivery_writer(membership, engagement)
    completion = Completion(
        organization=learner.organization,
        learner=learner,
        course=course,
        session=session,
        completed_at=completed_at,
        source=source,
    )
    save_audited(completion, actor=membership.user, action="completion.recorded", changes={})
    close_compliance_assignments([completion], zone=engagement.timezone)
    if source != CompletionSource.IMPORT:  # an import of history tells nobody about the past
        # The certificate is issued now (its verification URL is in the email); its PDF is rendered by the worker.
        certificate = issue_certificate(completion, timezone.now(), actor=membership.user)
        queue_learner_message(
            kind=MessageKind.COMPLETION,
            learner=learner,
            session=session,
            completion=completion,
            context={
                "course_title": course.title,
                "course_code": course.code,
                "certificate_url": verification_url(certificate),
            },
        )
    return completion


def close_compliance_assignments(completions: Sequence[Completion], *, zone: str) -> None:
    """Completions close their learners' open assignments the course satisfies and open the next cycle (due after
    the recertification interval, counted from the completion's local day in `zone`), as if recorded one by one
    in order of completion. Set-based: one query locks the open assignments, one finds the requirements."""
    if not completions:
        return
    learners = {completion.learner_id for completion in completions}
    courses = {completion.course_id for completion in completions}
    requirements_of: dict[int, set[int]] = defaultdict(set)
    for requirement_id, course_id in RequirementCourse.objects.filter(course__in=courses).values_list(
        "requirement", "course"
    ):
        requirements_of[course_id].add(requirement_id)
    if not requirements_of:
        return
    open_now: dict[tuple[int, int], list[ComplianceAssignment]] = defaultdict(list)
    locked = ComplianceAssignment.objects.select_for_update(of=("self",)).select_related("requirement")
    for assignment in locked.filter(
        learner__in=learners, completed_at__isnull=True, requirement__in=set().union(*requirements_of.values())
    ).order_by("pk"):
        open_now[(assignment.learner_id, assignment.requirement_id)].append(assignment)
    closed: list[ComplianceAssignment] = []
    next_cycles: dict[tuple[int, int, date], ComplianceAssignment] = {}
    for completion in sorted(completions, key=lambda c: c.completed_at):
        local_day = timezone.localdate(completion.completed_at, ZoneInfo(zone))
        for requirement_id in sorted(requirements_of.get(completion.course_id, ())):
            for assignment in open_now.pop((completion.learner_id, requirement_id), []):
                assignment.completed_at, assignment.completion = completion.completed_at, completion
                if assignment.pk is not None:
                    closed.append(assignment)
                interval = assignment.requirement.recertification_interval_days
                if interval:
                    due_on = local_day + timedelta(days=interval)
                    cycle = next_cycles.setdefault(
                        (completion.learner_id, requirement_id, due_on),
                        ComplianceAssignment(
                            organization_id=assignment.organization_id,
                            requirement=assignment.requirement,
                            learner_id=completion.learner_id,
                            due_on=due_on,
                        ),
                    )
                    if cycle.completed_at is None:
                        open_now[(completion.learner_id, requirement_id)].append(cycle)
    if closed:
        for assignment in closed:
            assignment.updated_at = timezone.now()  # bulk_update does not run auto_now
        ComplianceAssignment.objects.bulk_update(closed, ["completed_at", "completion", "updated_at"])
    if next_cycles:
        # A cycle already assigned for that day is kept as it is (as get_or_create would).
        ComplianceAssignment.objects.bulk_create(next_cycles.values(), ignore_conflicts=True)


@transaction.atomic
def record_session_completions(
    *, session: Session, membership: Membership, enrollment_ids: Iterable[int], completed_at: datetime
) -> int:
    """Bulk entry: completions for attendees of a delivered session (each also updates compliance)."""
    require_delivery_writer(membership, session.engagement)
    if session.status != SessionStatus.DELIVERED:
        raise ValidationError(_("Completions are recorded for delivered sessions."))
    if completed_at < session.starts_at:
        raise ValidationError({"completed_at": _("A completion cannot precede the session.")})
    ids = set(enrollment_ids)
    attendees = session.enrollments.filter(pk__in=ids, status=EnrollmentStatus.ATTENDED).select_related("learner")
    if len(attendees) != len(ids):
        raise ValidationError(_("Only attendees of this session can be given a completion."))
    already = set(
        Completion.objects.filter(session=session, learner__in=[e.learner for e in attendees]).values_list(
            "learner", flat=True
        )
    )
    recorded = 0
    for enrollment in attendees:
        if enrollment.learner_id in already:
            continue
        record_completion(
            learner=enrollment.learner,
            course=session.course,
            completed_at=completed_at,
            membership=membership,
            engagement=session.engagement,
            session=session,
        )
        recorded += 1
    return recorded
