"""QBR revisions: generated once per quarter after its last month is finalized, stored immutably, regenerated only as
revision N + 1, announced as `qbr.ready`; the PDF carries every section and the credits the SLA engine stored."""

import hashlib
import threading
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from mls.enums import Role
from mls.events import domain_event
from mls.models import AuditEvent
from reporting import services, tasks
from reporting.enums import QbrStatus
from reporting.models import QuarterlyReview, StoredRevisionError
from reporting.qbr import Quarter
from slas import services as sla_services
from slas.models import ServiceCredit
from tests.factories.reporting import stored_qbr
from tests.factories.slas import sla_engagement
from tests.reporting.pdf_tools import pdf_text
from tests.slas.delivery import deliver_month

pytestmark = pytest.mark.integration

Q1 = date(2026, 1, 1)
AFTER_Q1 = datetime(2026, 4, 7, tzinfo=UTC)  # March's grace days (5) are over
SECTIONS = [
    "Quarterly business review",
    "Executive summary",
    "SLA performance",
    "Escalations and actions",
    "Volume and utilization",
    "Compliance status",
    "Spend and fees against budget",
    "Change requests",
    "Supplier performance",
    "Forward plan",
    "Appendix: metric definitions",
]


def finished_q1(tenant):
    """Q1 2026 delivered and finalized: fee 48,250.00, 12 % at risk = 5,790.00 a month. February breaches support
    (40 %) and instructor rating (25 %): 2,316.00 + 1,447.50; March breaches instructor rating: 1,447.50.
    The quarter's credits: 2,316.00 + 1,447.50 + 1,447.50 = 5,211.00."""
    engagement, _ = sla_engagement(tenant)
    with tenant.scope():
        deliver_month(engagement, date(2026, 1, 1))
        deliver_month(engagement, date(2026, 2, 1), breached=frozenset({"support_first_response", "instructor_rating"}))
        deliver_month(engagement, date(2026, 3, 1), breached=frozenset({"instructor_rating"}))
        sla_services.finalize_due_periods(engagement=engagement, now=AFTER_Q1)
    return engagement


def generate(engagement, capture) -> list[QuarterlyReview]:
    """The daily job for one engagement, with its after-commit rendering run as a worker would."""
    with capture(execute=True):
        reviews = services.generate_due_qbrs(engagement=engagement)
    return [QuarterlyReview.objects.get(pk=review.pk) for review in reviews]


def test_generated_qbr_has_every_section_and_the_credits_the_sla_engine_stored(
    tenant_a, django_capture_on_commit_callbacks
):
    engagement = finished_q1(tenant_a)

    with tenant_a.scope():
        (review,) = generate(engagement, django_capture_on_commit_callbacks)
        stored_credits = sum(ServiceCredit.objects.filter(engagement=engagement).values_list("amount", flat=True))
        content = review.file.read()

    text = pdf_text(content)
    assert stored_credits == Decimal("5211.00")
    assert [heading for heading in SECTIONS if heading not in text] == []
    assert "£5,211.00" in text  # executive summary: credits issued in the quarter
    assert "2,316.00" in text  # February's support credit, as stored
    assert "2,895.00" in text  # instructor rating over the quarter: 1,447.50 × 2
    assert (review.status, review.quarter, review.revision) == (QbrStatus.READY, Q1, 1)
    assert review.sha256 == hashlib.sha256(content).hexdigest()
    assert review.file.name.endswith(f"qbr-2026-Q1-r1-{review.sha256[:16]}.pdf")
    assert review.snapshot["credits_issued"] == "5211.00"
    assert [p["month"] for p in review.snapshot["periods"]] == ["2026-01", "2026-02", "2026-03"]
    assert f"Page {review.pages} of {review.pages}" in text


def test_qbr_ready_is_audited_and_announced_after_the_commit(tenant_a, django_capture_on_commit_callbacks):
    engagement = finished_q1(tenant_a)
    announced = []

    def receiver(sender, **event):
        announced.append(event["name"])

    domain_event.connect(receiver)
    try:
        with tenant_a.scope():
            (review,) = generate(engagement, django_capture_on_commit_callbacks)
            ready = AuditEvent.objects.get(action="qbr.ready")
    finally:
        domain_event.disconnect(receiver)

    assert announced.count("qbr.ready") == 1
    assert (ready.object_id, ready.after["revision"], ready.after["sha256"]) == (str(review.pk), 1, review.sha256)


def test_daily_job_run_twice_makes_one_revision_per_quarter(tenant_a, django_capture_on_commit_callbacks):
    engagement = finished_q1(tenant_a)

    with django_capture_on_commit_callbacks(execute=True):
        tasks.dispatch_qbr_generation.delay()
    with django_capture_on_commit_callbacks(execute=True):
        tasks.dispatch_qbr_generation.delay()

    with tenant_a.scope():
        assert list(QuarterlyReview.objects.values_list("engagement", "quarter", "revision", "status")) == [
            (engagement.pk, Q1, 1, QbrStatus.READY)
        ]


def test_a_quarter_whose_last_month_is_open_gets_no_qbr(tenant_a, django_capture_on_commit_callbacks):
    engagement, _ = sla_engagement(tenant_a)
    with tenant_a.scope():
        deliver_month(engagement, date(2026, 1, 1))
        sla_services.finalize_due_periods(engagement=engagement, now=datetime(2026, 3, 7, tzinfo=UTC))

        assert generate(engagement, django_capture_on_commit_callbacks) == []
        with pytest.raises(ValidationError, match="not finalized yet"):
            services.regenerate_qbr(engagement=engagement, quarter=Quarter(Q1, engagement.timezone), actor=None)


@pytest.mark.django_db(transaction=True)
def test_two_schedulers_at_once_create_one_revision(tenant_a):
    engagement = finished_q1(tenant_a)
    start, errors = threading.Barrier(2), []

    def schedule() -> None:
        try:
            with tenant_a.scope():
                start.wait()
                services.generate_due_qbrs(engagement=engagement)
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    schedulers = [threading.Thread(target=schedule) for _ in range(2)]
    for scheduler in schedulers:
        scheduler.start()
    for scheduler in schedulers:
        scheduler.join()

    assert errors == []
    with tenant_a.scope():
        assert list(QuarterlyReview.objects.values_list("quarter", "revision", "status")) == [(Q1, 1, QbrStatus.READY)]
        assert AuditEvent.objects.filter(action="qbr.ready").count() == 1


def test_regenerate_makes_revision_two_and_leaves_revision_one_as_it_was(tenant_a, django_capture_on_commit_callbacks):
    engagement = finished_q1(tenant_a)
    with tenant_a.scope():
        (first,) = generate(engagement, django_capture_on_commit_callbacks)
        first_bytes = first.file.read()

        with django_capture_on_commit_callbacks(execute=True):
            second = services.regenerate_qbr(
                engagement=engagement, quarter=Quarter(Q1, engagement.timezone), actor=tenant_a.user(Role.PROCUREMENT)
            )
        second.refresh_from_db()
        first_again = QuarterlyReview.objects.get(pk=first.pk)

        assert (second.revision, second.status) == (2, QbrStatus.READY)
        assert "-r2-" in second.file.name
        assert second.file.name != first.file.name
        assert (first_again.sha256, first_again.file.name, first_again.generated_at) == (
            first.sha256,
            first.file.name,
            first.generated_at,
        )
        assert first_again.file.read() == first_bytes


def test_a_stored_revision_refuses_changes_in_the_model_and_the_database(tenant_a):
    engagement, _ = sla_engagement(tenant_a)
    with tenant_a.scope():
        review = stored_qbr(engagement)
        review.sha256 = "0" * 64

        with pytest.raises(StoredRevisionError):
            review.save()
        with pytest.raises(StoredRevisionError):
            review.delete()

    assert _refused("UPDATE reporting_quarterlyreview SET sha256 = 'x' WHERE id = %s", [review.pk])
    assert _refused("DELETE FROM reporting_quarterlyreview WHERE id = %s", [review.pk])


def _refused(sql: str, params: list) -> bool:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    except DatabaseError as error:
        return "refused" in str(error)
    return False


# --- Pages ------------------------------------------------------------------------------------------------


def _url(tenant, name: str, **kwargs: object) -> str:
    return reverse(name, kwargs={"organization_slug": tenant.organization.slug, **kwargs})


@pytest.mark.parametrize("role", [Role.PROCUREMENT, Role.LD_DIRECTOR])
def test_download_serves_the_stored_file_with_its_hash(client, tenant_a, role):
    engagement, _ = sla_engagement(tenant_a)
    with tenant_a.scope():
        review = stored_qbr(engagement, content=b"%PDF-1.7 stored QBR")
    client.force_login(tenant_a.user(role))

    response = client.get(_url(tenant_a, "reporting:qbr_download", pk=review.pk))

    assert b"".join(response.streaming_content) == b"%PDF-1.7 stored QBR"
    assert response["X-Content-SHA256"] == hashlib.sha256(b"%PDF-1.7 stored QBR").hexdigest()
    assert response["Content-Disposition"] == f'attachment; filename="{review.file.name.rsplit("/", 1)[-1]}"'


def test_provider_manager_cannot_download_a_qbr_of_its_own_engagement(client, tenant_a):
    engagement, _ = sla_engagement(tenant_a)
    with tenant_a.scope():
        review = stored_qbr(engagement)
    client.force_login(tenant_a.user(Role.PROVIDER_MANAGER))

    response = client.get(_url(tenant_a, "reporting:qbr_download", pk=review.pk))

    assert response.status_code == 403


def test_a_generating_revision_polls_its_row_until_it_is_ready(client, tenant_a, django_capture_on_commit_callbacks):
    engagement = finished_q1(tenant_a)
    with tenant_a.scope():
        services.generate_due_qbrs(engagement=engagement)  # the render task waits for the commit
        review = QuarterlyReview.objects.get()
    client.force_login(tenant_a.user(Role.PROCUREMENT))
    row_url = _url(tenant_a, "reporting:qbr_row", pk=review.pk)

    listing = client.get(_url(tenant_a, "reporting:qbrs")).content.decode()
    polling = client.get(row_url, HTTP_HX_REQUEST="true").content.decode()
    with tenant_a.scope():
        services.render_qbr(review=review)
    done = client.get(row_url, HTTP_HX_REQUEST="true").content.decode()

    assert "generating…" in listing
    assert f'hx-get="{row_url}"' in listing
    assert 'hx-trigger="every 2s"' in polling
    assert "hx-get" not in done
    assert _url(tenant_a, "reporting:qbr_download", pk=review.pk) in done


def test_regenerate_asks_first_then_generates_a_new_revision(client, tenant_a, django_capture_on_commit_callbacks):
    engagement = finished_q1(tenant_a)
    with tenant_a.scope():
        (first,) = generate(engagement, django_capture_on_commit_callbacks)
    client.force_login(tenant_a.user(Role.PROCUREMENT))
    url = _url(tenant_a, "reporting:qbr_regenerate", pk=first.pk)

    question = client.get(url)
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(url)

    assert "Regenerate the 2026 Q1 QBR" in question.content.decode()
    assert answer.status_code == 302
    with tenant_a.scope():
        assert list(QuarterlyReview.objects.order_by("revision").values_list("revision", "status")) == [
            (1, QbrStatus.READY),
            (2, QbrStatus.READY),
        ]


def test_draft_qbr_says_draft_on_every_page(client, tenant_a):
    engagement = finished_q1(tenant_a)
    client.force_login(tenant_a.user(Role.VIEWER))

    response = client.get(_url(tenant_a, "reporting:qbr_draft", pk=engagement.pk))

    pages = [page for page in pdf_text(response.content).split("\f") if page.strip()]
    assert response["Content-Disposition"].endswith('-DRAFT.pdf"')
    assert len(pages) > 3
    assert [n for n, page in enumerate(pages, 1) if "DRAFT" not in page] == []
    with tenant_a.scope():
        assert QuarterlyReview.objects.count() == 0  # a draft is never stored


@pytest.mark.parametrize("revisions", [1, 3])
def test_qbr_list_queries_do_not_grow_with_revisions(client, tenant_a, django_assert_num_queries, revisions):
    engagement, _ = sla_engagement(tenant_a)
    with tenant_a.scope():
        for revision in range(1, revisions + 1):
            stored_qbr(engagement, revision=revision)
    client.force_login(tenant_a.user(Role.PROCUREMENT))

    with django_assert_num_queries(9):
        response = client.get(_url(tenant_a, "reporting:qbrs"))

    assert response.content.decode().count("Download<span") == revisions
