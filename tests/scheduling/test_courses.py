"""Courses on the web, in CSV and in the API: edit, content reviews with their history, upsert by external_id,
the same checks everywhere (bad input refused with nothing written), permissions and audit before/after."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from mls.enums import Role
from mls.models import AuditEvent
from scheduling import services
from scheduling.enums import ContentOwnership, Modality
from scheduling.imports import RowError, import_csv, template_csv
from scheduling.models import ContentReview, Course
from tests.factories import api_token
from tests.factories.scheduling import CourseFactory

pytestmark = pytest.mark.integration

API = "/api/v1/courses/"


def org_url(tenant, name, **kwargs):
    return reverse(name, kwargs={"organization_slug": tenant.organization.slug, **kwargs})


def auth(raw: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Token {raw}"}


def as_member(tenant) -> dict[str, str]:
    """A session-authenticated API call, naming its organization (the web app's own calls)."""
    return {"HTTP_X_MLS_ORGANIZATION": tenant.organization.slug}


@pytest.fixture
def course(tenant_a):
    return CourseFactory(
        organization=tenant_a.organization,
        code="DP-101",
        title="Data protection",
        modality=Modality.SELF_PACED,
        duration_hours=Decimal("1.50"),
        regulated=True,
        last_reviewed_on=date(2025, 6, 1),
    )


def events(tenant, action: str) -> list[tuple]:
    with tenant.scope():
        return list(AuditEvent.objects.filter(action=action).order_by("pk").values_list("before", "after"))


# --- Web: edit ---------------------------------------------------------------------------------------------


def test_course_edit_saves_and_audits_the_change_before_and_after(client, tenant_a, course):
    client.force_login(tenant_a.user(Role.PROVIDER_MANAGER))
    data = {
        "code": "DP-101",
        "title": "Data protection (2026)",
        "modality": Modality.SELF_PACED,
        "duration_hours": "2",
        "ownership": ContentOwnership.BESPOKE,
        "regulated": "on",
        "review_interval_days": "180",
        "external_id": "LMS-77",
    }

    response = client.post(org_url(tenant_a, "scheduling:course_edit", pk=course.pk), data)

    assert response.status_code == 302
    with tenant_a.scope():
        course.refresh_from_db()
    assert (course.title, course.duration_hours, course.review_interval_days, course.external_id) == (
        "Data protection (2026)",
        Decimal("2.00"),
        180,
        "LMS-77",
    )
    [(before, after)] = events(tenant_a, "course.updated")
    changed = {key for key in after if before[key] != after[key]}
    assert changed == {"title", "duration_hours", "review_interval_days", "external_id"}
    assert (before["title"], after["title"]) == ("Data protection", "Data protection (2026)")
    assert after["last_reviewed_on"] == "2025-06-01"  # the edit form does not touch the review date


def test_course_edit_with_another_courses_code_shows_the_error_and_writes_nothing(client, tenant_a, course):
    CourseFactory(organization=tenant_a.organization, code="AML-1")
    client.force_login(tenant_a.user(Role.LD_DIRECTOR))
    data = {"code": "AML-1", "title": "X", "modality": "ilt", "duration_hours": "0", "ownership": "bespoke"}

    response = client.post(
        org_url(tenant_a, "scheduling:course_edit", pk=course.pk), {**data, "review_interval_days": "0"}
    )

    assert response.status_code == 400
    assert response.context["form"].errors == {
        "review_interval_days": ["Ensure this value is greater than or equal to 1."]
    }
    fixed = client.post(org_url(tenant_a, "scheduling:course_edit", pk=course.pk), {**data, "review_interval_days": 1})
    assert fixed.status_code == 400
    assert fixed.context["form"].errors == {"code": ["Course AML-1 already exists."]}
    assert response.context["form"]["title"].value() == "X"  # the user's input is kept
    with tenant_a.scope():
        course.refresh_from_db()
    assert (course.code, course.title) == ("DP-101", "Data protection")
    assert events(tenant_a, "course.updated") == []


@pytest.mark.parametrize("role", [Role.PROCUREMENT, Role.VIEWER])
def test_course_edit_and_review_are_refused_to_roles_without_manage_courses(client, tenant_a, course, role):
    client.force_login(tenant_a.user(role))

    edit = client.post(org_url(tenant_a, "scheduling:course_edit", pk=course.pk), {"code": "X"})
    review = client.post(
        org_url(tenant_a, "scheduling:course", pk=course.pk), {"reviewed_on": "2026-03-01", "reviewer_name": "Me"}
    )
    page = client.get(org_url(tenant_a, "scheduling:course", pk=course.pk))

    assert (edit.status_code, review.status_code, page.status_code) == (403, 403, 200)
    assert page.context["form"] is None
    with tenant_a.scope():
        assert ContentReview.objects.count() == 0


def test_course_added_on_the_web_gets_the_default_review_interval(client, tenant_a):
    client.force_login(tenant_a.user(Role.OWNER))
    data = {"code": "LEAD-1", "title": "Leading teams", "modality": "ilt", "duration_hours": "6"}

    response = client.post(org_url(tenant_a, "scheduling:courses"), {**data, "ownership": "bespoke"})

    assert response.status_code == 302
    with tenant_a.scope():
        assert list(Course.objects.values_list("code", "review_interval_days")) == [("LEAD-1", 365)]
    [(before, after)] = events(tenant_a, "course.added")
    assert (before, after["review_interval_days"]) == (None, 365)


# --- Web: content reviews ----------------------------------------------------------------------------------


def test_content_review_is_listed_and_moves_the_last_review_date_forward_only(client, tenant_a, course):
    client.force_login(tenant_a.user(Role.LD_DIRECTOR))
    url = org_url(tenant_a, "scheduling:course", pk=course.pk)

    recent = client.post(url, {"reviewed_on": "2026-02-10", "reviewer_name": "Dr Grey", "notes": "GDPR update"})
    late_entry = client.post(url, {"reviewed_on": "2025-11-01", "reviewer_name": "Ms Lee"})
    page = client.get(url)

    assert (recent.status_code, late_entry.status_code) == (302, 302)
    with tenant_a.scope():
        course.refresh_from_db()
    assert course.last_reviewed_on == date(2026, 2, 10)  # the older review, entered late, does not move it back
    assert [(r.reviewed_on, r.reviewer_name, r.notes, r.recorded_by) for r in page.context["reviews"]] == [
        (date(2026, 2, 10), "Dr Grey", "GDPR update", tenant_a.user(Role.LD_DIRECTOR)),
        (date(2025, 11, 1), "Ms Lee", "", tenant_a.user(Role.LD_DIRECTOR)),
    ]
    assert [after["reviewer_name"] for _, after in events(tenant_a, "course.content_reviewed")] == [
        "Dr Grey",
        "Ms Lee",
    ]
    [(before, after)] = events(tenant_a, "course.updated")
    assert (before["last_reviewed_on"], after["last_reviewed_on"]) == ("2025-06-01", "2026-02-10")


FUTURE = {"reviewed_on": ["A review date cannot be in the future."]}
UNREADABLE = {"reviewed_on": ["Enter a valid date."], "reviewer_name": ["This field is required."]}


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"reviewed_on": "2099-01-01", "reviewer_name": "Dr Grey"}, FUTURE),
        ({"reviewed_on": "1 March", "reviewer_name": ""}, UNREADABLE),
    ],
)
def test_content_review_with_bad_input_shows_form_errors_and_writes_nothing(client, tenant_a, course, data, errors):
    client.force_login(tenant_a.user(Role.PROVIDER_MANAGER))

    response = client.post(org_url(tenant_a, "scheduling:course", pk=course.pk), data)

    assert response.status_code == 400
    assert response.context["form"].errors == errors
    with tenant_a.scope():
        course.refresh_from_db()
        assert (ContentReview.objects.count(), course.last_reviewed_on) == (0, date(2025, 6, 1))


@pytest.mark.parametrize("count", [1, 3])
def test_course_page_query_count_is_constant_in_its_reviews(client, tenant_a, course, django_assert_num_queries, count):
    director = tenant_a.members[Role.LD_DIRECTOR]
    with tenant_a.scope():
        for day in range(1, count + 1):
            services.record_content_review(
                course=course, membership=director, reviewed_on=date(2026, 1, day), reviewer_name=f"R{day}"
            )
    client.force_login(director.user)

    # Queries: session, user, organization, membership, switcher, unread, the course, its reviews with who
    # recorded them.
    with django_assert_num_queries(8):
        response = client.get(org_url(tenant_a, "scheduling:course", pk=course.pk))

    assert len(response.context["reviews"]) == count


@pytest.mark.parametrize("count", [1, 3])
def test_course_list_query_count_is_constant(client, tenant_a, django_assert_num_queries, count):
    CourseFactory.create_batch(count, organization=tenant_a.organization)
    client.force_login(tenant_a.user(Role.VIEWER))

    # Queries: session, user, organization, membership, switcher, unread, count, page.
    with django_assert_num_queries(8):
        response = client.get(org_url(tenant_a, "scheduling:courses"))

    assert len(response.context["page"].object_list) == count


# --- CSV ---------------------------------------------------------------------------------------------------


def run(tenant, text: str, role: str = Role.OWNER):
    with tenant.scope():
        return import_csv(kind="courses", organization=tenant.organization, text=text, actor=tenant.user(role))


HEADER = "external_id,code,title,modality,duration_hours,ownership,regulated,last_reviewed_on,review_interval_days\n"


def stored(tenant) -> list[tuple]:
    with tenant.scope():
        return list(
            Course.objects.order_by("code").values_list(
                "external_id", "code", "title", "regulated", "last_reviewed_on", "review_interval_days"
            )
        )


def test_course_import_creates_then_updates_by_external_id_keeping_what_blank_cells_leave_out(tenant_a):
    created = run(
        tenant_a,
        HEADER + "CRS-1,DP-101,Data protection,self_paced,1.5,bespoke,true,2026-01-15,180\n"
        "CRS-2,AML-1,Anti-money laundering,ilt,3,provider_library,no,,\n",
    )
    updated = run(tenant_a, HEADER + "CRS-1,DP-101,Data protection 2026,self_paced,1.5,,,,\n")

    assert (created.created, created.updated, created.errors) == (2, 0, [])
    assert (updated.created, updated.updated, updated.errors) == (0, 1, [])
    assert stored(tenant_a) == [
        ("CRS-2", "AML-1", "Anti-money laundering", False, None, 365),
        ("CRS-1", "DP-101", "Data protection 2026", True, date(2026, 1, 15), 180),
    ]


def test_course_template_example_imports(tenant_a):
    result = run(tenant_a, template_csv("courses"))

    assert (result.created, result.errors) == (1, [])
    assert stored(tenant_a) == [("CRS-7001", "C001", "Data protection essentials", True, date(2026, 1, 15), 365)]


def test_course_import_with_bad_rows_names_each_cell_and_writes_nothing(tenant_a, course):
    result = run(
        tenant_a,
        HEADER + "CRS-1,NEW-1,Fine,ilt,2,,,,\n"
        "CRS-2,DP-101,Clash,ilt,2,,,,\n"
        "CRS-3,NEW-1,Twice,ilt,abc,,maybe,2099-01-01,0\n"
        "CRS-4,NEW-4,Bad date,online,-1,,,01/02/2026,x\n",
    )

    assert result.errors == [
        RowError(3, "code", "Course DP-101 already exists without an external_id: give it this external_id on its "
                 "page (Edit course) to update it from here."),
        RowError(4, "regulated", "'maybe' is not yes or no; use true or false."),
        RowError(4, "last_reviewed_on", "A review date cannot be in the future."),
        RowError(4, "duration_hours", "“abc” value must be a decimal number."),
        RowError(4, "review_interval_days", "Ensure this value is greater than or equal to 1."),
        RowError(4, "code", "Course code NEW-1 is also the code of row 2."),
        RowError(5, "modality", "'online' is not allowed here; use one of: ilt, vilt, hybrid, self_paced."),
        RowError(5, "last_reviewed_on", "'01/02/2026' is not a date; use ISO 8601, e.g. 2026-06-30."),
        RowError(5, "review_interval_days", "'x' is not a whole number of days."),
        RowError(5, "duration_hours", "Ensure this value is greater than or equal to 0."),
    ]  # fmt: skip
    assert stored(tenant_a) == [("", "DP-101", "Data protection", True, date(2025, 6, 1), 365)]


def test_course_import_never_reads_or_writes_another_tenants_courses(tenant_a, tenant_b):
    theirs = CourseFactory(organization=tenant_b.organization, code="DP-101", external_id="CRS-1", title="Theirs")

    result = run(tenant_a, HEADER + "CRS-1,DP-101,Ours,ilt,2,,,,\n")

    assert (result.created, result.updated) == (1, 0)
    with tenant_b.scope():
        theirs.refresh_from_db()
    assert theirs.title == "Theirs"


# --- API ---------------------------------------------------------------------------------------------------


def test_course_api_upserts_by_external_id_and_answers_as_reading_back(client, tenant_a):
    token = api_token(tenant_a)
    item = {
        "external_id": "CRS-1",
        "code": "DP-101",
        "title": "Data protection",
        "modality": "self_paced",
        "duration_hours": "1.5",
        "regulated": True,
        "last_reviewed_on": "2026-01-15",
        "review_interval_days": 180,
    }

    created = client.post(API, item, content_type="application/json", **auth(token))
    updated = client.post(API, {**item, "title": "DP 2026"}, content_type="application/json", **auth(token))

    assert (created.status_code, updated.status_code) == (201, 200)
    read = client.get(f"{API}{created.json()['id']}/", **auth(token)).json()
    assert updated.json() == read
    assert (read["title"], read["regulated"], read["last_reviewed_on"], read["review_interval_days"]) == (
        "DP 2026",
        True,
        "2026-01-15",
        180,
    )


def test_course_api_bad_item_is_400_with_field_errors_and_writes_nothing(client, tenant_a):
    token = api_token(tenant_a)
    items = [
        {"external_id": "CRS-1", "code": "A", "title": "Fine", "modality": "ilt", "duration_hours": "2"},
        {"external_id": "CRS-2", "code": "B", "title": "", "modality": "ilt", "duration_hours": "2",
         "review_interval_days": "5000"},
    ]  # fmt: skip

    response = client.post(f"{API}bulk/", items, content_type="application/json", **auth(token))

    assert response.status_code == 400
    assert response.json() == {
        "written": False,
        "errors": [
            {
                "index": 1,
                "errors": {
                    "title": ["title is required."],
                    "review_interval_days": ["Ensure this value is less than or equal to 3650."],
                },
            }
        ],
    }
    with tenant_a.scope():
        assert Course.objects.count() == 0


@pytest.mark.parametrize(("role", "status"), [(Role.VIEWER, 403), (Role.PROCUREMENT, 403), (Role.LD_DIRECTOR, 201)])
def test_course_api_write_needs_manage_courses(client, tenant_a, role, status):
    client.force_login(tenant_a.user(role))
    item = {"external_id": "CRS-1", "code": "A", "title": "T", "modality": "ilt", "duration_hours": "2"}

    response = client.post(API, item, content_type="application/json", **as_member(tenant_a))

    assert response.status_code == status
    with tenant_a.scope():
        assert Course.objects.count() == (status == 201)


@pytest.mark.parametrize("count", [1, 3])
def test_course_api_list_queries_do_not_grow_with_rows(client, tenant_a, count, django_assert_num_queries):
    token = api_token(tenant_a)
    CourseFactory.create_batch(count, organization=tenant_a.organization)

    # The caller (token, organization and owner in one), the token's first "last used", the page.
    with django_assert_num_queries(3):
        response = client.get(API, **auth(token))

    assert len(response.json()["results"]) == count
