"""The beat jobs of learner communications, run as Celery runs them (eagerly here): per organization, in its
scope, safe to run twice."""

from datetime import timedelta

import pytest
from django.core import mail

from communications.enums import MessageKind, MessageStatus
from communications.models import LearnerMessage
from communications.tasks import dispatch_learner_message_sweep, dispatch_learner_reminders

from .conftest import NOW, STARTS

pytestmark = pytest.mark.unit


def test_the_reminder_beat_job_run_twice_reminds_once(
    delivery, tenant_b, time_machine, django_capture_on_commit_callbacks
):
    session = delivery.session()
    learner = delivery.learner()
    delivery.enroll(session, learner)
    time_machine.move_to(STARTS - timedelta(days=7, hours=-2), tick=False)

    with django_capture_on_commit_callbacks(execute=True):
        dispatch_learner_reminders.delay()
        dispatch_learner_reminders.delay()

    reminders = LearnerMessage.objects.filter(kind=MessageKind.REMINDER)
    assert list(reminders.values_list("learner", "offset_days", "status")) == [(learner.pk, 7, MessageStatus.SENT)]
    assert [m.to for m in mail.outbox] == [[learner.email]]


def test_the_sweep_beat_job_sends_a_message_whose_look_now_was_lost(
    delivery, time_machine, django_capture_on_commit_callbacks
):
    session = delivery.session()
    delivery.enroll(session, delivery.learner())  # its commit hook never runs: the "look now" is lost
    time_machine.move_to(NOW + timedelta(minutes=3), tick=False)

    with django_capture_on_commit_callbacks(execute=True):
        dispatch_learner_message_sweep.delay()

    assert (LearnerMessage.objects.get().status, len(mail.outbox)) == (MessageStatus.SENT, 1)
