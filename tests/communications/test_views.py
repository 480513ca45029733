"""The message logs (a learner's, a session's) and the wording editor, through the client."""

import socket

import pytest
from django.core import mail
from django.urls import reverse

from communications.enums import MessageKind, MessageStatus
from communications.models import LearnerMessage, MessageTemplate
from communications.selectors import communication_settings
from mls.enums import Role

from .conftest import Delivery

pytestmark = pytest.mark.integration


def _url(tenant, name, **kwargs):
    return reverse(name, kwargs={"organization_slug": tenant.organization.slug, **kwargs})


def _messages(tenant, count):
    """A session with `count` enrolled learners (each confirmed by a message, still queued), one of them failed."""
    with tenant.scope():
        delivery = Delivery(tenant)
        session = delivery.session()
        learners = [delivery.learner(name=f"Learner {n}") for n in range(count)]
        for learner in learners:
            delivery.enroll(session, learner)
        LearnerMessage.objects.filter(learner=learners[0]).update(status=MessageStatus.FAILED, error="SMTP refused")
    return session, learners


@pytest.mark.parametrize("count", [1, 3])
def test_the_session_log_lists_every_message_newest_first_in_constant_queries(
    client, tenant_a, count, django_assert_num_queries, time_machine
):
    time_machine.move_to("2026-03-01T08:00Z", tick=False)
    session, learners = _messages(tenant_a, count)
    client.force_login(tenant_a.user(Role.VIEWER))

    with django_assert_num_queries(9):
        response = client.get(_url(tenant_a, "communications:session_messages", pk=session.pk))

    rows = [(m.learner_id, m.kind, m.status) for m in response.context["page"].object_list]
    expected = [(learner.pk, MessageKind.ENROLLMENT_CONFIRMATION, MessageStatus.QUEUED) for learner in learners]
    expected[0] = (learners[0].pk, MessageKind.ENROLLMENT_CONFIRMATION, MessageStatus.FAILED)
    assert rows == expected[::-1]
    assert "SMTP refused" in response.content.decode()


@pytest.mark.parametrize("count", [1, 3])
def test_the_learner_log_lists_the_learners_messages_in_constant_queries(
    client, tenant_a, count, django_assert_num_queries, time_machine
):
    time_machine.move_to("2026-03-01T08:00Z", tick=False)
    session, learners = _messages(tenant_a, count)
    with tenant_a.scope():
        for _ in range(count - 1):  # more messages to the same learner
            LearnerMessage.objects.create(
                organization=tenant_a.organization,
                learner=learners[0],
                session=session,
                kind=MessageKind.SESSION_CHANGED,
                to=learners[0].email,
                subject="Rescheduled",
                body="…",
                language="en-gb",
            )
    client.force_login(tenant_a.user(Role.VIEWER))

    with django_assert_num_queries(9):
        response = client.get(_url(tenant_a, "communications:learner_messages", pk=learners[0].pk))

    assert [m.learner_id for m in response.context["page"].object_list] == [learners[0].pk] * count


def test_an_empty_log_says_so(client, tenant_a):
    with tenant_a.scope():
        learner = Delivery(tenant_a).learner()
    client.force_login(tenant_a.user(Role.VIEWER))

    response = client.get(_url(tenant_a, "communications:learner_messages", pk=learner.pk))

    assert list(response.context["page"].object_list) == []
    assert "No message has been written to this learner yet." in response.content.decode()


def test_another_tenants_learner_and_session_are_404(client, tenant_a, tenant_b, time_machine):
    time_machine.move_to("2026-03-01T08:00Z", tick=False)
    session, learners = _messages(tenant_b, 1)
    client.force_login(tenant_a.user(Role.OWNER))

    answers = [
        client.get(_url(tenant_a, "communications:session_messages", pk=session.pk)).status_code,
        client.get(_url(tenant_a, "communications:learner_messages", pk=learners[0].pk)).status_code,
    ]

    assert answers == [404, 404]


def test_a_provider_manager_sees_only_messages_about_its_providers_sessions(client, tenant_a, time_machine):
    time_machine.move_to("2026-03-01T08:00Z", tick=False)
    tenant_a.with_second_provider()
    session, learners = _messages(tenant_a, 1)
    with tenant_a.scope():
        LearnerMessage.objects.create(
            organization=tenant_a.organization,
            learner=learners[0],
            session=tenant_a.other.delivery.session,
            kind=MessageKind.SESSION_CHANGED,
            to=learners[0].email,
            subject="Another provider's",
            body="…",
            language="en-gb",
        )
    client.force_login(tenant_a.user(Role.PROVIDER_MANAGER))

    response = client.get(_url(tenant_a, "communications:learner_messages", pk=learners[0].pk))

    assert [m.session_id for m in response.context["page"].object_list] == [session.pk]


def test_the_owner_saves_previews_and_tests_a_german_wording(client, tenant_a, django_capture_on_commit_callbacks):
    owner = tenant_a.user(Role.OWNER)
    client.force_login(owner)
    url = _url(tenant_a, "communications:template", kind=MessageKind.REMINDER, language="de")
    wording = {"subject": "Bald: {{ course_title }}", "body": "Hallo {{ learner_name }}, am {{ session_date }}."}

    shown = client.get(url)
    preview = client.post(url, {**wording, "action": "preview"})
    saved = client.post(url, {**wording, "action": "save"})
    with django_capture_on_commit_callbacks(execute=True):
        tested = client.post(url, {**wording, "action": "test"})

    assert shown.context["form"].initial["subject"] == "Erinnerung: {{ course_title }} am {{ session_date }}"
    assert preview.context["preview"] == ("Bald: Hybride Teams führen", "Hallo Ada Lovelace, am 02. Mär 2026.\n")
    assert (saved.status_code, tested.status_code) == (302, 302)
    with tenant_a.scope():
        assert list(MessageTemplate.objects.values_list("kind", "language", "subject")) == [
            ("reminder", "de", "Bald: {{ course_title }}")
        ]
        assert list(LearnerMessage.objects.values_list("kind", "to", "status")) == [
            (MessageKind.TEST, owner.email, MessageStatus.SENT)
        ]
    assert [(m.subject, m.to) for m in mail.outbox] == [("Bald: Hybride Teams führen", [owner.email])]


def test_a_broken_wording_is_refused_on_the_form(client, tenant_a):
    client.force_login(tenant_a.user(Role.OWNER))
    url = _url(tenant_a, "communications:template", kind=MessageKind.REMINDER, language="en-gb")

    response = client.post(url, {"subject": "{% if %}", "body": "Fine", "action": "save"})

    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["subject"]
    with tenant_a.scope():
        assert MessageTemplate.objects.count() == 0


def test_the_owner_sets_reminder_days_and_manager_copies(client, tenant_a):
    client.force_login(tenant_a.user(Role.OWNER))

    response = client.post(
        _url(tenant_a, "communications:settings"),
        {"reminder_offsets": "1, 14", "manager_copy_kinds": [MessageKind.SESSION_CANCELLED]},
    )
    refused = client.post(_url(tenant_a, "communications:settings"), {"reminder_offsets": "0"})

    assert (response.status_code, refused.status_code) == (302, 400)
    with tenant_a.scope():
        options = communication_settings()
    assert (options.reminder_offsets, options.manager_copy_kinds) == ([14, 1], ["session_cancelled"])


def test_a_learners_language_zone_and_opt_out_are_kept_on_their_message_page(client, tenant_a):
    with tenant_a.scope():
        learner = Delivery(tenant_a).learner()
    client.force_login(tenant_a.user(Role.PROVIDER_MANAGER))
    url = _url(tenant_a, "communications:learner_preferences", pk=learner.pk)

    refused = client.post(url, {"language": "de", "timezone": "Mars/Olympus"})
    saved = client.post(url, {"language": "de", "timezone": "America/New_York", "optional_messages_opted_out": "on"})

    assert (refused.status_code, saved.status_code) == (400, 302)
    assert list(refused.context["preferences_form"].errors) == ["timezone"]
    learner.refresh_from_db()
    assert (learner.language, learner.timezone, learner.optional_messages_opted_out) == (
        "de",
        "America/New_York",
        True,
    )


@pytest.mark.django_db(transaction=True)  # commits for real, so the message is sent inside the request
def test_a_refused_send_marks_the_message_failed_and_the_enrollment_still_succeeds(
    client, tenant_a, settings, time_machine
):
    time_machine.move_to("2026-03-01T08:00Z", tick=False)
    with socket.socket() as probe:  # a port nothing listens on: the SMTP connection is refused
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", closed_port, 2
    with tenant_a.scope():
        delivery = Delivery(tenant_a)
        session, learner = delivery.session(), delivery.learner()
    client.force_login(tenant_a.user(Role.PROVIDER_MANAGER))

    response = client.post(_url(tenant_a, "scheduling:session_enroll", pk=session.pk), {"learner": [learner.pk]})

    assert response.status_code == 302
    with tenant_a.scope():
        assert list(session.enrollments.values_list("learner", "status")) == [(learner.pk, "enrolled")]
        message = LearnerMessage.objects.get()
    assert (message.status, message.error.split(":")[0]) == (MessageStatus.FAILED, "ConnectionRefusedError")
