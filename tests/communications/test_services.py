"""Learner messages: what each kind says and carries, to whom, in which language and zone, and when it is not
sent (opt-out, the past, a reminder already written)."""

import socket
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail

from certificates.models import Certificate
from certificates.selectors import verification_url
from communications import services
from communications.enums import MessageKind, MessageStatus
from communications.models import CommunicationSettings, LearnerMessage
from scheduling import services as delivery_services
from scheduling.enums import Modality

from .conftest import NOW, STARTS, calendar_of, event_of

pytestmark = pytest.mark.unit

BERLIN = ZoneInfo("Europe/Berlin")


def _sent(django_capture_on_commit_callbacks, write):
    with django_capture_on_commit_callbacks(execute=True):
        return write()


def test_confirmation_carries_a_request_invitation_in_the_venue_zone_with_the_feed_uid(
    delivery, django_capture_on_commit_callbacks
):
    session = delivery.session()
    ada = delivery.learner(name="Ada", email="ada@acme.example")

    enrollment = _sent(django_capture_on_commit_callbacks, lambda: delivery.enroll(session, ada))

    (email,) = mail.outbox
    calendar, content_type = calendar_of(email)
    event = event_of(calendar)
    assert (email.to, email.subject) == (["ada@acme.example"], "Your place: Leading hybrid teams on 10 Mar 2026")
    assert (str(calendar["METHOD"]), content_type) == ("REQUEST", 'text/calendar; charset="utf-8"; method="REQUEST"')
    assert event["DTSTART"].dt == datetime(2026, 3, 10, 10, 0, tzinfo=BERLIN)
    assert event["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert [c["TZID"] for c in calendar.walk("VTIMEZONE")] == ["Europe/Berlin"]
    assert str(event["UID"]) == f"session-{session.organization_id}-{session.pk}@mls"
    assert (event["SEQUENCE"], str(event["ATTENDEE"])) == (0, "mailto:ada@acme.example")
    assert email.body == (
        "Dear Ada,\n\n"
        "You are enrolled on Leading hybrid teams (LHT-101) on 10 Mar 2026, 10:00–13:00 (Europe/Berlin).\n\n"
        "Venue: Berlin centre\nRoom: Room 2\nAddress: Unter den Linden 1, 10117 Berlin\n\n"
        "The attached calendar invitation adds the session to your calendar; if it moves, we will send you an "
        "update.\n\nAcme Corp\n"
    )
    message = LearnerMessage.objects.get()
    assert (message.enrollment, message.kind, message.status, message.sent_at) == (
        enrollment,
        MessageKind.ENROLLMENT_CONFIRMATION,
        MessageStatus.SENT,
        NOW,
    )


@pytest.mark.parametrize(
    ("modality", "instructions"),
    [
        (Modality.VILT, "Join online: https://meet.example/lht"),
        (
            Modality.HYBRID,
            "Venue: Berlin centre\nRoom: Room 2\nAddress: Unter den Linden 1, 10117 Berlin\n"
            "Join online: https://meet.example/lht",
        ),
    ],
)
def test_joining_instructions_follow_the_modality(delivery, django_capture_on_commit_callbacks, modality, instructions):
    session = delivery.session(modality=modality)

    _sent(django_capture_on_commit_callbacks, lambda: delivery.enroll(session, delivery.learner()))

    assert mail.outbox[0].body.split("\n\n")[2] == instructions


def test_a_waitlisted_learner_gets_no_confirmation(delivery, django_capture_on_commit_callbacks):
    session = delivery.session(capacity=1)
    delivery.enroll(session, delivery.learner())

    _sent(django_capture_on_commit_callbacks, lambda: delivery.enroll(session, delivery.learner()))

    assert LearnerMessage.objects.filter(kind=MessageKind.ENROLLMENT_CONFIRMATION).count() == 1


def test_times_are_in_the_learners_own_zone_when_they_have_one(delivery, django_capture_on_commit_callbacks):
    session = delivery.session()
    learner = delivery.learner(name="Grace", timezone="America/New_York")

    _sent(django_capture_on_commit_callbacks, lambda: delivery.enroll(session, learner))

    # 09:00 UTC on 10 March 2026 is 05:00 in New York (daylight time began on 8 March).
    assert mail.outbox[0].body.split("\n\n")[1] == (
        "You are enrolled on Leading hybrid teams (LHT-101) on 10 Mar 2026, 05:00–08:00 (America/New_York)."
    )


def test_a_german_learner_reads_german(delivery, django_capture_on_commit_callbacks):
    session = delivery.session()
    learner = delivery.learner(name="Lena", language="de")

    _sent(django_capture_on_commit_callbacks, lambda: delivery.enroll(session, learner))

    (email,) = mail.outbox
    assert email.subject == "Ihr Platz: Leading hybrid teams am 10. Mär 2026"
    assert email.body.split("\n\n")[:2] == [
        "Guten Tag Lena,",
        "Sie sind für Leading hybrid teams (LHT-101) am 10. Mär 2026, 10:00–13:00 (Europe/Berlin) angemeldet.",
    ]
    assert email.body.split("\n\n")[2] == (
        "Veranstaltungsort: Berlin centre\nRaum: Room 2\nAdresse: Unter den Linden 1, 10117 Berlin"
    )
    assert LearnerMessage.objects.get().language == "de"


def test_cancellation_sends_cancel_with_the_same_uid_and_a_higher_sequence(
    delivery, django_capture_on_commit_callbacks
):
    session = delivery.session()
    learner = delivery.learner()
    _sent(django_capture_on_commit_callbacks, lambda: delivery.enroll(session, learner))

    _sent(
        django_capture_on_commit_callbacks,
        lambda: delivery_services.cancel_session(
            session=session, membership=delivery.pm, cancelled_by="provider", reason="Trainer ill"
        ),
    )

    invited, cancelled = (event_of(calendar_of(email)[0]) for email in mail.outbox)
    calendar, content_type = calendar_of(mail.outbox[1])
    assert mail.outbox[1].subject == "Cancelled: Leading hybrid teams on 10 Mar 2026"
    assert (str(calendar["METHOD"]), content_type) == ("CANCEL", 'text/calendar; charset="utf-8"; method="CANCEL"')
    assert (str(cancelled["UID"]), cancelled["SEQUENCE"], str(cancelled["STATUS"])) == (
        str(invited["UID"]),
        1,
        "CANCELLED",
    )


def test_reschedule_moves_the_same_event_with_a_newer_sequence(delivery, django_capture_on_commit_callbacks):
    session = delivery.session()
    learner = delivery.learner()
    delivery.enroll(session, learner)
    delivery_services.cancel_session(session=session, membership=delivery.pm, cancelled_by="provider", reason="Ill")

    _sent(
        django_capture_on_commit_callbacks,
        lambda: delivery_services.reschedule_session(
            session=session,
            membership=delivery.pm,
            starts_at=STARTS + timedelta(days=7),
            ends_at=STARTS + timedelta(days=7, hours=3),
        ),
    )

    (email,) = mail.outbox
    calendar, _ = calendar_of(email)
    event = event_of(calendar)
    assert email.subject == "Rescheduled: Leading hybrid teams"
    assert (str(calendar["METHOD"]), str(event["UID"]), event["SEQUENCE"]) == (
        "REQUEST",
        f"session-{session.organization_id}-{session.pk}@mls",
        2,
    )
    assert event["DTSTART"].dt == datetime(2026, 3, 17, 10, 0, tzinfo=BERLIN)


def test_a_reminder_is_sent_once_per_offset_however_often_the_job_runs(delivery, django_capture_on_commit_callbacks):
    session = delivery.session()
    learner = delivery.learner(name="Ada")
    delivery.enroll(session, learner)
    week_before, day_before = STARTS - timedelta(days=7, hours=-1), STARTS - timedelta(days=1, hours=-1)

    with django_capture_on_commit_callbacks(execute=True):
        runs = [
            services.queue_due_reminders(now=week_before),
            services.queue_due_reminders(now=week_before + timedelta(hours=1)),
            services.queue_due_reminders(now=day_before),
            services.queue_due_reminders(now=day_before),
        ]

    assert runs == [1, 0, 1, 0]
    assert [m.subject for m in mail.outbox] == ["Reminder: Leading hybrid teams on 10 Mar 2026"] * 2
    assert list(LearnerMessage.objects.filter(kind=MessageKind.REMINDER).values_list("offset_days", flat=True)) == [
        1,
        7,
    ]
    assert mail.outbox[0].body.split("\n\n")[1] == (
        "This is a reminder that Leading hybrid teams takes place in 7 day(s): on 10 Mar 2026, 10:00–13:00 "
        "(Europe/Berlin)."
    )


def test_reminders_follow_the_organizations_offsets_and_skip_waitlists_and_unconfirmed_sessions(delivery):
    CommunicationSettings.objects.create(organization=delivery.tenant.organization, reminder_offsets=[3])
    session = delivery.session(capacity=1)
    seated, waiting = delivery.learner(), delivery.learner()
    delivery.enroll(session, seated)
    delivery.enroll(session, waiting)
    requested = delivery_services.request_session(
        engagement=delivery.engagement,
        membership=delivery.pm,
        course=delivery.course,
        modality=Modality.VILT,
        starts_at=STARTS,
        ends_at=STARTS + timedelta(hours=1),
        capacity=5,
        join_url="https://meet.example/x",
    )
    delivery.enroll(requested, delivery.learner())

    assert services.queue_due_reminders(now=STARTS - timedelta(days=7)) == 0
    assert services.queue_due_reminders(now=STARTS - timedelta(days=3)) == 1
    assert list(LearnerMessage.objects.filter(kind=MessageKind.REMINDER).values_list("learner", "offset_days")) == [
        (seated.pk, 3)
    ]


def test_an_opted_out_learner_gets_no_reminder_but_is_told_of_a_cancellation(
    delivery, django_capture_on_commit_callbacks
):
    session = delivery.session()
    learner = delivery.learner(optional_messages_opted_out=True)
    delivery.enroll(session, learner)

    with django_capture_on_commit_callbacks(execute=True):
        reminded = services.queue_due_reminders(now=STARTS - timedelta(hours=23))
        delivery_services.cancel_session(
            session=session, membership=delivery.pm, cancelled_by="client", reason="Offsite"
        )

    assert reminded == 0
    assert list(LearnerMessage.objects.values_list("kind", flat=True)) == [
        MessageKind.SESSION_CANCELLED,
        MessageKind.ENROLLMENT_CONFIRMATION,
    ]
    assert [m.subject for m in mail.outbox] == ["Cancelled: Leading hybrid teams on 10 Mar 2026"]


def test_the_line_manager_gets_a_copy_of_the_kinds_the_organization_chose(delivery, django_capture_on_commit_callbacks):
    services.save_communication_settings(
        membership=delivery.tenant.members["owner"],
        reminder_offsets=[7, 1],
        manager_copy_kinds=[MessageKind.SESSION_CANCELLED],
    )
    session = delivery.session()
    learner = delivery.learner(manager_email="boss@acme.example")

    with django_capture_on_commit_callbacks(execute=True):
        delivery.enroll(session, learner)
        delivery_services.cancel_session(session=session, membership=delivery.pm, cancelled_by="client", reason="X")

    assert [(m.subject.split(":")[0], m.to, m.cc) for m in mail.outbox] == [
        ("Your place", [learner.email], []),
        ("Cancelled", [learner.email], ["boss@acme.example"]),
    ]


def test_no_message_about_a_session_that_has_ended(delivery, django_capture_on_commit_callbacks, time_machine):
    session = delivery.session()
    learner = delivery.learner()
    delivery.enroll(session, learner)
    mail.outbox.clear()
    time_machine.move_to(STARTS + timedelta(days=1), tick=False)

    with django_capture_on_commit_callbacks(execute=True):
        delivery_services.cancel_session(session=session, membership=delivery.pm, cancelled_by="client", reason="X")

    assert (LearnerMessage.objects.filter(kind=MessageKind.SESSION_CANCELLED).count(), mail.outbox) == (0, [])


def test_a_promoted_learner_is_told_with_an_invitation(delivery, django_capture_on_commit_callbacks):
    session = delivery.session(capacity=1)
    first, second = delivery.learner(), delivery.learner(name="Second")
    seat = delivery.enroll(session, first)
    delivery.enroll(session, second)

    _sent(
        django_capture_on_commit_callbacks,
        lambda: delivery_services.cancel_enrollment(enrollment=seat, membership=delivery.pm),
    )

    (email,) = mail.outbox
    assert (email.to, email.subject) == ([second.email], "You have a place: Leading hybrid teams")
    assert str(calendar_of(email)[0]["METHOD"]) == "REQUEST"


def test_completion_is_sent_with_its_certificate_and_not_for_imports(delivery, django_capture_on_commit_callbacks):
    learner = delivery.learner(name="Ada")

    with django_capture_on_commit_callbacks(execute=True):
        for source in ("provider_log", "import"):
            delivery_services.record_completion(
                learner=learner,
                course=delivery.course,
                completed_at=NOW,
                membership=delivery.pm,
                engagement=delivery.engagement,
                source=source,
            )

    [message] = mail.outbox
    [(filename, content, mimetype)] = message.attachments
    assert (message.subject, filename, mimetype, content[:5]) == (
        "Completed: Leading hybrid teams",
        "certificate-lht-101-ada.pdf",
        "application/pdf",
        b"%PDF-",
    )
    # The certificate of the logged completion (the import's has none): its public check is in the email.
    [certificate] = Certificate.objects.all()
    assert f"check it at {verification_url(certificate)}\n" in message.body


def test_a_failing_mail_server_marks_the_message_failed(delivery, settings, django_capture_on_commit_callbacks):
    with socket.socket() as probe:  # a port nothing listens on: the SMTP connection is refused
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", closed_port, 2
    session = delivery.session()

    enrollment = _sent(django_capture_on_commit_callbacks, lambda: delivery.enroll(session, delivery.learner()))

    message = LearnerMessage.objects.get()
    assert (message.status, message.sent_at, message.error.split(":")[0]) == (
        MessageStatus.FAILED,
        None,
        "ConnectionRefusedError",
    )
    assert enrollment.status == "enrolled"


def test_a_message_is_sent_once_however_many_times_a_worker_is_told(delivery, django_capture_on_commit_callbacks):
    session = delivery.session()
    _sent(django_capture_on_commit_callbacks, lambda: delivery.enroll(session, delivery.learner()))
    message = LearnerMessage.objects.get()

    again = services.send_learner_message(message.pk)

    assert (again.status, len(mail.outbox)) == (MessageStatus.SENT, 1)


def test_the_sweep_sends_a_message_whose_look_now_was_lost(delivery, time_machine):
    session = delivery.session()
    delivery.enroll(session, delivery.learner())  # the commit hook never runs: the message is lost
    time_machine.move_to(NOW + timedelta(minutes=5), tick=False)

    swept = services.sweep_learner_messages(now=NOW + timedelta(minutes=5))

    assert (swept.requeued, LearnerMessage.objects.get().status) == (1, MessageStatus.QUEUED)
