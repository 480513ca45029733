"""Reads of post-session surveys: the learner's open surveys (for the portal) and response rates."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from scheduling.enums import EnrollmentStatus, SessionStatus
from surveys import selectors, services
from surveys.models import SurveyInvitation
from tests.factories.slas import attendance, enrollment, feedback, session
from tests.surveys.conftest import NOW, delivered_session

pytestmark = pytest.mark.unit


def test_open_surveys_are_the_learners_invitations_not_answered_nor_expired(tenant_a, tenant_b, clock):
    """Ann is asked about four sessions: one answered by survey, one rated through the provider, one whose link
    expired, one open; another tenant's Ann (same name and email) has an open survey too."""
    answered, rated, expired, open_one = (
        delivered_session(tenant_a, starts_at=datetime(2026, 5, day, 9, tzinfo=UTC), title=title)
        for day, title in ((25, "Answered"), (26, "Rated"), (27, "Expired"), (28, "Open"))
    )
    other = delivered_session(tenant_b)
    with tenant_a.scope():
        learner = answered.ann.learner
        for delivered in (rated, expired, open_one):
            delivered.ann.learner = learner
            delivered.ann.save(update_fields=["learner"])
        for delivered in (answered, rated, expired, open_one):
            services.invite_present_learners(delivered.session, NOW)
        services.answer_survey(answered.ann, services.Answer(5, 5), now=NOW)
        feedback(rated.session, 3, 3, learner=learner)
        SurveyInvitation.objects.filter(enrollment=expired.ann).update(expires_at=NOW)

        found = selectors.open_surveys_for(learner, NOW)

    assert found == [(open_one.ann, services.survey_url(open_one.ann))]
    assert found[0][0].session.course.title == "Open"
    with tenant_b.scope():
        services.invite_present_learners(other.session, NOW)
        assert selectors.open_surveys_for(other.ann.learner, NOW) == [(other.ann, services.survey_url(other.ann))]


def test_open_surveys_are_listed_in_one_query(tenant_a, clock, django_assert_num_queries):
    delivered = delivered_session(tenant_a)
    with tenant_a.scope():
        services.invite_present_learners(delivered.session, NOW)

        with django_assert_num_queries(1):
            [(seat, _url)] = selectors.open_surveys_for(delivered.cy.learner, NOW)
            title = seat.session.course.title

    assert title == "Coaching skills"


def _asked_and_answering(tenant, delivered, answering: int) -> None:
    with tenant.scope():
        services.invite_present_learners(delivered.session, NOW)
        for seat in (delivered.ann, delivered.cy, delivered.dee)[:answering]:
            services.answer_survey(seat, services.Answer(4, 4), now=NOW)


def test_response_rate_of_sessions_is_answered_over_invited(tenant_a, clock):
    first, second = delivered_session(tenant_a), delivered_session(tenant_a)
    _asked_and_answering(tenant_a, first, 1)
    _asked_and_answering(tenant_a, second, 3)

    with tenant_a.scope():
        (both,) = selectors.response_rates(session_ids=[first.session.pk, second.session.pk])
        (only_first,) = selectors.session_response_rate(first.session)

    # 3 + 3 asked, 1 + 3 answered: 4 / 6 = 66.666… → 66.7 %; the first alone: 1 / 3 = 33.3 %.
    assert (both.invited, both.answered, both.rate) == (6, 4, Decimal("66.7"))
    assert (only_first.label, only_first.invited, only_first.answered, only_first.rate) == (
        "This session",
        3,
        1,
        Decimal("33.3"),
    )


def test_response_rate_of_an_engagement_is_this_month_and_overall(tenant_a, clock):
    """June's session (3 asked, 2 answered) and a May session of the same engagement (2 asked, 1 answered); the
    month is the engagement's (Europe/London): a session at 23:30 UTC on 31 May starts on 1 June there."""
    june = delivered_session(tenant_a)
    _asked_and_answering(tenant_a, june, 2)
    with tenant_a.scope():
        for starts_at, answering in (
            (datetime(2026, 5, 25, 9, tzinfo=UTC), 1),
            (datetime(2026, 5, 31, 23, 30, tzinfo=UTC), 1),
        ):
            other = session(june.engagement, starts_at=starts_at, status=SessionStatus.DELIVERED)
            seats = [
                enrollment(other, starts_at, learner_=seat.learner, status=EnrollmentStatus.ATTENDED)
                for seat in (june.ann, june.cy)
            ]
            for seat in seats:
                attendance(seat)
            services.invite_present_learners(other, NOW)
            for seat in seats[:answering]:
                services.answer_survey(seat, services.Answer(4, 4), now=NOW)

        month, overall = selectors.engagement_response_rates(june.engagement, NOW)

    # June (London): 3 + 2 asked, 2 + 1 answered: 3 / 5 = 60.0 %. Overall adds 25 May: 5 + 2 asked, 3 + 1 answered:
    # 4 / 7 = 57.142… → 57.1 %.
    assert (month.label, month.invited, month.answered, month.rate) == ("June 2026", 5, 3, Decimal("60.0"))
    assert (overall.label, overall.invited, overall.answered, overall.rate) == ("Overall", 7, 4, Decimal("57.1"))


def test_response_rate_without_invitations_has_no_rate(tenant_a, clock):
    delivered = delivered_session(tenant_a)

    with tenant_a.scope():
        (rate,) = selectors.session_response_rate(delivered.session)

    assert (rate.invited, rate.answered, rate.rate) == (0, 0, None)


@pytest.mark.parametrize("sessions", [1, 3])
def test_response_rates_take_one_query_however_many_sessions(tenant_a, clock, django_assert_num_queries, sessions):
    delivered = [delivered_session(tenant_a, starts_at=NOW - timedelta(days=1, hours=n)) for n in range(sessions)]
    for each in delivered:
        _asked_and_answering(tenant_a, each, 1)

    with tenant_a.scope(), django_assert_num_queries(1):
        (rate,) = selectors.response_rates(session_ids=[each.session.pk for each in delivered])

    assert (rate.invited, rate.answered) == (3 * sessions, sessions)
