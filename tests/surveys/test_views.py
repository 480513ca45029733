"""The public survey page: the learner's link, in their language and zone; every link that cannot be answered is a
clear page (400/409/410), never a 500; the page reads and writes only the organization the link names."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.core import signing
from django.urls import reverse

from mls.enums import Role
from scheduling.enums import EnrollmentStatus, SessionStatus
from scheduling.models import Enrollment, Feedback, Session
from surveys import services
from surveys.links import SURVEY_TOKEN_SALT
from surveys.models import SurveyInvitation
from tests.factories.scheduling import LearnerFactory
from tests.factories.slas import attendance, enrollment, session
from tests.surveys.conftest import NOW, delivered_session

pytestmark = pytest.mark.integration


def org(tenant, **kwargs: object) -> dict[str, object]:
    return {"organization_slug": tenant.organization.slug, **kwargs}


def path(enrollment: Enrollment) -> str:
    return services.survey_url(enrollment).removeprefix("http://localhost:8000")


def tampered(url: str) -> str:
    """`url` with the last character of its signature changed."""
    last = url[-2]
    return url[:-2] + ("A" if last != "A" else "B") + "/"


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode())).strip()


def scores(tenant) -> list[tuple[int, int, int, str]]:
    with tenant.scope():
        return list(Feedback.objects.values_list("learner", "instructor_score", "overall_score", "comment"))


def test_the_survey_shows_the_course_and_the_session_time_in_the_learners_zone(client, acme):
    response = client.get(path(acme.ann))

    assert response.status_code == 200
    page = text(response)
    # 1 June 2026, 09:00–12:00 UTC is 10:00–13:00 in London (BST), the engagement's zone.
    assert "Coaching skills Monday, 1 Jun 2026, 10:00 –13:00 (Europe/London)" in page
    assert "How would you rate the instructor? * 1 2 3 4 5 1 = poor, 5 = excellent" in page
    assert response.content.decode().count("<legend>") == 2


def test_a_german_learner_gets_the_survey_in_german_in_her_zone(client, acme):
    response = client.get(path(acme.dee))

    page = text(response)
    assert "Wie war Ihr Termin?" in page
    assert "Coaching skills Montag, 1. Juni 2026, 11:00 –14:00 (Europe/Berlin)" in page
    assert "Wie bewerten Sie den Trainer? * 1 2 3 4 5 1 = schlecht, 5 = ausgezeichnet" in page
    assert 'lang="de"' in response.content.decode()


def test_answering_writes_feedback_and_a_second_answer_is_refused(client, acme, tenant_a):
    with tenant_a.scope():
        services.invite_present_learners(acme.session, NOW)

    answered = client.post(path(acme.ann), {"instructor_score": "4", "overall_score": "5", "comment": "Good pace"})
    again = client.post(path(acme.ann), {"instructor_score": "1", "overall_score": "1"})
    reopened = client.get(path(acme.ann))

    assert (answered.status_code, again.status_code, reopened.status_code) == (200, 409, 409)
    assert "Your answer about Coaching skills has been recorded." in text(answered)
    assert "You have already answered this survey. Thank you!" in text(again)
    assert scores(tenant_a) == [(acme.ann.learner_id, 4, 5, "Good pace")]
    with tenant_a.scope():
        assert SurveyInvitation.objects.get(enrollment=acme.ann).answered_at == NOW


def test_an_answer_without_scores_shows_the_form_again_with_errors(client, acme, tenant_a):
    response = client.post(path(acme.ann), {"comment": "Forgot the scores"})

    assert response.status_code == 400
    assert text(response).count("This field is required.") == 2
    assert "Forgot the scores" in response.content.decode()
    assert scores(tenant_a) == []


@pytest.mark.parametrize(
    ("make_path", "status", "message"),
    [
        (lambda acme: tampered(path(acme.ann)), 400, "This survey link is not valid."),
        (lambda acme: "/survey/not-a-link/", 400, "This survey link is not valid."),
        (lambda acme: path(acme.bob), 400, "Only a learner who attended the session"),
    ],
    ids=["tampered", "garbage", "absent-learner"],
)
def test_links_that_cannot_be_answered_are_a_clear_page(client, acme, tenant_a, make_path, status, message):
    get = client.get(make_path(acme))
    post = client.post(make_path(acme), {"instructor_score": "5", "overall_score": "5"})

    assert (get.status_code, post.status_code) == (status, status)
    assert message in text(get)
    assert message in text(post)
    assert scores(tenant_a) == []


def test_an_expired_link_is_gone(client, acme, clock):
    url = path(acme.ann)
    clock.shift(timedelta(days=14, seconds=1))

    response = client.get(url)

    assert response.status_code == 410
    assert "This survey link has expired." in text(response)


def test_an_expired_invitation_is_gone_even_with_a_fresh_link(client, acme, tenant_a, clock):
    with tenant_a.scope():
        services.invite_present_learners(acme.session, NOW)
    clock.shift(timedelta(days=15))

    response = client.get(path(acme.ann))  # signed now, as the portal would

    assert response.status_code == 410
    assert "This survey link has expired." in text(response)


def test_a_cancelled_session_is_gone(client, acme, tenant_a):
    with tenant_a.scope():
        Session.objects.filter(pk=acme.session.pk).update(
            status=SessionStatus.CANCELLED, cancelled_at=NOW, cancelled_by="provider", cancellation_reason="Ill"
        )

    response = client.get(path(acme.ann))

    assert response.status_code == 410
    assert "This session was cancelled, so there is nothing to rate." in text(response)


def test_an_unknown_enrollment_is_not_a_valid_link(client, acme, tenant_a):
    token = signing.dumps({"o": tenant_a.organization.pk, "e": acme.dee.pk + 1000}, salt=SURVEY_TOKEN_SALT)

    response = client.get(f"/survey/{token}/")

    assert response.status_code == 400
    assert "This survey link is not valid." in text(response)


def test_a_link_naming_one_organization_cannot_read_or_write_another_organizations_enrollment(
    client, acme, tenant_a, tenant_b, clock
):
    """Organization B's enrollment ids next to A's: a genuine link of A naming B's enrollment finds nothing, since
    the page enters A's scope only."""
    other = delivered_session(tenant_b)
    forged = signing.dumps({"o": tenant_a.organization.pk, "e": other.ann.pk}, salt=SURVEY_TOKEN_SALT)

    get = client.get(f"/survey/{forged}/")
    post = client.post(f"/survey/{forged}/", {"instructor_score": "1", "overall_score": "1"})

    assert (get.status_code, post.status_code) == (400, 400)
    assert "Coaching skills" not in text(get)
    assert (scores(tenant_a), scores(tenant_b)) == ([], [])
    assert client.get(path(other.ann)).status_code == 200  # B's own link works, in B's scope


# --- Response rates on the session page and the engagement dashboard -------------------------------------------


@pytest.mark.parametrize("count", [1, 3])
def test_the_session_page_shows_the_response_rate_in_constant_queries(
    client, tenant_a, clock, django_assert_num_queries, count
):
    delivered = delivered_session(tenant_a)
    with tenant_a.scope():
        services.invite_present_learners(delivered.session, NOW)
        for seat in (delivered.ann, delivered.cy, delivered.dee)[:count]:
            services.answer_survey(seat, services.Answer(5, 5), now=NOW)
    client.force_login(tenant_a.user(Role.LD_DIRECTOR))
    url = reverse("scheduling:session", kwargs=org(tenant_a, pk=delivered.session.pk))

    with django_assert_num_queries(14):
        response = client.get(url)

    # 3 present learners asked; 1 answered: 1 / 3 = 33.3 %; 3 answered: 100.0 %.
    expected = {1: "This session 3 1 33.3 %", 3: "This session 3 3 100.0 %"}[count]
    assert f"Survey response rate Period Invited Answered Rate {expected}" in text(response)


def test_the_engagement_dashboard_shows_this_months_and_the_overall_response_rate(client, tenant_a, clock):
    june = delivered_session(tenant_a)
    with tenant_a.scope():
        may = session(
            june.engagement, starts_at=datetime(2026, 5, 25, 9, 0, tzinfo=UTC), status=SessionStatus.DELIVERED
        )
        for learner in LearnerFactory.create_batch(2, organization=tenant_a.organization):
            attendance(enrollment(may, may.starts_at, learner_=learner, status=EnrollmentStatus.ATTENDED))
        services.invite_present_learners(may, NOW)
        services.invite_present_learners(june.session, NOW)
        services.answer_survey(june.ann, services.Answer(4, 4), now=NOW)
        services.answer_survey(june.cy, services.Answer(4, 4), now=NOW)
    client.force_login(tenant_a.user(Role.LD_DIRECTOR))

    response = client.get(reverse("reporting:engagement", kwargs=org(tenant_a, pk=june.engagement.pk)))

    # June: 3 asked, 2 answered: 2 / 3 = 66.7 %. Overall adds May's 2 asked, none answered: 2 / 5 = 40.0 %.
    assert "Period Invited Answered Rate June 2026 3 2 66.7 % Overall 5 2 40.0 %" in text(response)


def test_a_german_learners_second_answer_is_refused_in_german(client, acme, tenant_a):
    client.post(path(acme.dee), {"instructor_score": "5", "overall_score": "4"})

    again = client.post(path(acme.dee), {"instructor_score": "1", "overall_score": "1"})

    assert again.status_code == 409
    assert "Sie haben diese Umfrage bereits beantwortet. Vielen Dank!" in text(again)
    assert scores(tenant_a) == [(acme.dee.learner_id, 5, 4, "")]
