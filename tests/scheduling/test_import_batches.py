"""Several files in one upload: each file's kind read from its header, a batch previewed together, and one
"Import all" that imports the files in dependency order in one transaction, all or none."""

from datetime import date, timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from mls.enums import Role
from mls.models import AuditEvent
from scheduling import import_jobs
from scheduling.imports import IMPORT_ORDER, SHEETS, template_csv
from scheduling.models import Completion, Course, Enrollment, ImportJob, Learner, Session, SupportTicket
from tests.factories.slas import sla_engagement

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel("2026-04-03 09:00Z", tick=False):
        yield


def org_url(tenant, name, **kwargs):
    return reverse(name, kwargs={"organization_slug": tenant.organization.slug, **kwargs})


def delivery_files(engagement_id: int, *, bad_session: bool = False) -> dict[str, str]:
    """One file of each delivery kind, each naming rows of the files before it in IMPORT_ORDER."""
    starts = "2026-05-04T09:00:00+00:00" if not bad_session else "not a time"
    return {
        "tickets.csv": "external_id,category,subject,opened_at,engagement_id,learner_external_id\n"
        f"T-1,technical,Cannot join,2026-03-02T09:00:00+00:00,{engagement_id},L-1\n",
        "completions.csv": "external_id,learner_external_id,course_code,completed_at\n"
        "CP-1,L-1,C-1,2026-03-02T12:00:00+00:00\n",
        "enrollments.csv": "external_id,session_external_id,learner_external_id\nE-1,S-1,L-1\nE-2,S-2,L-2\n",
        "sessions.csv": "external_id,course_code,modality,starts_at,ends_at,capacity,engagement_id\n"
        f"S-1,C-1,vilt,2026-05-04T09:00:00+00:00,2026-05-04T12:00:00+00:00,10,{engagement_id}\n"
        f"S-2,C-1,vilt,{starts},2026-05-05T12:00:00+00:00,10,{engagement_id}\n",
        "learners.csv": "external_id,name,email\nL-1,Ada Learner,ada@acme.example\nL-2,Bo Learner,bo@acme.example\n",
        "courses.csv": "external_id,code,title,modality,duration_hours\nCRS-1,C-1,Leading teams,vilt,3\n",
    }


def upload(client, tenant, files: dict[str, str], kind: str = ""):
    uploads = [SimpleUploadedFile(name, text.encode(), content_type="text/csv") for name, text in files.items()]
    return client.post(org_url(tenant, "scheduling:imports"), {"kind": kind, "file": uploads})


def stored(tenant) -> dict[str, int]:
    with tenant.scope():
        models = (Course, Learner, Session, Enrollment, Completion, SupportTicket)
        return {model.__name__: model.objects.count() for model in models}


@pytest.mark.parametrize("kind", sorted(SHEETS))
def test_each_kind_is_detected_from_its_template_header_and_from_its_required_columns_alone(kind):
    full = import_jobs.UploadedFile(f"{kind}.csv", template_csv(kind))
    required = import_jobs.UploadedFile(f"{kind}.csv", ",".join(reversed(SHEETS[kind].required)) + "\n")

    assert (import_jobs.detected_kind(full), import_jobs.detected_kind(required)) == (kind, kind)


def test_a_feedback_file_holding_an_enrollments_columns_is_feedback():
    header = "external_id,session_external_id,learner_external_id,instructor_score,overall_score\n"

    assert import_jobs.detected_kind(import_jobs.UploadedFile("feedback.csv", header)) == "feedback"


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (
            "external_id,name,email,category,subject,opened_at\n",
            "mixed.csv: its columns fit learners and tickets; upload it alone and choose what it contains.",
        ),
        (
            "id,first name,last name\n",
            "mixed.csv: its columns are not those of any sheet; download a template below to see the columns.",
        ),
    ],
)
def test_an_ambiguous_or_unknown_file_is_refused_by_name_and_nothing_of_the_upload_is_stored(
    client, tenant_a, header, message
):
    client.force_login(tenant_a.user(Role.OWNER))

    response = upload(client, tenant_a, {"learners.csv": "external_id,name,email\nL-1,A,a@acme.example\n",
                                         "mixed.csv": header})  # fmt: skip

    assert response.status_code == 400
    assert response.context["form"].errors["file"] == [message]
    with tenant_a.scope():
        assert ImportJob.objects.count() == 0


def test_one_file_with_detection_is_a_single_job_as_before(client, tenant_a):
    client.force_login(tenant_a.user(Role.OWNER))

    response = upload(client, tenant_a, {"people.csv": "external_id,name,email\nL-1,Ada,ada@acme.example\n"})

    with tenant_a.scope():
        job = ImportJob.objects.get()
    assert response["Location"] == org_url(tenant_a, "scheduling:import_job", pk=job.pk)
    assert (job.kind, job.batch) == ("learners", None)


def test_the_batch_page_lists_each_file_in_dependency_order_with_its_kind_rows_and_first_rows(client, tenant_a):
    engagement, _ = sla_engagement(tenant_a, active_from=date(2026, 3, 1))
    client.force_login(tenant_a.user(Role.OWNER))

    response = client.get(upload(client, tenant_a, delivery_files(engagement.pk))["Location"])

    files = response.context["files"]
    assert [(f["job"].filename, f["job"].kind, f["job"].total_rows) for f in files] == [
        ("courses.csv", "courses", 1),
        ("learners.csv", "learners", 2),
        ("sessions.csv", "sessions", 2),
        ("enrollments.csv", "enrollments", 2),
        ("completions.csv", "completions", 1),
        ("tickets.csv", "tickets", 1),
    ]
    assert files[1]["rows"] == [["L-1", "Ada Learner", "ada@acme.example"], ["L-2", "Bo Learner", "bo@acme.example"]]
    assert b'<button class="button" type="submit">Import all</button>' in response.content
    assert stored(tenant_a) == dict.fromkeys(stored(tenant_a), 0)


def test_import_all_imports_every_file_in_dependency_order(client, tenant_a, django_capture_on_commit_callbacks):
    """The files were chosen in the reverse order: each names rows only the files before it in IMPORT_ORDER make."""
    engagement, _ = sla_engagement(tenant_a, active_from=date(2026, 3, 1))
    client.force_login(tenant_a.user(Role.OWNER))
    batch_url = upload(client, tenant_a, delivery_files(engagement.pk))["Location"]

    with django_capture_on_commit_callbacks(execute=True):
        client.post(batch_url + "start/")
    response = client.get(batch_url)

    assert [f["job"].status for f in response.context["files"]] == ["succeeded"] * 6
    assert stored(tenant_a) == {
        "Course": 1, "Learner": 2, "Session": 2, "Enrollment": 2, "Completion": 1, "SupportTicket": 1
    }  # fmt: skip
    with tenant_a.scope():
        actions = list(
            AuditEvent.objects.filter(action__startswith="import.").order_by("pk").values_list("action", flat=True)
        )
        ticket = SupportTicket.objects.select_related("learner").get()
    assert [a for a in dict.fromkeys(actions) if a not in ("import.uploaded", "import.started")] == [
        f"import.{kind}" for kind in ("courses", "learners", "sessions", "enrollments", "completions", "tickets")
    ]
    assert ticket.learner.external_id == "L-1"
    assert b"Imported 2 rows: 2 created, 0 updated." in response.content
    assert list(IMPORT_ORDER[:6]) == ["courses", "learners", "sessions", "enrollments", "completions", "tickets"]


def test_a_bad_row_in_one_file_imports_nothing_of_the_batch_and_each_file_says_why(
    client, tenant_a, django_capture_on_commit_callbacks
):
    engagement, _ = sla_engagement(tenant_a, active_from=date(2026, 3, 1))
    client.force_login(tenant_a.user(Role.OWNER))
    batch_url = upload(client, tenant_a, delivery_files(engagement.pk, bad_session=True))["Location"]

    with django_capture_on_commit_callbacks(execute=True):
        client.post(batch_url + "start/")
    response = client.get(batch_url)

    assert stored(tenant_a) == dict.fromkeys(stored(tenant_a), 0)
    jobs = {f["job"].filename: f["job"] for f in response.context["files"]}
    assert {name: job.status for name, job in jobs.items()} == dict.fromkeys(jobs, "failed")
    assert [(e["row"], e["column"]) for e in jobs["sessions.csv"].errors] == [(3, "starts_at")]
    assert jobs["courses.csv"].error == (
        "sessions.csv has errors, and files uploaded together are imported together or not at all."
    )
    assert (
        jobs["enrollments.csv"].error == "this file was not checked: sessions.csv, which comes before it, has errors."
    )
    assert b"sessions.csv row 3 (starts_at): " in response.content


def test_a_bad_course_row_is_numbered_in_the_courses_file_and_nothing_is_imported(
    client, tenant_a, django_capture_on_commit_callbacks
):
    engagement, _ = sla_engagement(tenant_a, active_from=date(2026, 3, 1))
    files = delivery_files(engagement.pk)
    files["courses.csv"] += "CRS-2,C-2,Second course,by pigeon,2\n"
    client.force_login(tenant_a.user(Role.OWNER))
    batch_url = upload(client, tenant_a, files)["Location"]

    with django_capture_on_commit_callbacks(execute=True):
        client.post(batch_url + "start/")
    response = client.get(batch_url)

    jobs = {f["job"].filename: f["job"] for f in response.context["files"]}
    assert [(e["row"], e["column"]) for e in jobs["courses.csv"].errors] == [(3, "modality")]
    assert jobs["tickets.csv"].error == "this file was not checked: courses.csv, which comes before it, has errors."
    assert stored(tenant_a) == dict.fromkeys(stored(tenant_a), 0)


def test_a_batch_file_is_not_started_alone_and_a_batch_starts_once(
    client, tenant_a, django_capture_on_commit_callbacks
):
    engagement, _ = sla_engagement(tenant_a, active_from=date(2026, 3, 1))
    client.force_login(tenant_a.user(Role.OWNER))
    batch_url = upload(client, tenant_a, delivery_files(engagement.pk))["Location"]
    with tenant_a.scope():
        learners = ImportJob.objects.get(kind="learners")

    with django_capture_on_commit_callbacks(execute=True):
        alone = client.post(org_url(tenant_a, "scheduling:import_start", pk=learners.pk), follow=True)
    assert "import them together from the batch" in alone.content.decode()
    assert stored(tenant_a)["Learner"] == 0

    with django_capture_on_commit_callbacks(execute=True):
        client.post(batch_url + "start/")
        again = client.post(batch_url + "start/", follow=True)
    assert "These files are already imported or being imported." in again.content.decode()
    assert stored(tenant_a)["Learner"] == 2


def test_the_sweep_resending_a_later_file_of_a_batch_runs_the_whole_batch_once(tenant_a):
    """A lost message: any job of the batch a worker claims imports the batch, in order; the rest find it done."""
    engagement, _ = sla_engagement(tenant_a, active_from=date(2026, 3, 1))
    owner = tenant_a.members[Role.OWNER]
    files = [import_jobs.UploadedFile(name, text) for name, text in delivery_files(engagement.pk).items()]
    with tenant_a.scope():
        batch = import_jobs.upload_batch(organization=tenant_a.organization, membership=owner, kind="", files=files)
        jobs = import_jobs.start_batch(jobs=list(ImportJob.objects.filter(batch=batch)), membership=owner)

        import_jobs.run(jobs[-1])  # the tickets file's job, claimed first
        import_jobs.run(jobs[0])

        assert [job.status for job in import_jobs.in_order(ImportJob.objects.filter(batch=batch))] == ["succeeded"] * 6
    assert stored(tenant_a)["Enrollment"] == 2


def test_a_batch_whose_worker_kept_dying_fails_whole_with_the_reason(tenant_a):
    engagement, _ = sla_engagement(tenant_a, active_from=date(2026, 3, 1))
    owner = tenant_a.members[Role.OWNER]
    files = [import_jobs.UploadedFile(name, text) for name, text in delivery_files(engagement.pk).items()]
    with tenant_a.scope():
        batch = import_jobs.upload_batch(organization=tenant_a.organization, membership=owner, kind="", files=files)
        lead = import_jobs.start_batch(jobs=list(ImportJob.objects.filter(batch=batch)), membership=owner)[0]
        ImportJob.objects.filter(pk=lead.pk).update(
            status="running", attempts=3, locked_until=timezone.now() - timedelta(minutes=1)
        )

        swept = import_jobs.sweep(now=timezone.now())

        jobs = list(ImportJob.objects.filter(batch=batch))
    assert swept.given_up == 1
    assert {(job.status, job.error.split(";")[0]) for job in jobs} == {
        ("failed", "The worker doing this import stopped 3 times before it finished (it was restarted or lost)")
    }
    assert stored(tenant_a) == dict.fromkeys(stored(tenant_a), 0)


def test_another_side_never_sees_or_starts_a_batch(client, tenant_a, tenant_b, django_capture_on_commit_callbacks):
    engagement, _ = sla_engagement(tenant_a, active_from=date(2026, 3, 1))
    client.force_login(tenant_a.user(Role.PROVIDER_MANAGER))
    files = delivery_files(engagement.pk)
    del files["courses.csv"]  # a provider's manager does not keep the course catalogue
    batch_url = upload(client, tenant_a, files)["Location"]
    batch = batch_url.rstrip("/").rsplit("/", 1)[-1]
    client.force_login(tenant_a.user(Role.OWNER))

    with django_capture_on_commit_callbacks(execute=True):
        seen = client.get(batch_url)
        started = client.post(batch_url + "start/")
    client.force_login(tenant_b.user(Role.PROVIDER_MANAGER))
    foreign = client.get(org_url(tenant_b, "scheduling:import_batch", batch=batch))

    assert (seen.status_code, started.status_code, foreign.status_code) == (404, 404, 404)
    with tenant_a.scope():
        assert set(ImportJob.objects.filter(batch=batch).values_list("status", flat=True)) == {"uploaded"}
