"""Delivery language of courses and sessions: a session takes its course's unless given, the pages show it and
filter by it, the API filters by `language=`, and the courses and sessions CSVs take an optional language column."""

from datetime import timedelta

import pytest
from django.urls import reverse

from mls.enums import Role
from scheduling import services
from scheduling.enums import DeliveryLanguage, Modality
from scheduling.imports import ImportResult, RowError, import_csv
from scheduling.models import Course, Session
from tests.factories import api_token
from tests.factories.engagements import EngagementFactory
from tests.factories.scheduling import CourseFactory, RoomFactory, at
from tests.factories.slas import session

pytestmark = pytest.mark.integration

SESSION_HEADER = "external_id,engagement,course_code,modality,starts_at,ends_at,capacity"
SESSION_ROW = "S-{n},Managed learning 2026,{code},vilt,2026-03-0{n}T09:00:00+00:00,2026-03-0{n}T12:00:00+00:00,10"
COURSE_HEADER = "external_id,code,title,modality,duration_hours"


def org_url(tenant, name, **kwargs):
    return reverse(name, kwargs={"organization_slug": tenant.organization.slug, **kwargs})


def auth(raw: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Token {raw}"}


@pytest.fixture
def delivery(tenant_a):
    """An engagement with a German course and an English one."""
    org = tenant_a.organization
    tenant_a.engagement = EngagementFactory(organization=org, provider=tenant_a.provider, name="Managed learning 2026")
    tenant_a.german = CourseFactory(organization=org, code="DE-1", language=DeliveryLanguage.DE)
    tenant_a.english = CourseFactory(organization=org, code="EN-1", language=DeliveryLanguage.EN)
    return tenant_a


def request(tenant, course, starts_at=None, **extra) -> Session:
    starts_at = starts_at or at(2, 9)
    with tenant.scope():
        return services.request_session(
            engagement=tenant.engagement,
            membership=tenant.members[Role.PROVIDER_MANAGER],
            course=course,
            modality=Modality.VILT,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=3),
            capacity=10,
            **extra,
        )


# --- A session takes its course's language ---------------------------------------------------------------


def test_requested_session_takes_its_courses_language(delivery):
    requested = request(delivery, delivery.german)

    assert requested.language == DeliveryLanguage.DE


def test_requested_session_in_another_language_keeps_it(delivery):
    requested = request(delivery, delivery.german, language=DeliveryLanguage.FR)

    assert requested.language == DeliveryLanguage.FR


def test_rescheduled_session_keeps_the_language_of_the_session_it_replaces(delivery):
    pm = delivery.members[Role.PROVIDER_MANAGER]
    room = RoomFactory(organization=delivery.organization)
    with delivery.scope():
        original = services.request_session(
            engagement=delivery.engagement,
            membership=pm,
            course=delivery.german,
            modality=Modality.ILT,
            starts_at=at(2, 9),
            ends_at=at(2, 12),
            capacity=10,
            room=room,
            language=DeliveryLanguage.ES,
        )
        services.cancel_session(session=original, membership=pm, cancelled_by="provider", reason="Trainer ill")

        replacement = services.reschedule_session(
            session=original, membership=pm, starts_at=at(9, 9), ends_at=at(9, 12)
        )

    assert replacement.language == DeliveryLanguage.ES


def test_new_session_form_without_a_language_takes_the_courses(client, delivery):
    client.force_login(delivery.user(Role.PROVIDER_MANAGER))
    data = {
        "engagement": delivery.engagement.pk,
        "course": delivery.german.pk,
        "modality": Modality.VILT,
        "starts_at": "2026-03-02T09:00",
        "ends_at": "2026-03-02T12:00",
        "capacity": "10",
        "language": "",
    }

    client.post(org_url(delivery, "scheduling:session_create"), data)
    client.post(org_url(delivery, "scheduling:session_create"), {**data, "language": DeliveryLanguage.IT})

    with delivery.scope():
        assert list(Session.objects.order_by("pk").values_list("language", flat=True)) == ["de", "it"]


# --- Shown and filtered on the pages -----------------------------------------------------------------------


def test_session_list_filters_by_delivery_language_and_shows_it(client, delivery):
    german = request(delivery, delivery.german)
    request(delivery, delivery.english, starts_at=at(3, 9))
    client.force_login(delivery.user(Role.VIEWER))

    response = client.get(org_url(delivery, "scheduling:sessions"), {"language": "de"})

    assert [s.pk for s in response.context["page"].object_list] == [german.pk]
    assert "<td>German</td>" in response.content.decode()


@pytest.mark.parametrize("count", [1, 3])
def test_session_list_filtered_by_language_query_count_is_constant(client, delivery, django_assert_num_queries, count):
    for day in range(count):
        request(delivery, delivery.german, starts_at=at(2 + day, 9))
    request(delivery, delivery.english, starts_at=at(9, 9))
    client.force_login(delivery.user(Role.PROVIDER_MANAGER))

    # Queries: session, user, organization, membership, switcher, unread, engagements (filter), count, page,
    # and whether the member may create sessions.
    with django_assert_num_queries(10):
        response = client.get(org_url(delivery, "scheduling:sessions"), {"language": "de"})

    assert len(response.context["page"].object_list) == count


def test_session_page_shows_its_delivery_language(client, delivery):
    requested = request(delivery, delivery.german)
    client.force_login(delivery.user(Role.VIEWER))

    response = client.get(org_url(delivery, "scheduling:session", pk=requested.pk))

    assert "<dt>Delivery language</dt><dd>German</dd>" in response.content.decode()


def test_course_list_filters_by_delivery_language(client, delivery):
    client.force_login(delivery.user(Role.VIEWER))

    response = client.get(org_url(delivery, "scheduling:courses"), {"language": "de"})

    assert [course.code for course in response.context["page"].object_list] == ["DE-1"]


def test_course_list_filtered_to_a_language_without_courses_says_so(client, delivery):
    client.force_login(delivery.user(Role.VIEWER))

    response = client.get(org_url(delivery, "scheduling:courses"), {"language": "ja"})

    assert list(response.context["page"].object_list) == []
    assert "No course is delivered in this language." in response.content.decode()


@pytest.mark.parametrize("count", [1, 3])
def test_course_list_filtered_by_language_query_count_is_constant(client, tenant_a, django_assert_num_queries, count):
    CourseFactory.create_batch(count, organization=tenant_a.organization, language=DeliveryLanguage.DE)
    CourseFactory(organization=tenant_a.organization, language=DeliveryLanguage.EN)
    client.force_login(tenant_a.user(Role.VIEWER))

    # Queries: session, user, organization, membership, switcher, unread, count, page.
    with django_assert_num_queries(8):
        response = client.get(org_url(tenant_a, "scheduling:courses"), {"language": "de"})

    assert len(response.context["page"].object_list) == count


def test_course_page_shows_its_delivery_language(client, delivery):
    client.force_login(delivery.user(Role.VIEWER))

    response = client.get(org_url(delivery, "scheduling:course", pk=delivery.german.pk))

    assert "<dt>Delivery language</dt><dd>German</dd>" in response.content.decode()


def test_course_edit_changes_the_delivery_language(client, delivery):
    client.force_login(delivery.user(Role.PROVIDER_MANAGER))
    course = delivery.english
    data = {"code": course.code, "title": course.title, "modality": course.modality, "language": "fr"}
    data |= {"duration_hours": "3", "ownership": course.ownership, "review_interval_days": "365"}

    response = client.post(org_url(delivery, "scheduling:course_edit", pk=course.pk), data)

    assert response.status_code == 302
    with delivery.scope():
        assert Course.objects.get(pk=course.pk).language == DeliveryLanguage.FR


# --- API ---------------------------------------------------------------------------------------------------


def test_api_filters_sessions_and_courses_by_language(client, delivery):
    with delivery.scope():
        german = session(delivery.engagement, starts_at=at(2, 9), course_=delivery.german, language="de")
        session(delivery.engagement, starts_at=at(3, 9), course_=delivery.english, language="en")
    token = api_token(delivery)

    sessions = client.get("/api/v1/sessions/", {"language": "de"}, **auth(token)).json()["results"]
    courses = client.get("/api/v1/courses/", {"language": "de"}, **auth(token)).json()["results"]

    assert [(item["id"], item["language"]) for item in sessions] == [(german.pk, "de")]
    assert [(item["code"], item["language"]) for item in courses] == [("DE-1", "de")]


def test_api_refuses_an_unknown_language_filter(client, delivery):
    response = client.get("/api/v1/sessions/", {"language": "klingon"}, **auth(api_token(delivery)))

    assert response.status_code == 400
    assert list(response.json()) == ["language"]


def test_api_creates_a_session_in_its_courses_language_unless_given(client, delivery):
    token = api_token(delivery)
    item = {"external_id": "S-1", "engagement": "Managed learning 2026", "course_code": "DE-1", "modality": "vilt"}
    item |= {"starts_at": "2026-03-02T09:00:00+00:00", "ends_at": "2026-03-02T12:00:00+00:00", "capacity": "10"}

    first = client.post("/api/v1/sessions/", item, content_type="application/json", **auth(token))
    second = client.post(
        "/api/v1/sessions/", {**item, "external_id": "S-2", "language": "pl"}, content_type="application/json",
        **auth(token),
    )  # fmt: skip

    assert (first.status_code, first.json()["language"]) == (201, "de")
    assert (second.status_code, second.json()["language"]) == (201, "pl")


# --- CSV imports -------------------------------------------------------------------------------------------


def run(tenant, kind: str, text: str) -> ImportResult:
    with tenant.scope():
        return import_csv(kind=kind, organization=tenant.organization, text=text, actor=tenant.user(Role.OWNER))


def languages(tenant, model) -> list[tuple[str, str]]:
    with tenant.scope():
        rows = model.objects.exclude(external_id="").order_by("external_id")  # factories' rows have none
        return list(rows.values_list("external_id", "language"))


def test_session_import_without_a_language_column_takes_each_courses_language(delivery):
    text = "\n".join([SESSION_HEADER, SESSION_ROW.format(n=1, code="DE-1"), SESSION_ROW.format(n=2, code="EN-1")])

    result = run(delivery, "sessions", text)

    assert result == ImportResult(created=2, updated=0, errors=[])
    assert languages(delivery, Session) == [("S-1", "de"), ("S-2", "en")]


def test_session_import_with_a_language_column_sets_it_and_a_blank_cell_keeps_the_stored_one(delivery):
    header = SESSION_HEADER + ",language"
    run(delivery, "sessions", "\n".join([header, SESSION_ROW.format(n=1, code="EN-1") + ",FR"]))

    result = run(
        delivery,
        "sessions",
        "\n".join([header, SESSION_ROW.format(n=1, code="EN-1") + ",", SESSION_ROW.format(n=2, code="EN-1") + ",nl"]),
    )

    assert result == ImportResult(created=1, updated=0, unchanged=1, errors=[])
    assert languages(delivery, Session) == [("S-1", "fr"), ("S-2", "nl")]


def test_session_import_refuses_an_unknown_language_in_its_column(delivery):
    text = "\n".join([SESSION_HEADER + ",language", SESSION_ROW.format(n=1, code="DE-1") + ",xx"])

    result = run(delivery, "sessions", text)

    allowed = "en, de, fr, es, it, nl, pt, pl, sv, ja, zh, ar"
    assert result.errors == [RowError(2, "language", f"'xx' is not allowed here; use one of: {allowed}.")]
    assert languages(delivery, Session) == []


def test_course_import_with_and_without_a_language_column(delivery):
    with_language = "\n".join([COURSE_HEADER + ",language", "CRS-1,C-1,Datenschutz,self_paced,1.5,de"])
    without = "\n".join([COURSE_HEADER, "CRS-2,C-2,Data protection,self_paced,1.5", "CRS-1,C-1,Datenschutz,ilt,1.5"])

    first = run(delivery, "courses", with_language)
    second = run(delivery, "courses", without)

    assert (first.created, second.created, second.updated, second.errors) == (1, 1, 1, [])
    assert languages(delivery, Course) == [("CRS-1", "de"), ("CRS-2", "en")]


def test_session_import_of_a_course_in_another_tenant_is_refused(delivery, tenant_b):
    CourseFactory(organization=tenant_b.organization, code="B-ONLY", language=DeliveryLanguage.DE)
    text = "\n".join([SESSION_HEADER, SESSION_ROW.format(n=1, code="B-ONLY")])

    result = run(delivery, "sessions", text)

    assert result.errors == [RowError(2, "course_code", "No course with code 'B-ONLY' in this organization.")]
