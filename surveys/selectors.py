"""Reads of post-session surveys: the enrollment a link names, the learner's open surveys, response rates."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Q
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from engagements.models import Engagement
from scheduling import calendars
from scheduling.enums import SessionStatus
from scheduling.models import Enrollment, Feedback, Learner, Session
from slas.periods import Period

from .links import survey_url
from .models import SurveyInvitation


def learner_zone(enrollment: Enrollment) -> str:
    """The zone the learner's times are shown in (the one rule: scheduling.calendars.learner_zone)."""
    return calendars.learner_zone(enrollment.learner, enrollment.session)


def survey_enrollment(enrollment_id: int) -> Enrollment | None:
    """The enrollment a survey link names, with what its page shows, in the current tenant scope (None: not one of
    this organization's)."""
    return (
        Enrollment.objects.select_related("learner", "session__course", "session__engagement", "session__room__venue")
        .filter(pk=enrollment_id)
        .first()
    )


def survey_invitation(enrollment: Enrollment) -> SurveyInvitation | None:
    return SurveyInvitation.objects.filter(enrollment=enrollment).first()


def open_surveys_for(learner: Learner, now: datetime) -> list[tuple[Enrollment, str]]:
    """The surveys `learner` was asked and may still answer (not expired, not answered on any path), oldest
    session first, each with its link: for the learner portal."""
    rated = Feedback.objects.filter(session=OuterRef("session"), learner=OuterRef("learner"))
    enrollments = (
        Enrollment.objects.filter(
            learner=learner,
            survey_invitations__answered_at__isnull=True,
            survey_invitations__expires_at__gt=now,
        )
        .exclude(Exists(rated))
        .select_related("session__course")
        .order_by("session__starts_at", "pk")
    )
    return [(enrollment, survey_url(enrollment)) for enrollment in enrollments]


@dataclass(frozen=True)
class ResponseRate:
    """Of the learners asked, how many answered the survey."""

    label: str
    invited: int
    answered: int

    @property
    def rate(self) -> Decimal | None:
        """Percent answered, to one decimal (None when nobody was asked)."""
        if not self.invited:
            return None
        return (Decimal(self.answered) * 100 / Decimal(self.invited)).quantize(Decimal("0.1"))


def _counts(name: str, condition: Q | None = None) -> dict[str, Count]:
    answered = Q(answered_at__isnull=False)
    return {
        f"{name}_invited": Count("pk", filter=condition),
        f"{name}_answered": Count("pk", filter=answered if condition is None else condition & answered),
    }


def response_rates(
    *, session_ids: Iterable[int] | None = None, engagement: Engagement | None = None, now: datetime | None = None
) -> list[ResponseRate]:
    """Invited, answered and the rate: of the sessions `session_ids` together, or of `engagement` overall and in
    the month of `now` (its timezone; sessions by their start, as the SLAs count feedback). One query."""
    invitations = SurveyInvitation.objects.all()
    if session_ids is not None:
        invitations = invitations.filter(enrollment__session__in=list(session_ids))
        row = invitations.aggregate(**_counts("all"))
        return [ResponseRate(_("These sessions"), row["all_invited"], row["all_answered"])]
    if engagement is None or now is None:
        raise ValueError("response_rates needs session_ids, or an engagement and now")
    month = Period.containing(now, engagement.timezone)
    in_month = Q(enrollment__session__starts_at__gte=month.start, enrollment__session__starts_at__lt=month.end)
    row = invitations.filter(enrollment__session__engagement=engagement).aggregate(
        **_counts("month", in_month), **_counts("all")
    )
    return [
        ResponseRate(date_format(month.month, "YEAR_MONTH_FORMAT"), row["month_invited"], row["month_answered"]),
        ResponseRate(_("Overall"), row["all_invited"], row["all_answered"]),
    ]


def session_response_rate(session: Session) -> list[ResponseRate]:
    """The session page's survey row; none before the session is delivered (nobody is asked before)."""
    if session.status != SessionStatus.DELIVERED:
        return []
    (rate,) = response_rates(session_ids=[session.pk])
    return [ResponseRate(_("This session"), rate.invited, rate.answered)]


def engagement_response_rates(engagement: Engagement, now: datetime) -> list[ResponseRate]:
    """The engagement dashboard's survey rows: this month and overall."""
    return response_rates(engagement=engagement, now=now)
