"""Assessment attempts: who records them, when an attempt is refused, what counts as a pass."""

from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from mls.audit import save_audited
from mls.enums import Permission
from mls.models import Membership
from scheduling.models import AssessmentAttempt, Course, Learner
from scheduling.selectors import attempt_courses


def require_attempt_writer(membership: Membership, course: Course) -> None:
    """Assessment results are delivery data; an attempt belongs to a learner and a course, not an engagement, so a
    provider's account manager records them for the courses its provider delivers (has a session of)."""
    if not membership.has_permission(Permission.LOG_DELIVERY):
        raise ValidationError(_("Only owners and the provider's account managers record assessment attempts."))
    if membership.is_provider_side and not attempt_courses(membership).filter(pk=course.pk).exists():
        raise ValidationError({"course": _("Your provider delivers no session of %(code)s.") % {"code": course.code}})


def attempt_refusals(*, attempted_at: datetime, now: datetime) -> dict[str, str]:
    """What is wrong with an attempt's values, by field (empty: nothing); the import asks the same."""
    if attempted_at > now:
        return {"attempted_at": _("An attempt cannot be in the future.")}
    return {}


def attempt_passed(score: Decimal, pass_mark: Decimal) -> bool:
    """The one definition of a pass (SPEC-SLA assessment_pass_rate counts it): the score reaches the pass mark."""
    return score >= pass_mark


@transaction.atomic
def record_assessment_attempt(
    *,
    learner: Learner,
    course: Course,
    attempted_at: datetime,
    score: Decimal,
    pass_mark: Decimal,
    membership: Membership,
    passed: bool | None = None,
    attempt_number: int | None = None,
    external_id: str = "",
    now: datetime | None = None,
) -> AssessmentAttempt:
    """An attempt at the course's assessment: the learner's next one unless `attempt_number` is given (numbered
    under a lock on the learner, so two attempts recorded at once get 1 and 2, never 1 twice). Passed is derived;
    a `passed` given by the source (an LRS's verb) must agree with it."""
    now = now or timezone.now()
    require_attempt_writer(membership, course)
    Learner.objects.select_for_update().get(pk=learner.pk)
    errors = attempt_refusals(attempted_at=attempted_at, now=now)
    outcome = attempt_passed(score, pass_mark)
    if passed is not None and passed != outcome:
        verdict = (
            _("A score of %(score)s against a pass mark of %(pass_mark)s is a pass.")
            if outcome
            else _("A score of %(score)s against a pass mark of %(pass_mark)s is a fail.")
        )
        errors["passed"] = verdict % {"score": score, "pass_mark": pass_mark}
    taken = AssessmentAttempt.objects.filter(learner=learner, course=course)
    if attempt_number is None:
        attempt_number = (taken.aggregate(number=Max("attempt_number"))["number"] or 0) + 1
    elif taken.filter(attempt_number=attempt_number).exists():
        errors["attempt_number"] = _("%(learner)s already has attempt %(number)s at %(code)s.") % {
            "learner": learner,
            "number": attempt_number,
            "code": course.code,
        }
    if errors:
        raise ValidationError(errors)
    attempt = AssessmentAttempt(
        organization=learner.organization,
        learner=learner,
        course=course,
        attempt_number=attempt_number,
        attempted_at=attempted_at,
        score=score,
        pass_mark=pass_mark,
        passed=outcome,
        external_id=external_id,
    )
    return save_audited(attempt, actor=membership.user, action="assessment_attempt.recorded", changes={})
