"""Post-session surveys: the link, the invitations (each present learner once), the learner's answer through the
one feedback service."""

import threading
from datetime import timedelta

import pytest
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from mls.enums import Role
from mls.models import AuditEvent
from scheduling import services as scheduling_services
from scheduling.enums import SessionStatus
from scheduling.models import Feedback, Session
from surveys import services
from surveys.links import SURVEY_TOKEN_SALT, SurveyLinkError, SurveyLinkExpired
from surveys.models import SurveyInvitation
from tests.factories.slas import feedback
from tests.surveys.conftest import NOW, STARTS, delivered_session

pytestmark = pytest.mark.unit


def invited(tenant) -> list[tuple[str, object, object]]:
    with tenant.scope():
        return list(
            SurveyInvitation.objects.order_by("enrollment__learner__name").values_list(
                "enrollment__learner__name", "sent_at", "expires_at"
            )
        )


# --- The link ----------------------------------------------------------------------------------------------------


def test_survey_url_is_absolute_and_names_organization_and_enrollment(acme, tenant_a, settings):
    settings.SITE_URL = "https://mls.example.com/"

    url = services.survey_url(acme.ann)

    prefix = "https://mls.example.com/survey/"
    assert url.startswith(prefix)
    assert services.read_survey_token(url.removeprefix(prefix).rstrip("/")) == (tenant_a.organization.pk, acme.ann.pk)


def test_survey_link_expires_after_the_configured_days(acme, clock, settings):
    settings.SURVEY_LINK_MAX_AGE_DAYS = 3
    token = services.survey_token(acme.ann)

    clock.shift(timedelta(days=3, seconds=1))

    with pytest.raises(SurveyLinkExpired):
        services.read_survey_token(token)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),  # the signature
        lambda token: token.replace(":", "x", 1),  # the payload
        lambda token: signing.dumps({"o": 1, "e": 2}, salt="mls.invitation"),  # another kind of signed link
        lambda token: signing.dumps({"o": "one"}, salt=SURVEY_TOKEN_SALT),  # a genuine signature over no ids
    ],
    ids=["signature", "payload", "other-salt", "no-ids"],
)
def test_a_tampered_survey_link_is_refused(acme, tamper):
    token = tamper(services.survey_token(acme.ann))

    with pytest.raises(SurveyLinkError):
        services.read_survey_token(token)


# --- Invitations -------------------------------------------------------------------------------------------------


def test_present_learners_are_invited_once_with_a_link_in_their_language_and_zone(
    acme, tenant_a, mailoutbox, django_capture_on_commit_callbacks
):
    with tenant_a.scope(), django_capture_on_commit_callbacks(execute=True):
        count = services.invite_present_learners(acme.session, NOW)
        again = services.invite_present_learners(acme.session, NOW)

    assert (count, again) == (3, 0)
    expires = NOW + timedelta(days=14)
    assert invited(tenant_a) == [("Ann", NOW, expires), ("Cy", NOW, expires), ("Dee", NOW, expires)]
    assert sorted(message.to[0] for message in mailoutbox) == [
        "ann@acme.example",
        "cy@acme.example",
        "dee@acme.example",
    ]
    by_learner = {message.to[0]: message for message in mailoutbox}
    ann, dee = by_learner["ann@acme.example"], by_learner["dee@acme.example"]
    assert ann.subject == "How was Coaching skills?"
    # 09:00 UTC is 10:00 in London (BST) and 11:00 in Berlin (CEST).
    assert "Thank you for attending Coaching skills on 01 Jun 2026 at 10:00 (Europe/London)." in ann.body
    assert f"\n{services.survey_url(acme.ann)}\n" in ann.body
    assert dee.subject == "Wie war Coaching skills?"
    assert "Vielen Dank für Ihre Teilnahme an Coaching skills am 01. Jun 2026 um 11:00 (Europe/Berlin)." in dee.body


def test_the_sweep_run_twice_invites_each_present_learner_once(
    acme, tenant_a, mailoutbox, django_capture_on_commit_callbacks
):
    with tenant_a.scope(), django_capture_on_commit_callbacks(execute=True):
        first = services.invite_delivered_sessions(NOW)
        second = services.invite_delivered_sessions(NOW + timedelta(hours=1))

    assert (first, second, len(mailoutbox)) == (3, 0, 3)
    assert [name for name, *_ in invited(tenant_a)] == ["Ann", "Cy", "Dee"]


def test_correcting_attendance_after_delivery_asks_the_learner_now_present(
    acme, tenant_a, mailoutbox, django_capture_on_commit_callbacks
):
    with tenant_a.scope():
        with django_capture_on_commit_callbacks(execute=True):
            services.invite_delivered_sessions(NOW)
        mailoutbox.clear()

        with django_capture_on_commit_callbacks(execute=True):
            scheduling_services.record_enrollment_attendance(
                enrollment=acme.bob, membership=tenant_a.members[Role.PROVIDER_MANAGER], present=True, now=NOW
            )

    assert [message.to for message in mailoutbox] == [["bob@acme.example"]]
    assert [name for name, *_ in invited(tenant_a)] == ["Ann", "Bob", "Cy", "Dee"]


def test_learners_who_already_rated_the_session_another_way_are_not_asked(acme, tenant_a):
    with tenant_a.scope():
        feedback(acme.session, 4, 4, learner=acme.ann.learner)

        count = services.invite_present_learners(acme.session, NOW)

    assert count == 2
    assert [name for name, *_ in invited(tenant_a)] == ["Cy", "Dee"]


@pytest.mark.parametrize(
    ("starts_at", "status"),
    [
        (STARTS - timedelta(days=15), SessionStatus.DELIVERED),  # history: ended before the 14-day window
        (STARTS, SessionStatus.CONFIRMED),  # not delivered
        (NOW + timedelta(days=1), SessionStatus.DELIVERED),  # not begun (a wrong import)
    ],
    ids=["history", "not-delivered", "future"],
)
def test_sessions_outside_the_survey_window_ask_nobody(tenant_a, clock, mailoutbox, starts_at, status):
    history = delivered_session(tenant_a, starts_at=starts_at)
    with tenant_a.scope():
        Session.objects.filter(pk=history.session.pk).update(status=status)

        direct = services.invite_present_learners(history.session, NOW)
        swept = services.invite_delivered_sessions(NOW)

    assert (direct, swept, invited(tenant_a), mailoutbox) == (0, 0, [], [])


def test_attendance_of_a_past_session_recorded_through_the_api_path_asks_nobody(
    tenant_a, clock, mailoutbox, django_capture_on_commit_callbacks
):
    """History: the API's attendance upsert of a session delivered two months ago (outside the survey window)."""
    history = delivered_session(tenant_a, starts_at=STARTS - timedelta(days=60))
    with tenant_a.scope(), django_capture_on_commit_callbacks(execute=True):
        scheduling_services.record_enrollment_attendance(
            enrollment=history.bob, membership=tenant_a.members[Role.PROVIDER_MANAGER], present=True, now=NOW
        )

    assert (invited(tenant_a), mailoutbox) == ([], [])


def test_marking_a_session_delivered_asks_its_present_learners(
    tenant_a, clock, mailoutbox, django_capture_on_commit_callbacks
):
    confirmed = delivered_session(tenant_a)
    with tenant_a.scope():
        Session.objects.filter(pk=confirmed.session.pk).update(status=SessionStatus.CONFIRMED)
        confirmed.session.refresh_from_db()

        with django_capture_on_commit_callbacks(execute=True):
            scheduling_services.mark_delivered(
                session=confirmed.session, membership=tenant_a.members[Role.PROVIDER_MANAGER]
            )

    assert sorted(message.to[0] for message in mailoutbox) == [
        "ann@acme.example",
        "cy@acme.example",
        "dee@acme.example",
    ]
    assert [name for name, *_ in invited(tenant_a)] == ["Ann", "Cy", "Dee"]


# --- The learner's answer ----------------------------------------------------------------------------------------


def test_the_learners_answer_is_feedback_audited_as_the_learner_and_answers_the_invitation(acme, tenant_a):
    with tenant_a.scope():
        services.invite_present_learners(acme.session, NOW)

        services.answer_survey(acme.ann, services.Answer(5, 4, " Very practical. "), now=NOW)

        assert list(
            Feedback.objects.values_list(
                "session", "learner", "instructor_score", "overall_score", "comment", "submitted_at"
            )
        ) == [(acme.session.pk, acme.ann.learner_id, 5, 4, "Very practical.", NOW)]
        event = AuditEvent.objects.get(action="feedback.submitted_by_learner")
        assert (event.actor, event.actor_label, event.after["learner"]) == (None, "", acme.ann.learner_id)
        assert list(
            SurveyInvitation.objects.order_by("enrollment__learner__name").values_list("answered_at", flat=True)
        ) == [
            NOW,
            None,
            None,
        ]


def _codes(error: ValidationError) -> dict[str, list[str]]:
    return {field: [item.code or "" for item in items] for field, items in error.error_dict.items()}


def test_the_learner_path_refuses_an_absent_learner(acme, tenant_a):
    with tenant_a.scope():
        with pytest.raises(ValidationError) as refused:
            scheduling_services.submit_learner_feedback(
                enrollment=acme.bob, instructor_score=5, overall_score=5, now=NOW
            )
        stored = Feedback.objects.count()

    assert stored == 0
    assert refused.value.message_dict == {
        "enrollment": ["Only a learner who attended the session (or was enrolled on it once delivered) rates it."]
    }


CANCELLED = {
    "status": SessionStatus.CANCELLED,
    "cancelled_at": NOW,
    "cancelled_by": "provider",
    "cancellation_reason": "Ill",
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"status": SessionStatus.CONFIRMED}, "This session has not been delivered yet, so it cannot be rated."),
        (CANCELLED, "This session was cancelled, so there is nothing to rate."),
    ],
    ids=["confirmed", "cancelled"],
)
def test_the_learner_path_refuses_a_session_not_delivered(acme, tenant_a, change, message):
    with tenant_a.scope():
        Session.objects.filter(pk=acme.session.pk).update(**change)
        acme.ann.session.refresh_from_db()

        with pytest.raises(ValidationError) as refused:
            scheduling_services.submit_learner_feedback(
                enrollment=acme.ann, instructor_score=5, overall_score=5, now=NOW
            )

    assert refused.value.message_dict == {"session": [message]}


def test_the_learner_path_refuses_a_second_answer(acme, tenant_a):
    with tenant_a.scope():
        scheduling_services.submit_learner_feedback(enrollment=acme.ann, instructor_score=5, overall_score=5, now=NOW)

        with pytest.raises(ValidationError) as refused:
            scheduling_services.submit_learner_feedback(
                enrollment=acme.ann, instructor_score=1, overall_score=1, now=NOW
            )

        assert _codes(refused.value) == {"enrollment": [scheduling_services.ALREADY_RATED]}
        assert list(Feedback.objects.values_list("instructor_score", flat=True)) == [5]


def test_the_provider_path_refuses_what_the_learner_already_answered(acme, tenant_a):
    with tenant_a.scope():
        scheduling_services.submit_learner_feedback(enrollment=acme.ann, instructor_score=5, overall_score=5, now=NOW)

        with pytest.raises(ValidationError) as refused:
            scheduling_services.submit_feedback(
                enrollment=acme.ann,
                membership=tenant_a.members[Role.PROVIDER_MANAGER],
                instructor_score=2,
                overall_score=2,
                submitted_at=NOW,
                now=NOW,
            )

    assert refused.value.message_dict == {"enrollment": ["Ann has already rated this session."]}


@pytest.mark.django_db(transaction=True)
def test_two_racing_answers_give_one_feedback_and_already_answered(tenant_a, clock):
    """The first answer's row is inserted but not committed when the second checks: the check sees nothing, the
    database's unique constraint makes the second wait, then refuse; the service answers "already rated"."""
    race = delivered_session(tenant_a)
    inserted, release = threading.Event(), threading.Event()

    def first_answer() -> None:
        try:
            with tenant_a.scope(), transaction.atomic():
                scheduling_services.submit_learner_feedback(
                    enrollment=race.ann, instructor_score=5, overall_score=5, now=NOW
                )
                inserted.set()
                release.wait(timeout=10)
        finally:
            connection.close()

    def release_once_the_second_waits() -> None:
        """Poll (with a deadline: 1,000 looks 10 ms apart) until a backend waits for a lock: the second insert,
        blocked on the first's uncommitted row."""
        try:
            with connection.cursor() as cursor:
                for _ in range(1000):
                    cursor.execute(
                        "SELECT count(*) FROM pg_stat_activity"
                        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                    )
                    if cursor.fetchone()[0] or release.wait(0.01):
                        break
            release.set()
        finally:
            connection.close()

    first = threading.Thread(target=first_answer)
    first.start()
    assert inserted.wait(timeout=10)
    releaser = threading.Thread(target=release_once_the_second_waits)
    releaser.start()

    with tenant_a.scope(), pytest.raises(ValidationError) as refused:
        scheduling_services.submit_learner_feedback(enrollment=race.ann, instructor_score=1, overall_score=1, now=NOW)
    first.join(timeout=10)
    releaser.join(timeout=10)

    assert _codes(refused.value) == {"enrollment": [scheduling_services.ALREADY_RATED]}
    with tenant_a.scope():
        assert list(Feedback.objects.values_list("instructor_score", flat=True)) == [5]
