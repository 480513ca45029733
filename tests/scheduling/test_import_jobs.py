"""CSV import flow: upload → preview → Celery run → result; all-or-nothing with row-numbered errors."""

import time
from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from mls.enums import Role
from mls.models import AuditEvent, Membership
from scheduling import import_jobs
from scheduling.models import ImportJob, Learner
from slas.models import Measurement
from tests.conftest import in_process_worker
from tests.factories.slas import sla_engagement

pytestmark = pytest.mark.integration


def org_url(tenant, name, **kwargs):
    return reverse(name, kwargs={"organization_slug": tenant.organization.slug, **kwargs})


def learners_csv(count, bad_rows=()):
    """`count` learners; data row n is spreadsheet row n + 1. Bad rows get an invalid email."""
    lines = ["external_id,name,email,business_unit"]
    for n in range(1, count + 1):
        email = "not-an-email" if n + 1 in bad_rows else f"learner{n}@acme.example"
        lines.append(f"HR-{n},Learner {n},{email},Retail")
    return "\n".join(lines) + "\n"


def upload(client, tenant, text, name="learners.csv"):
    return client.post(
        org_url(tenant, "scheduling:imports"),
        {"kind": "learners", "file": SimpleUploadedFile(name, text.encode(), content_type="text/csv")},
    )


@pytest.mark.slow
def test_ten_thousand_rows_with_three_bad_ones_import_nothing_then_the_fixed_file_imports(
    client, tenant_a, django_capture_on_commit_callbacks
):
    client.force_login(tenant_a.user(Role.PROVIDER_MANAGER))

    with django_capture_on_commit_callbacks(execute=True):
        bad = upload(client, tenant_a, learners_csv(10_000, bad_rows=(2, 5001, 10001)))
        client.post(bad["Location"] + "start/")
    failed = client.get(bad["Location"])
    with django_capture_on_commit_callbacks(execute=True):
        good = upload(client, tenant_a, learners_csv(10_000))
        client.post(good["Location"] + "start/")
    succeeded = client.get(good["Location"])

    assert [(e["row"], e["column"]) for e in failed.context["job"].errors] == [
        (2, "email"),
        (5001, "email"),
        (10001, "email"),
    ]
    assert b"Nothing was imported: fix these 3 errors" in failed.content
    assert succeeded.context["job"].status == "succeeded"
    assert (succeeded.context["job"].created, succeeded.context["job"].updated) == (10_000, 0)
    with tenant_a.scope():
        assert Learner.objects.count() == 10_000


def test_upload_shows_a_preview_and_imports_nothing_until_started(client, tenant_a):
    client.force_login(tenant_a.user(Role.OWNER))

    response = client.get(upload(client, tenant_a, learners_csv(3))["Location"])

    assert response.context["header"] == ["external_id", "name", "email", "business_unit"]
    assert response.context["rows"][0] == ["HR-1", "Learner 1", "learner1@acme.example", "Retail"]
    with tenant_a.scope():
        assert Learner.objects.count() == 0


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("learners.xlsx", b"x", "Upload a .csv file."),
        ("learners.csv", "external_id,name\n1,é".encode("latin-1"), "The file is not UTF-8 text"),
        (
            "learners.csv",
            b"external_id,name,email\nL-1,Ann,ann@acme.example\nL-2,B\x00b,bob@acme.example\n",
            "Row 3 contains a NUL character, which cannot be stored; remove it.",
        ),
        (
            "learners.csv",
            b"external_id,name,email\nL-1," + b"x" * (128 * 1024 + 1) + b",ann@acme.example\n",
            "Row 2 cannot be read as CSV (field larger than field limit (131072)).",
        ),
        (
            "learners.csv",
            ",".join(f"c{n}" for n in range(100_000)).encode() + b"\nx\n",
            "The header has 100,000 columns; a file has at most 200.",
        ),
    ],
    ids=["not-csv", "not-utf8", "nul", "oversized-cell", "100k-columns"],
)
def test_bad_upload_is_refused_with_a_reason(client, tenant_a, name, content, message):
    client.force_login(tenant_a.user(Role.OWNER))

    response = client.post(
        org_url(tenant_a, "scheduling:imports"), {"kind": "learners", "file": SimpleUploadedFile(name, content)}
    )

    assert response.status_code == 400
    assert message in str(response.context["form"].errors)
    with tenant_a.scope():
        assert ImportJob.objects.count() == 0


def test_progress_is_polled_with_htmx_while_running(client, tenant_a):
    client.force_login(tenant_a.user(Role.OWNER))
    job_url = upload(client, tenant_a, learners_csv(4))["Location"]
    with tenant_a.scope():
        job = ImportJob.objects.get()
        job.status = "running"
        job.save()
        cache.set(import_jobs.progress_key(job), (3, 8))

    response = client.get(job_url, HTTP_HX_REQUEST="true")

    content = response.content.decode()
    assert content.lstrip().startswith('<div id="import-status"')
    assert 'hx-trigger="every 1s"' in content
    assert '<progress max="100" value="38"' in content  # 3 of 8 steps → 37.5 → 38 %


def test_template_download_is_the_engines_template(client, tenant_a):
    client.force_login(tenant_a.user(Role.VIEWER))

    response = client.get(org_url(tenant_a, "scheduling:import_template", kind="learners"))

    assert response["Content-Disposition"] == 'attachment; filename="mls-learners-template.csv"'
    assert response.content.decode().splitlines()[0].startswith("external_id,name,email")


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_import_runs_in_a_real_worker_over_redis(client, tenant_a, worker_queue):
    client.force_login(tenant_a.user(Role.OWNER))
    job_url = upload(client, tenant_a, learners_csv(50))["Location"]

    with in_process_worker(worker_queue):
        client.post(job_url + "start/")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with tenant_a.scope():
                if ImportJob.objects.get().is_finished:
                    break
            time.sleep(0.2)

    with tenant_a.scope():
        assert (ImportJob.objects.get().status, Learner.objects.count()) == ("succeeded", 50)


def test_starting_an_import_is_audited_and_names_the_job(client, tenant_a):
    client.force_login(tenant_a.user(Role.PROVIDER_MANAGER))
    job_url = upload(client, tenant_a, learners_csv(2))["Location"]

    client.post(job_url + "start/")

    with tenant_a.scope():
        job = ImportJob.objects.get()
        started = AuditEvent.objects.get(action="import.started")
    assert (started.object_type, started.object_id, started.actor_id) == (
        "scheduling.importjob",
        str(job.pk),
        tenant_a.user(Role.PROVIDER_MANAGER).pk,
    )
    assert (started.before["status"], started.after["status"]) == ("uploaded", "queued")
    assert started.after | {"status": None} == {
        "kind": "learners",
        "filename": "learners.csv",
        "total_rows": 2,
        "provider": tenant_a.provider.pk,
        "status": None,
    }


@pytest.mark.parametrize(
    ("uploader", "starter"), [(Role.OWNER, Role.PROVIDER_MANAGER), (Role.PROVIDER_MANAGER, Role.OWNER)]
)
def test_an_import_is_started_only_by_the_side_that_uploaded_it(tenant_a, uploader, starter):
    with tenant_a.scope():
        job = import_jobs.upload(
            organization=tenant_a.organization,
            membership=tenant_a.members[uploader],
            kind="learners",
            filename="learners.csv",
            text=learners_csv(1),
        )

        with pytest.raises(ValidationError, match="side that uploaded"):
            import_jobs.start(job=job, membership=tenant_a.members[starter])

        job.refresh_from_db()
        assert (job.status, AuditEvent.objects.filter(action="import.started").count()) == ("uploaded", 0)


def test_an_import_whose_uploader_lost_the_right_fails_and_writes_nothing(tenant_a):
    with tenant_a.scope():
        owner = tenant_a.members[Role.OWNER]
        job = import_jobs.upload(
            organization=tenant_a.organization,
            membership=owner,
            kind="learners",
            filename="l.csv",
            text=learners_csv(2),
        )
        ImportJob.objects.filter(pk=job.pk).update(status="queued")
        Membership.objects.filter(pk=owner.pk).update(role=Role.VIEWER)

        finished = import_jobs.run(job)

        assert (finished.status, finished.errors) == (
            "failed",
            [{"row": 1, "column": "", "message": "Your role may not write learners."}],
        )
        assert Learner.objects.count() == 0


@time_machine.travel("2026-04-03 09:00Z", tick=False)
def test_a_successful_import_measures_the_open_sla_months_at_once(tenant_a, django_capture_on_commit_callbacks):
    engagement, _ = sla_engagement(tenant_a, active_from=date(2026, 3, 1))
    rows = ["external_id,category,subject,opened_at,engagement,first_response_at"]
    rows += [  # March: four answered in 2 hours, one in 10 (threshold 8) → 4 / 5 = 80 %
        f"T-{day},technical,Cannot join,2026-03-{day:02d}T09:00:00+00:00,{engagement.name},"
        f"2026-03-{day:02d}T{11 if day < 6 else 19}:00:00+00:00"
        for day in range(2, 7)
    ]
    with tenant_a.scope(), django_capture_on_commit_callbacks(execute=True):
        job = import_jobs.upload(
            organization=tenant_a.organization,
            membership=tenant_a.members[Role.OWNER],
            kind="tickets",
            filename="tickets.csv",
            text="\n".join(rows) + "\n",
        )
        import_jobs.start(job=job, membership=tenant_a.members[Role.OWNER])

    with tenant_a.scope():
        march = Measurement.objects.get(
            engagement=engagement, metric="support_first_response", period__month="2026-03-01"
        )
    assert (march.status, march.value, march.numerator, march.denominator) == ("provisional", Decimal("80.00"), 4, 5)
