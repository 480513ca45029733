"""Learners, tickets, compliance and supplier pages: figures, validation, visibility, query counts."""

from datetime import UTC, date, datetime

import pytest
from django.urls import reverse

from mls.enums import Role
from scheduling import services
from scheduling.models import ComplianceAssignment, ComplianceRequirement, Course, Feedback, Outage, SupportTicket
from tests.factories.engagements import EngagementFactory
from tests.factories.scheduling import CourseFactory, LearnerFactory, RoomFactory, at
from vendors.models import Instructor, Supplier
from vendors.selectors import supplier_performance

pytestmark = pytest.mark.integration


def org_url(tenant, name, **kwargs):
    return reverse(name, kwargs={"organization_slug": tenant.organization.slug, **kwargs})


def test_ticket_log_and_response_times_with_validation(client, tenant_a):
    engagement = EngagementFactory(organization=tenant_a.organization, provider=tenant_a.provider)
    client.force_login(tenant_a.user(Role.PROVIDER_MANAGER))

    client.post(
        org_url(tenant_a, "scheduling:tickets"),
        {
            "engagement": engagement.pk,
            "category": "audit_request",
            "subject": "Q3 audit",
            "opened_at": "2026-07-01T09:00",
        },
    )
    with tenant_a.scope():
        ticket = SupportTicket.objects.get()
    too_early = client.post(
        org_url(tenant_a, "scheduling:ticket", pk=ticket.pk), {"first_response_at": "2026-07-01T07:59"}
    )
    resolved_without_response = client.post(
        org_url(tenant_a, "scheduling:ticket", pk=ticket.pk), {"resolved_at": "2026-07-02T09:00"}
    )
    saved = client.post(
        org_url(tenant_a, "scheduling:ticket", pk=ticket.pk),
        {"first_response_at": "2026-07-01T10:30", "resolved_at": "2026-07-02T09:00"},
        follow=True,
    )

    ticket.refresh_from_db()
    assert "Ticket times saved." in saved.content.decode()
    assert (too_early.status_code, resolved_without_response.status_code) == (400, 400)
    assert list(too_early.context["form"].errors) == ["first_response_at"]
    # London is BST (UTC+1) in July: 10:30 local is 09:30Z.
    assert ticket.first_response_at == datetime(2026, 7, 1, 9, 30, tzinfo=UTC)
    assert ticket.opened_at == datetime(2026, 7, 1, 8, 0, tzinfo=UTC)


def test_viewer_cannot_log_tickets(client, tenant_a):
    engagement = EngagementFactory(organization=tenant_a.organization, provider=tenant_a.provider)
    client.force_login(tenant_a.user(Role.VIEWER))

    response = client.post(
        org_url(tenant_a, "scheduling:tickets"),
        {"engagement": engagement.pk, "category": "other", "subject": "x", "opened_at": "2026-07-01T09:00"},
    )

    assert response.status_code == 403
    with tenant_a.scope():
        assert SupportTicket.objects.count() == 0


def test_compliance_overview_counts_on_time_overdue_and_upcoming(client, tenant_a, settings):
    org = tenant_a.organization
    requirement = ComplianceRequirement.objects.create(organization=org, name="Data protection")
    learners = [LearnerFactory(organization=org) for _ in range(5)]
    rows = [
        (date(2026, 1, 31), datetime(2026, 1, 20, 12, tzinfo=UTC)),  # on time
        (date(2026, 1, 31), datetime(2026, 1, 31, 23, 30, tzinfo=UTC)),  # 31 Jan 23:30 GMT: still on the due date
        (date(2026, 2, 28), datetime(2026, 3, 2, 9, tzinfo=UTC)),  # late
        (date(2026, 3, 15), None),  # overdue (today is later)
        (date(2099, 1, 1), None),  # upcoming
    ]
    for learner, (due_on, completed_at) in zip(learners, rows, strict=True):
        ComplianceAssignment.objects.create(
            organization=org, requirement=requirement, learner=learner, due_on=due_on, completed_at=completed_at
        )
    client.force_login(tenant_a.user(Role.LD_DIRECTOR))

    response = client.get(org_url(tenant_a, "scheduling:compliance"))

    r = response.context["requirements"][0]
    # Due so far: 4 (the 2099 one is not). On time: 2 → 50 % compliant. Overdue: 1. Upcoming: 1.
    assert (r.due_count, r.on_time_count, r.overdue_count, r.upcoming_count) == (4, 2, 1, 1)
    assert b"50 %" in response.content
    assert [a.learner for a in response.context["overdue"].object_list] == [learners[3]]


def test_supplier_performance_counts_sessions_once_and_averages_ratings(tenant_a):
    org, provider = tenant_a.organization, tenant_a.provider
    pm = tenant_a.members[Role.PROVIDER_MANAGER]
    supplier = Supplier.objects.create(organization=org, provider=provider, name="Brightpath")
    trainers = [
        Instructor.objects.create(organization=org, provider=provider, supplier=supplier, name=f"T{n}", email=f"t{n}@x")
        for n in range(2)
    ]
    engagement = EngagementFactory(organization=org, provider=provider)
    course, room = CourseFactory(organization=org), RoomFactory(organization=org)
    with tenant_a.scope():
        sessions = [
            services.confirm_session(
                session=services.request_session(
                    engagement=engagement, membership=pm, course=course, modality="ilt", starts_at=at(day, 9),
                    ends_at=at(day, 12), capacity=5, room=room, instructors=trainers,  # two of its trainers each
                ),
                membership=pm,
            )
            for day in (2, 3, 4)
        ]  # fmt: skip
        for session in sessions[:2]:
            services.mark_delivered(session=session, membership=pm)
        services.cancel_session(session=sessions[2], membership=pm, cancelled_by="provider", reason="Trainer ill")
        for score in (4, 5, 3):
            Feedback.objects.create(organization=org, session=sessions[0], instructor_score=score, overall_score=4)

        row = supplier_performance(pm).get()

    # 2 delivered, 1 cancelled by the provider, each counted once despite two instructors per session;
    # ratings (4 + 5 + 3) / 3 = 4.
    assert (row.delivered, row.provider_cancelled, row.client_cancelled, row.mean_instructor_rating) == (2, 1, 0, 4)


def test_provider_manager_sees_only_their_providers_suppliers(client, tenant_a):
    org = tenant_a.organization
    Supplier.objects.create(organization=org, provider=tenant_a.provider, name="Ours")
    other = type(tenant_a.provider).objects.create(organization=org, name="Contoso")
    Supplier.objects.create(organization=org, provider=other, name="Theirs")
    client.force_login(tenant_a.user(Role.PROVIDER_MANAGER))

    response = client.get(org_url(tenant_a, "vendors:suppliers"))

    assert [s.name for s in response.context["suppliers"]] == ["Ours"]


@pytest.mark.parametrize("count", [1, 3])
def test_learner_list_query_count_is_constant(client, tenant_a, django_assert_num_queries, count):
    for _ in range(count):
        LearnerFactory(organization=tenant_a.organization)
    client.force_login(tenant_a.user(Role.VIEWER))

    # Queries: session, user, organization, membership, switcher, unread, count, page.
    with django_assert_num_queries(8):
        response = client.get(org_url(tenant_a, "scheduling:learners"))

    assert len(response.context["page"].object_list) == count


@pytest.mark.parametrize("count", [1, 3])
def test_ticket_list_query_count_is_constant(client, tenant_a, django_assert_num_queries, count):
    engagement = EngagementFactory(organization=tenant_a.organization, provider=tenant_a.provider)
    for n in range(count):
        SupportTicket.objects.create(
            organization=tenant_a.organization, engagement=engagement, category="other", subject=f"T{n}"
        )
    client.force_login(tenant_a.user(Role.VIEWER))

    # Queries: session, user, organization, membership, switcher, unread, count, page (a viewer may not log
    # tickets, which costs no query).
    with django_assert_num_queries(8):
        response = client.get(org_url(tenant_a, "scheduling:tickets"))

    assert len(response.context["page"].object_list) == count


def test_outage_log_validates_times_and_records_planned_flag(client, tenant_a):
    engagement = EngagementFactory(organization=tenant_a.organization, provider=tenant_a.provider)
    client.force_login(tenant_a.user(Role.PROVIDER_MANAGER))
    url = org_url(tenant_a, "scheduling:outages")
    data = {"engagement": engagement.pk, "description": "SSO down", "starts_at": "2026-08-12T10:00"}

    bad = client.post(url, {**data, "ends_at": "2026-08-12T09:00"})
    client.post(url, {**data, "ends_at": "2026-08-12T11:35"})

    assert bad.status_code == 400
    assert list(bad.context["form"].errors) == ["ends_at"]
    with tenant_a.scope():
        # London in August is BST: 10:00–11:35 local is 09:00–10:35Z, unplanned.
        assert list(Outage.objects.values_list("starts_at", "ends_at", "planned")) == [
            (datetime(2026, 8, 12, 9, 0, tzinfo=UTC), datetime(2026, 8, 12, 10, 35, tzinfo=UTC), False)
        ]


def test_course_with_a_duplicate_code_is_refused_on_the_form(client, tenant_a):
    client.force_login(tenant_a.user(Role.LD_DIRECTOR))
    url = org_url(tenant_a, "scheduling:courses")
    course = {"code": "LEAD-1", "title": "Leading teams", "modality": "ilt", "duration_hours": "6"}
    course["ownership"] = "bespoke"

    first = client.post(url, course)
    duplicate = client.post(url, {**course, "title": "Another"})

    assert first.status_code == 302
    assert duplicate.status_code == 400
    assert duplicate.context["form"].errors == {"code": ["Course LEAD-1 already exists."]}
    with tenant_a.scope():
        assert list(Course.objects.values_list("title", flat=True)) == ["Leading teams"]
