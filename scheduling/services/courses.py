"""Courses and their content reviews."""

from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mls.audit import save_audited
from mls.enums import Permission
from mls.models import Membership
from scheduling.models import ContentReview, Course


def require_course_keeper(membership: Membership) -> None:
    """Course keepers add, edit and review courses (the pages ask this too, as `course.manage`)."""
    if not membership.has_permission(Permission.MANAGE_COURSES):
        raise ValidationError(_("Your role cannot add or edit courses."))


def reviewed_on_error(reviewed_on: date | None, today: date) -> str:
    """A content review is recorded once it has happened: a future date would keep a course "fresh" unreviewed."""
    if reviewed_on and reviewed_on > today:
        return _("A review date cannot be in the future.")
    return ""


def _save_course(course: Course, membership: Membership, action: str, fields: dict[str, Any], now: datetime) -> Course:
    require_course_keeper(membership)
    code = fields.get("code", course.code)
    if Course.objects.filter(code=code).exclude(pk=course.pk).exists():
        raise ValidationError({"code": _("Course %(code)s already exists.") % {"code": code}})
    if error := reviewed_on_error(fields.get("last_reviewed_on"), timezone.localdate(now)):
        raise ValidationError({"last_reviewed_on": error})
    return save_audited(course, actor=membership.user, action=action, changes=fields)


@transaction.atomic
def add_course(*, organization: Any, membership: Membership, now: datetime | None = None, **fields: Any) -> Course:
    now = now or timezone.now()
    return _save_course(Course(organization=organization), membership, "course.added", fields, now)


@transaction.atomic
def update_course(*, course: Course, membership: Membership, now: datetime | None = None, **fields: Any) -> Course:
    """Edit a course's catalogue data; its review date changes by recording a content review."""
    now = now or timezone.now()
    return _save_course(course, membership, "course.updated", fields, now)


@transaction.atomic
def record_content_review(
    *,
    course: Course,
    membership: Membership,
    reviewed_on: date,
    reviewer_name: str,
    notes: str = "",
    now: datetime | None = None,
) -> ContentReview:
    """A review of the course's content, kept in its history; the course's last review date becomes the latest
    review's (a review entered late, older than the last one, does not make the course look staler)."""
    now = now or timezone.now()
    require_course_keeper(membership)
    course = Course.objects.select_for_update().get(pk=course.pk)
    if error := reviewed_on_error(reviewed_on, timezone.localdate(now)):
        raise ValidationError({"reviewed_on": error})
    review = ContentReview(
        organization=course.organization,
        course=course,
        reviewed_on=reviewed_on,
        reviewer_name=reviewer_name.strip(),
        notes=notes.strip(),
        recorded_by=membership.user,
    )
    save_audited(review, actor=membership.user, action="course.content_reviewed", changes={})
    if course.last_reviewed_on is None or reviewed_on > course.last_reviewed_on:
        save_audited(course, actor=membership.user, action="course.updated", changes={"last_reviewed_on": reviewed_on})
    return review
