"""The delivery pages and import errors in German: a member whose browser asks for German reads the session page in
it, a CSV import's row errors keep their row and column with the message translated, and an import run later by
the worker is written in the uploader's language, not the worker's."""

from datetime import date, timedelta

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from mls.enums import Role
from scheduling import import_jobs, services
from scheduling.enums import DeliveryLanguage, Modality
from scheduling.imports import RowError, import_csv
from scheduling.models import ComplianceAssignment, ComplianceRequirement, ImportJob, RequirementCourse
from tests.factories.engagements import EngagementFactory
from tests.factories.scheduling import CourseFactory, LearnerFactory, at

pytestmark = pytest.mark.integration

GERMAN = {"HTTP_ACCEPT_LANGUAGE": "de"}
OWNER = Role.OWNER
NAMELESS_LEARNER = b"external_id,name,email\nL-1,,ada@example.com\n"  # data row 2 lacks its name


def org_url(tenant, name, **kwargs):
    return reverse(name, kwargs={"organization_slug": tenant.organization.slug, **kwargs})


@pytest.fixture
def session(tenant_a):
    org = tenant_a.organization
    engagement = EngagementFactory(organization=org, provider=tenant_a.provider, name="Managed learning 2026")
    course = CourseFactory(organization=org, code="FUE-1", title="Führung", language=DeliveryLanguage.DE)
    with tenant_a.scope():
        requested = services.request_session(
            engagement=engagement,
            membership=tenant_a.members[Role.PROVIDER_MANAGER],
            course=course,
            modality=Modality.VILT,
            starts_at=at(2, 9),
            ends_at=at(2, 9) + timedelta(hours=3),
            capacity=12,
            join_url="https://meet.example.com/fue-1",
        )
        services.enroll_many(
            session=requested,
            membership=tenant_a.members[Role.PROVIDER_MANAGER],
            learners=[LearnerFactory(organization=org, name="Ada")],
            emails=[],
        )
    return requested


def test_session_page_reads_in_german_for_a_german_browser(client, tenant_a, session):
    client.force_login(tenant_a.user(Role.PROVIDER_MANAGER))

    page = client.get(org_url(tenant_a, "scheduling:session", pk=session.pk), **GERMAN).content.decode()

    assert "<dt>Durchführungssprache</dt><dd>Deutsch</dd>" in page
    assert '<dt>Ort</dt><dd><a href="https://meet.example.com/fue-1">Teilnahmelink</a></dd>' in page
    assert 'Teilnehmerliste <span class="muted">1/12 Plätze</span>' in page
    assert "<h2>Termin absagen</h2>" in page
    assert "Virtuell, trainergeführt" in page  # the modality's label
    assert "Angefragt" in page  # the status badge


def test_session_page_stays_english_by_default(client, tenant_a, session):
    client.force_login(tenant_a.user(Role.PROVIDER_MANAGER))

    page = client.get(org_url(tenant_a, "scheduling:session", pk=session.pk)).content.decode()

    assert "<dt>Delivery language</dt><dd>German</dd>" in page
    assert 'Roster <span class="muted">1/12 seats</span>' in page


def test_session_list_filter_and_columns_read_in_german(client, tenant_a, session):
    client.force_login(tenant_a.user(Role.VIEWER))

    page = client.get(org_url(tenant_a, "scheduling:sessions"), {"language": "de"}, **GERMAN).content.decode()

    assert '<label for="id_language">Sprache</label>' in page
    assert "<td>Deutsch</td>" in page
    assert "Wann (Europe/London)" in page


def test_csv_import_error_in_german_keeps_its_row_and_column(tenant_a, session):
    text = "\n".join(
        [
            "external_id,engagement,course_code,modality,starts_at,ends_at,capacity,language",
            "S-1,Managed learning 2026,FUE-1,vilt,2026-03-02T09:00:00+00:00,2026-03-02T12:00:00+00:00,10,xx",
            "S-2,Managed learning 2026,NOPE,vilt,2026-03-02 09:00,2026-03-02T12:00:00+00:00,10,de",
        ]
    )

    with tenant_a.scope(), translation.override("de"):
        result = import_csv(
            kind="sessions", organization=tenant_a.organization, text=text, actor=tenant_a.user("owner")
        )

    allowed = "en, de, fr, es, it, nl, pt, pl, sv, ja, zh, ar"
    assert result.errors == [
        RowError(2, "language", f"„xx“ ist hier nicht zulässig; verwenden Sie einen dieser Werte: {allowed}."),
        RowError(3, "course_code", "Kein Kurs mit dem Code „NOPE“ in dieser Organisation."),
        RowError(
            3,
            "starts_at",
            "„2026-03-02 09:00“ hat keinen UTC-Versatz; ergänzen Sie ihn, z. B. 2026-03-02T09:00:00+00:00.",
        ),
    ]


def test_import_run_by_the_worker_writes_its_errors_in_the_uploaders_language(client, tenant_a):
    client.force_login(tenant_a.user(Role.OWNER))
    upload = SimpleUploadedFile(
        "learners.csv", b"external_id,name,email\nL-1,,ada@example.com\n", content_type="text/csv"
    )
    client.post(org_url(tenant_a, "scheduling:imports"), {"kind": "learners", "file": upload}, **GERMAN)
    with tenant_a.scope():
        job = import_jobs.start(job=ImportJob.objects.get(), membership=tenant_a.members[Role.OWNER])

        with translation.override("en-gb"):  # the worker's own language is not the uploader's
            import_jobs.run(job)

        job.refresh_from_db()
    assert (job.language, job.status, job.errors) == (
        "de",
        "failed",
        [{"row": 2, "column": "name", "message": "name ist erforderlich."}],
    )


def test_import_page_shows_the_german_error_table(client, tenant_a):
    client.force_login(tenant_a.user(Role.OWNER))
    upload = SimpleUploadedFile(
        "learners.csv", b"external_id,name,email\nL-1,,ada@example.com\n", content_type="text/csv"
    )
    job_url = client.post(org_url(tenant_a, "scheduling:imports"), {"kind": "learners", "file": upload}, **GERMAN)[
        "Location"
    ]
    with tenant_a.scope():
        import_jobs.run(import_jobs.start(job=ImportJob.objects.get(), membership=tenant_a.members[Role.OWNER]))

    page = client.get(job_url, **GERMAN).content.decode()

    assert "Es wurde nichts importiert: Beheben Sie diesen 1 Fehler und laden Sie die Datei erneut hoch." in page
    assert "<td>2</td><td>name</td><td>name ist erforderlich.</td>" in page
    assert "Teilnehmer · 1 Datenzeile" in page


def test_recertification_reminder_is_written_in_the_learners_language(tenant_a, django_capture_on_commit_callbacks):
    org = tenant_a.organization
    requirement = ComplianceRequirement.objects.create(organization=org, name="Datenschutz")
    RequirementCourse.objects.create(organization=org, requirement=requirement, course=CourseFactory(organization=org))
    for name, language in (("Ada", "en-gb"), ("Bea", "de")):
        learner = LearnerFactory(organization=org, name=name, email=f"{name.lower()}@acme.example", language=language)
        ComplianceAssignment.objects.create(
            organization=org, requirement=requirement, learner=learner, due_on=date(2026, 9, 30)
        )

    with tenant_a.scope(), django_capture_on_commit_callbacks(execute=True):
        services.send_recertification_reminders(today=date(2026, 7, 2))  # 90 days before 30 September

    assert sorted((m.to[0], m.subject, m.body) for m in mail.outbox) == [
        (
            "ada@acme.example",
            "Mandatory training due in 90 days: Datenschutz",
            "Please complete Datenschutz by 30 September 2026.",
        ),
        (
            "bea@acme.example",
            "Pflichtschulung in 90 Tagen fällig: Datenschutz",
            "Bitte schließen Sie Datenschutz bis zum 30. September 2026 ab.",
        ),
    ]
