"""Delivery pages through the test client: filters, bad input, htmx attendance, cancel/reschedule, ICS."""

import re
from datetime import timedelta

import icalendar
import pytest
from django.urls import reverse

from mls.enums import Role
from scheduling import services
from scheduling.enums import Modality, SessionStatus
from scheduling.models import Completion, Enrollment, Session
from tests.factories.engagements import EngagementFactory
from tests.factories.scheduling import CourseFactory, InstructorFactory, LearnerFactory, RoomFactory, at

pytestmark = pytest.mark.integration


def org_url(tenant, name, **kwargs):
    return reverse(name, kwargs={"organization_slug": tenant.organization.slug, **kwargs})


@pytest.fixture
def delivery(tenant_a):
    org = tenant_a.organization
    engagement = EngagementFactory(organization=org, provider=tenant_a.provider)
    course, room = CourseFactory(organization=org, code="LEAD-1"), RoomFactory(organization=org)
    instructor = InstructorFactory(organization=org, provider=tenant_a.provider)
    pm = tenant_a.members[Role.PROVIDER_MANAGER]

    def make(start, confirm=True, **extra):
        with tenant_a.scope():
            session = services.request_session(
                engagement=engagement,
                membership=pm,
                course=extra.pop("course", course),
                modality=Modality.ILT,
                starts_at=start,
                ends_at=start + timedelta(hours=3),
                capacity=extra.pop("capacity", 10),
                room=room,
                instructors=[instructor],
            )
            return services.confirm_session(session=session, membership=pm) if confirm else session

    return tenant_a, engagement, course, make


def test_session_list_filters_by_status_and_course(client, delivery):
    tenant, _engagement, _course, make = delivery
    confirmed = make(at(2, 9))
    make(at(3, 9), confirm=False)
    make(at(4, 9), course=CourseFactory(organization=tenant.organization, code="XCEL-2"))
    client.force_login(tenant.user(Role.VIEWER))

    response = client.get(org_url(tenant, "scheduling:sessions"), {"status": "confirmed", "course": "lead"})

    assert [s.pk for s in response.context["page"].object_list] == [confirmed.pk]


@pytest.mark.parametrize("count", [1, 3])
def test_session_list_query_count_is_constant(client, delivery, django_assert_num_queries, count):
    tenant, _engagement, _course, make = delivery
    for day in range(count):
        make(at(2 + day, 9))
    client.force_login(tenant.user(Role.PROVIDER_MANAGER))

    # Queries: session, user, organization, membership, switcher, unread, engagements (filter), count, page,
    # and whether the member may create sessions.
    with django_assert_num_queries(10):
        response = client.get(org_url(tenant, "scheduling:sessions"))

    assert len(response.context["page"].object_list) == count


def test_session_list_next_page_link_says_later_and_leads_to_later_sessions(client, delivery):
    tenant, _engagement, _course, make = delivery
    for day in range(1, 27):  # 26 sessions, oldest first: one more than a page of 25
        make(at(day, 9), confirm=False)
    client.force_login(tenant.user(Role.VIEWER))

    first = client.get(org_url(tenant, "scheduling:sessions"))
    link = re.search(r'<a href="\?([^"]*)" rel="next">([^<]*)</a>', first.content.decode())
    second = client.get(f"{org_url(tenant, 'scheduling:sessions')}?{link[1]}")

    assert link[2] == "Later →"
    assert 'rel="prev">← Earlier</a>' in second.content.decode()
    first_starts = [s.starts_at for s in first.context["page"].object_list]
    second_starts = [s.starts_at for s in second.context["page"].object_list]
    assert (len(first_starts), second_starts) == (25, [at(26, 9)])
    assert max(first_starts) < min(second_starts)


def test_new_session_with_end_before_start_shows_error_and_writes_nothing(client, delivery):
    tenant, engagement, course, _make = delivery
    client.force_login(tenant.user(Role.PROVIDER_MANAGER))

    response = client.post(
        org_url(tenant, "scheduling:session_create"),
        {
            "engagement": engagement.pk,
            "course": course.pk,
            "modality": "vilt",
            "starts_at": "2026-03-02T12:00",
            "ends_at": "2026-03-02T09:00",
            "capacity": "10",
            "join_url": "https://meet.example/x",
        },
    )

    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["ends_at"]
    with tenant.scope():
        assert Session.objects.count() == 0


def test_new_session_times_are_read_in_the_organizations_timezone(client, delivery):
    tenant, engagement, course, _make = delivery
    client.force_login(tenant.user(Role.PROVIDER_MANAGER))

    client.post(
        org_url(tenant, "scheduling:session_create"),
        {
            "engagement": engagement.pk,
            "course": course.pk,
            "modality": "vilt",
            "starts_at": "2026-07-01T09:00",  # London, BST (UTC+1) → 08:00Z
            "ends_at": "2026-07-01T12:00",
            "capacity": "10",
            "join_url": "https://meet.example/x",
        },
    )

    with tenant.scope():
        assert Session.objects.get().starts_at.isoformat() == "2026-07-01T08:00:00+00:00"


def test_attendance_with_htmx_swaps_only_the_roster(client, delivery):
    tenant, _engagement, _course, make = delivery
    session = make(at(2, 9))
    with tenant.scope():
        learners = [LearnerFactory(organization=tenant.organization) for _ in range(2)]
        enrollments = [
            services.enroll(session=session, learner=learner, membership=tenant.members[Role.PROVIDER_MANAGER])
            for learner in learners
        ]
    client.force_login(tenant.user(Role.PROVIDER_MANAGER))

    response = client.post(
        org_url(tenant, "scheduling:session_attendance", pk=session.pk),
        {"present": [enrollments[0].pk]},
        HTTP_HX_REQUEST="true",
    )

    content = response.content.decode()
    assert response.status_code == 200
    assert content.lstrip().startswith('<section id="roster"')
    assert "Attendance saved: 1 present." in content
    with tenant.scope():
        assert list(Enrollment.objects.order_by("pk").values_list("status", flat=True)) == ["attended", "no_show"]


def test_cancel_without_reason_shows_error_then_reschedule_lands_on_the_replacement(client, delivery):
    tenant, _engagement, _course, make = delivery
    session = make(at(2, 9))
    client.force_login(tenant.user(Role.PROVIDER_MANAGER))

    bad = client.post(org_url(tenant, "scheduling:session_cancel", pk=session.pk), {"cancelled_by": "provider"})
    client.post(
        org_url(tenant, "scheduling:session_cancel", pk=session.pk), {"cancelled_by": "client", "reason": "Strike"}
    )
    response = client.post(
        org_url(tenant, "scheduling:session_reschedule", pk=session.pk),
        {"starts_at": "2026-03-09T09:00", "ends_at": "2026-03-09T12:00"},
    )

    assert bad.status_code == 400
    assert list(bad.context["cancel_form"].errors) == ["reason"]
    with tenant.scope():
        replacement = Session.objects.get(replaces=session)
    assert response["Location"] == org_url(tenant, "scheduling:session", pk=replacement.pk)
    assert replacement.status == SessionStatus.CONFIRMED


def test_cancel_session_asks_first_naming_how_many_learners_are_emailed(client, delivery):
    tenant, _engagement, _course, make = delivery
    session = make(at(2, 9), course=CourseFactory(organization=tenant.organization, title="Manager's toolkit"))
    pm = tenant.members[Role.PROVIDER_MANAGER]
    with tenant.scope():
        for _ in range(2):
            services.enroll(session=session, learner=LearnerFactory(organization=tenant.organization), membership=pm)
    client.force_login(pm.user)

    page = client.get(org_url(tenant, "scheduling:session", pk=session.pk)).content.decode()

    cancel_form = re.search(r'<form[^>]*action="[^"]*/sessions/\d+/cancel/"[^>]*>', page).group()
    question = "Cancel Manager&#x27;s toolkit on 2 Mar 2026? 2 enrolled learners are emailed now."  # HTML-escaped
    assert f'data-confirm="{question}"' in cancel_form  # static/js/mls.js asks it (no inline handler under the CSP)


def test_session_ics_parses_back_to_the_same_instant(client, delivery):
    tenant, _engagement, _course, make = delivery
    session = make(at(2, 9))
    client.force_login(tenant.user(Role.VIEWER))

    response = client.get(org_url(tenant, "scheduling:session_ics", pk=session.pk))

    event = icalendar.Calendar.from_ical(response.content).walk("VEVENT")[0]
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert event.decoded("DTSTART").astimezone(at(2, 9).tzinfo) == at(2, 9)


def test_sessions_of_another_provider_are_invisible_to_a_provider_manager(client, delivery):
    tenant, _engagement, _course, make = delivery
    session = make(at(2, 9))
    other = type(tenant.provider).objects.create(organization=tenant.organization, name="Contoso Training")
    EngagementFactory(organization=tenant.organization, provider=other)
    outsider = tenant.members[Role.PROVIDER_MANAGER]
    outsider.provider = other
    outsider.save()
    client.force_login(outsider.user)

    listed = client.get(org_url(tenant, "scheduling:sessions"))
    detail = client.get(org_url(tenant, "scheduling:session", pk=session.pk))

    assert list(listed.context["page"].object_list) == []
    assert detail.status_code == 404


def test_future_session_offers_no_attendance_or_delivery(client, delivery):
    tenant, _engagement, _course, make = delivery
    session = make(at(2, 9, year=2030))
    client.force_login(tenant.user(Role.PROVIDER_MANAGER))

    response = client.get(org_url(tenant, "scheduling:session", pk=session.pk))

    assert response.context["attendance_open"] is False
    assert b"Mark delivered" not in response.content
    assert b'name="present"' not in response.content


def test_bulk_completion_entry_records_attendees_once(client, delivery):
    tenant, _engagement, _course, make = delivery
    session = make(at(2, 9))
    pm = tenant.members[Role.PROVIDER_MANAGER]
    with tenant.scope():
        enrollments = [
            services.enroll(session=session, learner=LearnerFactory(organization=tenant.organization), membership=pm)
            for _ in range(3)
        ]
        services.record_attendance(session=session, membership=pm, present_ids=[e.pk for e in enrollments[:2]])
        services.mark_delivered(session=session, membership=pm)
    client.force_login(pm.user)
    url = org_url(tenant, "scheduling:session_completions", pk=session.pk)

    client.post(url, {"enrollment": [enrollments[0].pk, enrollments[1].pk], "completed_at": "2026-03-02T12:00"})
    again = client.post(url, {"enrollment": [enrollments[0].pk], "completed_at": "2026-03-02T12:00"}, follow=True)
    absentee = client.post(url, {"enrollment": [enrollments[2].pk], "completed_at": "2026-03-02T12:00"}, follow=True)

    with tenant.scope():
        assert sorted(Completion.objects.values_list("learner", flat=True)) == sorted(
            e.learner_id for e in enrollments[:2]
        )
    assert [str(m) for m in again.context["messages"]][-1] == "0 completions recorded."
    assert [str(m) for m in absentee.context["messages"]][
        -1
    ] == "Only attendees of this session can be given a completion."


def said(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_session_writes_say_on_the_next_page_what_was_saved(client, delivery):
    tenant, _engagement, _course, make = delivery
    session = make(at(2, 9), capacity=1)
    first, second = (LearnerFactory(organization=tenant.organization, name=name) for name in ("Ada", "Grace"))
    client.force_login(tenant.user(Role.PROVIDER_MANAGER))
    url = org_url(tenant, "scheduling:session_enroll", pk=session.pk)

    enrolled = client.post(url, {"learner": first.pk}, follow=True)
    waitlisted = client.post(url, {"learner": second.pk}, follow=True)
    cancelled = client.post(
        org_url(tenant, "scheduling:session_cancel", pk=session.pk),
        {"cancelled_by": "client", "reason": "Strike"},
        follow=True,
    )

    assert said(enrolled) == ["Ada is enrolled."]
    assert said(waitlisted) == ["No seat is free: Grace is on the waitlist, and gets the next seat that frees up."]
    assert said(cancelled) == ["Session cancelled; its enrolled learners were told by email."]
    assert cancelled.redirect_chain == [(org_url(tenant, "scheduling:session", pk=session.pk), 302)]


def test_a_rescheduled_session_says_so_once_on_the_replacement_page(client, delivery):
    tenant, _engagement, _course, make = delivery
    session = make(at(2, 9))
    client.force_login(tenant.user(Role.PROVIDER_MANAGER))
    cancel = {"cancelled_by": "client", "reason": "Strike"}
    client.post(org_url(tenant, "scheduling:session_cancel", pk=session.pk), cancel, follow=True)  # reads its message

    response = client.post(
        org_url(tenant, "scheduling:session_reschedule", pk=session.pk),
        {"starts_at": "2026-03-09T09:00", "ends_at": "2026-03-09T12:00"},
        follow=True,
    )

    with tenant.scope():
        replacement = Session.objects.get(replaces=session)
    assert response.redirect_chain == [(org_url(tenant, "scheduling:session", pk=replacement.pk), 302)]
    assert said(response) == ["Rescheduled: the enrolled learners moved to this session."]


def test_learner_picker_with_htmx_lists_matches_not_on_the_session_with_email_and_external_id(
    client, delivery, tenant_b
):
    tenant, _engagement, _course, make = delivery
    session = make(at(2, 9))
    pm = tenant.members[Role.PROVIDER_MANAGER]
    with tenant.scope():
        on = LearnerFactory(organization=tenant.organization, name="Sam Lee", email="sam.lee@a.example")
        services.enroll(session=session, learner=on, membership=pm)
        LearnerFactory(organization=tenant.organization, name="Sam Lee", email="sam.l@a.example", external_id="E-2")
    with tenant_b.scope():
        LearnerFactory(organization=tenant_b.organization, name="Sam Lee", email="sam@b.example")
    client.force_login(pm.user)

    response = client.get(
        org_url(tenant, "scheduling:session_learners", pk=session.pk), {"q": "sam"}, HTTP_HX_REQUEST="true"
    )

    assert [t.name for t in response.templates] == ["scheduling/_learner_options.html"]
    assert [(learner.email, learner.external_id) for learner in response.context["learners"]] == [
        ("sam.l@a.example", "E-2")
    ]
    assert "sam.l@a.example · E-2" in response.content.decode()


def test_learner_picker_without_javascript_is_the_enrolment_page(client, delivery):
    tenant, _engagement, _course, make = delivery
    session = make(at(2, 9))
    with tenant.scope():
        LearnerFactory(organization=tenant.organization, name="Ada", email="ada@a.example")
    client.force_login(tenant.user(Role.PROVIDER_MANAGER))

    response = client.get(org_url(tenant, "scheduling:session_learners", pk=session.pk), {"q": "ada"})

    assert response.templates[0].name == "scheduling/session_enroll.html"
    page = response.content.decode()
    assert 'name="q" value="ada"' in page
    assert f'name="learner" value="{response.context["learners"][0].pk}" form="enroll-{session.pk}"' in page


@pytest.mark.parametrize("count", [1, 3])
def test_learner_picker_query_count_is_constant(client, delivery, django_assert_num_queries, count):
    tenant, _engagement, _course, make = delivery
    session = make(at(2, 9))
    with tenant.scope():
        LearnerFactory.create_batch(count, organization=tenant.organization)
    client.force_login(tenant.user(Role.PROVIDER_MANAGER))
    url = org_url(tenant, "scheduling:session_learners", pk=session.pk)

    with django_assert_num_queries(7):
        response = client.get(url, HTTP_HX_REQUEST="true")

    assert len(response.context["learners"]) == count


def test_bulk_enrol_by_picks_and_pasted_emails_says_what_happened_to_each(client, delivery):
    tenant, _engagement, _course, make = delivery
    session = make(at(2, 9), capacity=1)
    pm = tenant.members[Role.PROVIDER_MANAGER]
    with tenant.scope():
        ada, _bea, cy = (
            LearnerFactory(organization=tenant.organization, name=name, email=f"{name.lower()}@a.example")
            for name in ("Ada", "Bea", "Cy")
        )
        services.enroll(session=session, learner=cy, membership=pm)
    client.force_login(pm.user)

    response = client.post(
        org_url(tenant, "scheduling:session_enroll", pk=session.pk),
        {"learner": [ada.pk], "emails": "bea@a.example, ghost@a.example\ncy@a.example"},
        follow=True,
    )

    assert said(response) == [
        "On the waitlist (no seat free): Ada, Bea. Already on this session: Cy. "
        "No learner has these emails, nothing written: ghost@a.example."
    ]
    with tenant.scope():
        assert dict(Enrollment.objects.values_list("learner__name", "status")) == {
            "Ada": "waitlisted",
            "Bea": "waitlisted",
            "Cy": "enrolled",
        }


def test_bulk_enrol_with_nothing_picked_or_pasted_is_refused(client, delivery):
    tenant, _engagement, _course, make = delivery
    session = make(at(2, 9))
    client.force_login(tenant.user(Role.PROVIDER_MANAGER))

    response = client.post(org_url(tenant, "scheduling:session_enroll", pk=session.pk), {"emails": " \n "})

    assert response.status_code == 400
    assert response.context["enroll_form"].non_field_errors() == ["Pick at least one learner or paste their emails."]


def _new_session(engagement, course, **extra):
    return {
        "engagement": engagement.pk,
        "course": course.pk,
        "modality": "ilt",
        "starts_at": "2026-03-02T10:00",
        "ends_at": "2026-03-02T11:00",
        "capacity": "10",
        **extra,
    }


def test_session_form_labels_join_url_and_marks_fields_by_modality(client, delivery):
    tenant, _engagement, _course, _make = delivery
    client.force_login(tenant.user(Role.PROVIDER_MANAGER))

    page = client.get(org_url(tenant, "scheduling:session_create")).content.decode()

    assert '<label for="id_join_url">Join URL</label>' in page
    assert re.search(r'<select name="room"[^>]*data-modalities="ilt hybrid"', page)
    assert re.search(r'<input type="url" name="join_url"[^>]*data-modalities="vilt hybrid"', page)


@pytest.mark.parametrize(
    ("modality", "field"), [("ilt", "join_url"), ("vilt", "room"), ("self_paced", "room"), ("self_paced", "join_url")]
)
def test_session_form_refuses_a_field_the_modality_does_not_have(client, delivery, modality, field):
    tenant, engagement, course, _make = delivery
    with tenant.scope():
        room = RoomFactory(organization=tenant.organization)
    client.force_login(tenant.user(Role.PROVIDER_MANAGER))
    given = {"room": room.pk} if field == "room" else {"join_url": "https://meet.example/x"}

    response = client.post(
        org_url(tenant, "scheduling:session_create"), _new_session(engagement, course, modality=modality, **given)
    )

    assert response.status_code == 400
    assert list(response.context["form"].errors) == [field]
    with tenant.scope():
        assert Session.objects.count() == 0


def test_hybrid_session_form_keeps_both_the_room_and_the_join_url(client, delivery):
    tenant, engagement, course, _make = delivery
    with tenant.scope():
        room = RoomFactory(organization=tenant.organization)
    client.force_login(tenant.user(Role.PROVIDER_MANAGER))

    response = client.post(
        org_url(tenant, "scheduling:session_create"),
        _new_session(engagement, course, modality="hybrid", room=room.pk, join_url="https://meet.example/h"),
    )

    assert response.status_code == 302
    with tenant.scope():
        assert list(Session.objects.values_list("modality", "room", "join_url")) == [
            ("hybrid", room.pk, "https://meet.example/h")
        ]


def test_new_session_in_a_booked_room_is_refused_at_save_naming_the_session(client, delivery):
    tenant, engagement, course, make = delivery
    booked = make(at(2, 9))
    client.force_login(tenant.user(Role.PROVIDER_MANAGER))

    response = client.post(
        org_url(tenant, "scheduling:session_create"), _new_session(engagement, course, room=booked.room_id)
    )

    assert response.status_code == 400
    assert response.context["form"].errors == {
        "room": [f"The room is already booked at that time by session {booked.pk}, LEAD-1 on 02 Mar 2026 09:00."]
    }
    with tenant.scope():
        assert list(Session.objects.values_list("pk", flat=True)) == [booked.pk]


def test_cancel_form_has_no_default_side_and_requires_one(client, delivery):
    tenant, _engagement, _course, make = delivery
    session = make(at(2, 9))
    client.force_login(tenant.user(Role.PROVIDER_MANAGER))

    page = client.get(org_url(tenant, "scheduling:session", pk=session.pk)).content.decode()
    response = client.post(org_url(tenant, "scheduling:session_cancel", pk=session.pk), {"reason": "Strike"})

    assert '<option value="" selected>Choose a side</option>' in page
    assert response.status_code == 400
    assert list(response.context["cancel_form"].errors) == ["cancelled_by"]
    session.refresh_from_db()
    assert session.status == SessionStatus.CONFIRMED
