"""An installation set to German (LANGUAGE_CODE=de): a learner nobody gave a language reads German, from the
confirmation email to the certificate attached to the completion email (the dashboard: tests/mls/test_translations)."""

import pytest
from django.core import mail

from scheduling import services as delivery_services
from tests.reporting.pdf_tools import pdf_text

pytestmark = pytest.mark.integration


def test_language_code_de_writes_the_email_and_the_certificate_in_german(
    delivery, settings, django_capture_on_commit_callbacks
):
    settings.LANGUAGE_CODE = "de"
    session = delivery.session()
    learner = delivery.learner(name="Lena")  # no language given

    with django_capture_on_commit_callbacks(execute=True):
        delivery.enroll(session, learner)
    with django_capture_on_commit_callbacks(execute=True):
        delivery_services.record_completion(
            learner=learner,
            course=delivery.course,
            completed_at=session.ends_at,
            membership=delivery.pm,
            engagement=delivery.engagement,
            session=session,
        )

    confirmation, completion = mail.outbox
    assert learner.language == "de"
    assert confirmation.body.split("\n\n")[:2] == [
        "Guten Tag Lena,",
        "Sie sind für Leading hybrid teams (LHT-101) am 10. Mär 2026, 10:00–13:00 (Europe/Berlin) angemeldet.",
    ]
    [(_filename, content, _mimetype)] = completion.attachments
    text = " ".join(pdf_text(content).split())
    assert text.startswith(
        "ACME CORP Zertifikat Hiermit wird bestätigt, dass Lena den folgenden Kurs erfolgreich abgeschlossen hat "
        "Leading hybrid teams Kurs LHT-101 · 3 Stunden Abgeschlossen am 10. März 2026 Durchgeführt von "
    )
    assert "Prüfen Sie die Echtheit dieses Zertifikats unter" in text
