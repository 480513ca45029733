"""Mandatory training: requirements, their assignments to learners, and recertification reminders."""

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from mls.audit import record_event, save_audited
from mls.enums import Permission
from mls.mail import email_after_commit
from mls.models import Membership
from scheduling.models import (
    ComplianceAssignment,
    ComplianceReminder,
    ComplianceRequirement,
    Course,
    Learner,
    RequirementCourse,
)

RECERTIFICATION_REMINDER_DAYS = (90, 60, 30, 7)


def require_compliance_assigner(membership: Membership) -> None:
    """Who assigns mandatory training and records its completion (the pages ask this too, as `compliance.assign`)."""
    if not membership.has_permission(Permission.ASSIGN_COMPLIANCE):
        raise ValidationError(_("Your role cannot assign mandatory training or record its completion."))


def assignment_refusals(*, completed_at: datetime | None, now: datetime) -> dict[str, str]:
    """What is wrong with an assignment's values, by field (empty: nothing); the import asks the same."""
    if completed_at is not None and completed_at > now:
        return {"completed_at": _("A completion cannot be in the future.")}
    return {}


@transaction.atomic
def assign_learner(
    *,
    requirement: ComplianceRequirement,
    learner: Learner,
    membership: Membership,
    due_on: date,
    completed_at: datetime | None = None,
    external_id: str = "",
    now: datetime | None = None,
) -> ComplianceAssignment:
    """One learner's mandatory training, due on `due_on` (completed already when `completed_at` is given: a
    history loaded from another system)."""
    now = now or timezone.now()
    require_compliance_assigner(membership)
    errors = assignment_refusals(completed_at=completed_at, now=now)
    if ComplianceAssignment.objects.filter(requirement=requirement, learner=learner, due_on=due_on).exists():
        errors["due_on"] = _("%(learner)s already has %(requirement)s due on %(due_on)s.") % {
            "learner": learner,
            "requirement": requirement,
            "due_on": date_format(due_on, "DATE_FORMAT"),
        }
    if errors:
        raise ValidationError(errors)
    assignment = ComplianceAssignment(
        organization=requirement.organization,
        requirement=requirement,
        learner=learner,
        due_on=due_on,
        completed_at=completed_at,
        external_id=external_id,
    )
    return save_audited(assignment, actor=membership.user, action="compliance.learner_assigned", changes={})


@transaction.atomic
def complete_assignment(
    *, assignment: ComplianceAssignment, membership: Membership, completed_at: datetime, now: datetime | None = None
) -> ComplianceAssignment:
    """Record when the learner met an assignment (evidence kept elsewhere, e.g. an external LMS's record)."""
    now = now or timezone.now()
    require_compliance_assigner(membership)
    assignment = ComplianceAssignment.objects.select_for_update().get(pk=assignment.pk)
    if errors := assignment_refusals(completed_at=completed_at, now=now):
        raise ValidationError(errors)
    return save_audited(
        assignment,
        actor=membership.user,
        action="compliance.assignment_completed",
        changes={"completed_at": completed_at},
    )


@transaction.atomic
def send_recertification_reminders(*, today: date) -> int:
    """Email learners 90/60/30/7 days before an open assignment is due; each reminder once (unique ledger)."""
    horizon = today + timedelta(days=max(RECERTIFICATION_REMINDER_DAYS))
    due_soon = ComplianceAssignment.objects.filter(
        completed_at__isnull=True, due_on__gte=today, due_on__lte=horizon
    ).select_related("learner", "requirement")
    sent = 0
    for assignment in due_soon:
        days_left = (assignment.due_on - today).days
        threshold = min(n for n in RECERTIFICATION_REMINDER_DAYS if n >= days_left)
        _reminder, created = ComplianceReminder.objects.get_or_create(
            organization=assignment.organization, assignment=assignment, days_before=threshold
        )
        if created:
            sent += 1
            with translation.override(assignment.learner.language):  # the learner's language, not the beat's
                names = {"requirement": assignment.requirement.name, "days": days_left}
                email_after_commit(
                    subject=_("Mandatory training due in %(days)s days: %(requirement)s") % names,
                    body=_("Please complete %(requirement)s by %(due_on)s.")
                    % {**names, "due_on": date_format(assignment.due_on, _("j F Y"))},
                    recipients=[assignment.learner.email],
                )
    return sent


def _audience(requirement: ComplianceRequirement) -> Q:
    """Learners the requirement applies to: its business units and regions (empty = everyone)."""
    condition = Q()
    units = [u.strip() for u in requirement.audience_business_units.split(",") if u.strip()]
    regions = [r.strip() for r in requirement.audience_regions.split(",") if r.strip()]
    if units:
        condition &= Q(business_unit__in=units)
    if regions:
        condition &= Q(region__in=regions)
    return condition


@transaction.atomic
def assign_requirement(*, requirement: ComplianceRequirement, membership: Membership, due_on: date) -> int:
    """Assign the requirement to every learner in its audience who has no assignment due that day yet."""
    if not membership.has_permission(Permission.ASSIGN_COMPLIANCE):
        raise ValidationError(_("Your role cannot assign mandatory training."))
    learners = Learner.objects.filter(_audience(requirement)).exclude(
        compliance_assignments__requirement=requirement, compliance_assignments__due_on=due_on
    )
    created = ComplianceAssignment.objects.bulk_create(
        ComplianceAssignment(
            organization=requirement.organization, requirement=requirement, learner=learner, due_on=due_on
        )
        for learner in learners
    )
    record_event(
        organization=requirement.organization,
        actor=membership.user,
        action="compliance.assigned",
        obj=requirement,
        after={"due_on": due_on, "learners": len(created)},
    )
    return len(created)


@transaction.atomic
def define_requirement(
    *, organization: Any, membership: Membership, courses: Iterable[Course], **fields: Any
) -> ComplianceRequirement:
    """Mandatory training: the client side decides who must complete which courses, and how often."""
    requirement = ComplianceRequirement(organization=organization)
    return _save_requirement(requirement, membership, "compliance.requirement_defined", courses, fields)


@transaction.atomic
def update_requirement(
    *, requirement: ComplianceRequirement, membership: Membership, courses: Iterable[Course], **fields: Any
) -> ComplianceRequirement:
    """Existing assignments keep their due dates; a changed audience counts from the next assignment."""
    return _save_requirement(requirement, membership, "compliance.requirement_updated", courses, fields)


def _save_requirement(
    requirement: ComplianceRequirement, membership: Membership, action: str, courses: Iterable[Course], fields: dict
) -> ComplianceRequirement:
    if not membership.has_permission(Permission.MANAGE_COMPLIANCE):
        raise ValidationError(_("Only the client's owners and L&D directors define mandatory training."))
    courses = set(courses)
    if not courses:
        raise ValidationError({"courses": _("Choose at least one course that satisfies the requirement.")})
    if any(course.organization_id != requirement.organization_id for course in courses):
        raise ValidationError({"courses": _("Choose courses of this organization.")})
    if ComplianceRequirement.objects.filter(name=fields.get("name")).exclude(pk=requirement.pk).exists():
        raise ValidationError({"name": _("A requirement named %(name)s already exists.") % {"name": fields["name"]}})
    courses_before = None if requirement._state.adding else _requirement_course_ids(requirement)
    for name, value in fields.items():
        setattr(requirement, name, value)
    requirement.full_clean()
    requirement.save()
    requirement.requirement_courses.exclude(course__in=courses).delete()
    kept = set(requirement.requirement_courses.values_list("course", flat=True))
    RequirementCourse.objects.bulk_create(
        RequirementCourse(organization=requirement.organization, requirement=requirement, course=course)
        for course in courses
        if course.pk not in kept
    )
    requirement.log_action(
        action, actor=membership.user, extra={"courses": (courses_before, _requirement_course_ids(requirement))}
    )
    return requirement


def _requirement_course_ids(requirement: ComplianceRequirement) -> list[int]:
    return sorted(requirement.requirement_courses.values_list("course", flat=True))
