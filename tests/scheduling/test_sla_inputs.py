"""Feedback, assessment attempts and per-learner compliance assignments: one rule per write in the services, the
same rules in their CSV sheets (row-numbered errors, all or nothing), audited with before and after."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from mls.enums import Role
from mls.models import AuditEvent
from scheduling import services
from scheduling.enums import EnrollmentStatus, SessionStatus
from scheduling.imports import ImportResult, RowError, import_csv
from scheduling.models import AssessmentAttempt, ComplianceAssignment, Feedback
from tests.factories import ProviderFactory
from tests.factories.engagements import EngagementFactory
from tests.factories.scheduling import CourseFactory, LearnerFactory
from tests.factories.slas import attendance, enrollment, requirement, session

pytestmark = pytest.mark.unit

MARCH = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
AFTER = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)
NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
SOON = NOW + timedelta(minutes=1)


@pytest.fixture(autouse=True)
def _clock(time_machine):
    """The clock stands at NOW, after the March delivery: "in the future" is a minute later."""
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def acme(tenant_a):
    """A delivered session S-1 of course C001 (9:00–12:00, 2 Mar): Ann attended, Bob is enrolled (attendance
    not taken), Cy waitlisted; Dee is not on it. A requirement met by C001."""
    with tenant_a.scope():
        org = tenant_a.organization
        tenant_a.engagement = EngagementFactory(organization=org, provider=tenant_a.provider)
        tenant_a.course = CourseFactory(organization=org, code="C001")
        tenant_a.session = session(
            tenant_a.engagement,
            starts_at=MARCH,
            status=SessionStatus.DELIVERED,
            external_id="S-1",
            course_=tenant_a.course,
        )
        for name, external_id in (("ann", "L-1"), ("bob", "L-2"), ("cy", "L-3"), ("dee", "L-4")):
            learner = LearnerFactory(organization=org, external_id=external_id, name=name.title())
            setattr(tenant_a, name, learner)
        tenant_a.ann_seat = enrollment(tenant_a.session, MARCH, learner_=tenant_a.ann, status=EnrollmentStatus.ATTENDED)
        attendance(tenant_a.ann_seat)
        tenant_a.bob_seat = enrollment(tenant_a.session, MARCH, learner_=tenant_a.bob)
        tenant_a.cy_seat = enrollment(tenant_a.session, MARCH, learner_=tenant_a.cy, status=EnrollmentStatus.WAITLISTED)
        tenant_a.requirement = requirement(tenant_a.course)
        yield tenant_a


def csv_import(tenant, kind: str, *lines: str, role: str = Role.OWNER) -> ImportResult:
    return import_csv(kind=kind, organization=tenant.organization, text="\n".join(lines), actor=tenant.user(role))


def audit(action: str) -> list[tuple[dict | None, dict]]:
    return list(AuditEvent.objects.filter(action=action).order_by("pk").values_list("before", "after"))


# --- Feedback: services ----------------------------------------------------------------------------------------


def test_feedback_of_an_attendee_is_saved_and_audited(acme):
    pm = acme.members[Role.PROVIDER_MANAGER]

    feedback = services.submit_feedback(
        enrollment=acme.ann_seat,
        membership=pm,
        instructor_score=5,
        overall_score=4,
        submitted_at=AFTER,
        comment=" Clear. ",
    )

    assert list(Feedback.objects.values_list("session", "learner", "instructor_score", "overall_score", "comment")) == [
        (acme.session.pk, acme.ann.pk, 5, 4, "Clear.")
    ]
    assert audit("feedback.submitted") == [
        (
            None,
            {
                "session": acme.session.pk,
                "learner": acme.ann.pk,
                "instructor_score": 5,
                "overall_score": 4,
                "comment": "Clear.",
                "submitted_at": AFTER.isoformat().replace("+00:00", "Z"),
            },
        )
    ]
    assert feedback.pk == Feedback.objects.get().pk


def test_feedback_of_a_learner_enrolled_on_a_delivered_session_is_accepted(acme):
    services.submit_feedback(
        enrollment=acme.bob_seat,
        membership=acme.members[Role.OWNER],
        instructor_score=3,
        overall_score=3,
        submitted_at=AFTER,
    )

    assert list(Feedback.objects.values_list("learner", flat=True)) == [acme.bob.pk]


@pytest.mark.parametrize(
    ("seat", "submitted_at", "errors"),
    [
        (
            "cy_seat",
            AFTER,
            {
                "enrollment": [
                    "Only a learner who attended the session (or was enrolled on it once delivered) rates it."
                ]
            },
        ),
        (
            "ann_seat",
            datetime(2026, 3, 2, 8, 59, tzinfo=UTC),
            {"submitted_at": ["Feedback cannot be submitted before the session started."]},
        ),
        (
            "ann_seat",
            SOON,
            {"submitted_at": ["Feedback cannot be submitted in the future."]},
        ),
    ],
)
def test_feedback_is_refused_from_a_non_attendee_or_at_an_impossible_time(acme, seat, submitted_at, errors):
    with pytest.raises(ValidationError) as refused:
        services.submit_feedback(
            enrollment=getattr(acme, seat),
            membership=acme.members[Role.OWNER],
            instructor_score=4,
            overall_score=4,
            submitted_at=submitted_at,
        )

    assert refused.value.message_dict == errors
    assert (Feedback.objects.count(), audit("feedback.submitted")) == (0, [])


def test_a_learner_rates_a_session_once(acme):
    owner = acme.members[Role.OWNER]
    services.submit_feedback(
        enrollment=acme.ann_seat, membership=owner, instructor_score=4, overall_score=4, submitted_at=AFTER
    )

    with pytest.raises(ValidationError) as refused:
        services.submit_feedback(
            enrollment=acme.ann_seat, membership=owner, instructor_score=1, overall_score=1, submitted_at=AFTER
        )

    assert refused.value.message_dict == {"enrollment": ["Ann has already rated this session."]}
    assert list(Feedback.objects.values_list("instructor_score", flat=True)) == [4]


@pytest.mark.parametrize("role", [Role.VIEWER, Role.PROCUREMENT, Role.LD_DIRECTOR])
def test_client_roles_cannot_log_feedback(acme, role):
    with pytest.raises(ValidationError):
        services.submit_feedback(
            enrollment=acme.ann_seat,
            membership=acme.members[role],
            instructor_score=5,
            overall_score=5,
            submitted_at=AFTER,
        )

    assert Feedback.objects.count() == 0


def test_another_providers_manager_cannot_log_feedback_on_this_session(acme):
    other = ProviderFactory(organization=acme.organization)
    outsider = acme.members[Role.PROVIDER_MANAGER]
    outsider.provider = other
    outsider.save()

    with pytest.raises(ValidationError):
        services.submit_feedback(
            enrollment=acme.ann_seat, membership=outsider, instructor_score=5, overall_score=5, submitted_at=AFTER
        )

    assert Feedback.objects.count() == 0


# --- Assessment attempts: services -----------------------------------------------------------------------------


def test_attempts_are_numbered_and_passed_means_the_score_reaches_the_pass_mark(acme):
    pm = acme.members[Role.PROVIDER_MANAGER]

    for score in ("69.99", "70.00"):
        services.record_assessment_attempt(
            learner=acme.ann,
            course=acme.course,
            attempted_at=AFTER,
            score=Decimal(score),
            pass_mark=Decimal("70"),
            membership=pm,
        )

    assert list(AssessmentAttempt.objects.values_list("attempt_number", "score", "passed")) == [
        (1, Decimal("69.99"), False),
        (2, Decimal("70.00"), True),
    ]
    assert [after["passed"] for before, after in audit("assessment_attempt.recorded")] == [False, True]


@pytest.mark.parametrize(
    ("given", "errors"),
    [
        ({"attempt_number": 1}, {"attempt_number": ["Ann already has attempt 1 at C001."]}),
        ({"passed": True}, {"passed": ["A score of 50 against a pass mark of 70 is a fail."]}),
        ({"attempted_at": SOON}, {"attempted_at": ["An attempt cannot be in the future."]}),
    ],
)
def test_attempt_refused_for_a_taken_number_a_contradicting_outcome_or_a_future_time(acme, given, errors):
    owner = acme.members[Role.OWNER]
    services.record_assessment_attempt(
        learner=acme.ann,
        course=acme.course,
        attempted_at=AFTER,
        score=Decimal("80"),
        pass_mark=Decimal("70"),
        membership=owner,
    )

    with pytest.raises(ValidationError) as refused:
        services.record_assessment_attempt(
            **{
                "learner": acme.ann,
                "course": acme.course,
                "attempted_at": AFTER,
                "score": Decimal("50"),
                "pass_mark": Decimal("70"),
                "membership": owner,
                **given,
            },
        )

    assert refused.value.message_dict == errors
    assert AssessmentAttempt.objects.count() == 1


def test_a_provider_manager_records_attempts_only_at_courses_its_provider_delivers(acme):
    elsewhere = CourseFactory(organization=acme.organization, code="C999")

    with pytest.raises(ValidationError) as refused:
        services.record_assessment_attempt(
            learner=acme.ann,
            course=elsewhere,
            attempted_at=AFTER,
            score=Decimal("80"),
            pass_mark=Decimal("70"),
            membership=acme.members[Role.PROVIDER_MANAGER],
        )

    assert refused.value.message_dict == {"course": ["Your provider delivers no session of C999."]}
    assert AssessmentAttempt.objects.count() == 0


# --- Compliance assignments: services --------------------------------------------------------------------------


def test_assign_a_learner_then_record_the_completion_audited_before_and_after(acme):
    director = acme.members[Role.LD_DIRECTOR]

    assignment = services.assign_learner(
        requirement=acme.requirement, learner=acme.dee, membership=director, due_on=date(2026, 6, 30)
    )
    services.complete_assignment(
        assignment=assignment, membership=acme.members[Role.PROVIDER_MANAGER], completed_at=AFTER
    )

    assignment.refresh_from_db()
    assert (assignment.due_on, assignment.completed_at) == (date(2026, 6, 30), AFTER)
    state = {"requirement": acme.requirement.pk, "learner": acme.dee.pk, "due_on": "2026-06-30"}
    assert audit("compliance.learner_assigned") == [(None, {**state, "completed_at": None})]
    assert audit("compliance.assignment_completed") == [
        ({**state, "completed_at": None}, {**state, "completed_at": "2026-03-02T13:00:00Z"})
    ]


def test_assignment_refused_twice_on_a_day_and_completion_refused_in_the_future(acme):
    owner = acme.members[Role.OWNER]
    assignment = services.assign_learner(
        requirement=acme.requirement, learner=acme.dee, membership=owner, due_on=date(2026, 6, 30)
    )

    with pytest.raises(ValidationError) as twice:
        services.assign_learner(
            requirement=acme.requirement, learner=acme.dee, membership=owner, due_on=date(2026, 6, 30)
        )
    with pytest.raises(ValidationError) as future:
        services.complete_assignment(assignment=assignment, membership=owner, completed_at=SOON)

    assert twice.value.message_dict == {"due_on": ["Dee already has Data protection due on 30 Jun 2026."]}
    assert future.value.message_dict == {"completed_at": ["A completion cannot be in the future."]}
    assert list(ComplianceAssignment.objects.values_list("completed_at", flat=True)) == [None]


@pytest.mark.parametrize("role", [Role.VIEWER, Role.PROCUREMENT])
def test_roles_without_assign_compliance_cannot_assign(acme, role):
    with pytest.raises(ValidationError):
        services.assign_learner(
            requirement=acme.requirement, learner=acme.dee, membership=acme.members[role], due_on=date(2026, 6, 30)
        )

    assert ComplianceAssignment.objects.count() == 0


# --- CSV: feedback ---------------------------------------------------------------------------------------------

FEEDBACK_HEADER = "external_id,session_external_id,learner_external_id,instructor_score,overall_score,submitted_at"


def test_feedback_import_creates_then_upserts_by_external_id(acme):
    first = csv_import(
        acme, "feedback", FEEDBACK_HEADER, "F-1,S-1,L-1,5,4,2026-03-02T13:00:00+00:00", "F-2,S-1,L-2,3,2,"
    )
    again = csv_import(acme, "feedback", FEEDBACK_HEADER, "F-1,S-1,L-1,4,4,2026-03-02T13:00:00+00:00")

    assert (first, again) == (ImportResult(2, 0, []), ImportResult(0, 1, []))
    assert list(Feedback.objects.order_by("external_id").values_list("external_id", "learner", "instructor_score")) == [
        ("F-1", acme.ann.pk, 4),
        ("F-2", acme.bob.pk, 3),
    ]


def test_feedback_import_with_bad_rows_writes_nothing_and_names_each_row(acme):
    result = csv_import(
        acme,
        "feedback",
        FEEDBACK_HEADER,
        "F-1,S-1,L-1,5,4,2026-03-02T13:00:00+00:00",
        "F-2,S-1,L-3,5,4,2026-03-02T13:00:00+00:00",  # row 3: Cy is waitlisted
        "F-3,S-1,L-4,5,4,2026-03-02T13:00:00+00:00",  # row 4: Dee is not on the session
        "F-4,S-1,L-2,6,4,2026-03-02T08:00:00+00:00",  # row 5: a score of 6, before the start
        "F-5,S-9,L-1,5,4,",  # row 6: no such session
        "F-6,S-1,L-1,2,2,2026-03-02T14:00:00+00:00",  # row 7: Ann again
    )

    attendees_only = "Only a learner who attended the session (or was enrolled on it once delivered) rates it."
    assert result.errors == [
        RowError(3, "learner_external_id", attendees_only),
        RowError(4, "learner_external_id", attendees_only),
        RowError(5, "submitted_at", "Feedback cannot be submitted before the session started."),
        RowError(5, "instructor_score", "Ensure this value is less than or equal to 5."),
        RowError(6, "session_external_id", "No session 'S-9' in this organization."),
        RowError(7, "learner_external_id", "This learner already rates this session in row 2."),
    ]
    assert (Feedback.objects.count(), AuditEvent.objects.filter(action="import.feedback").count()) == (0, 0)


def test_feedback_import_refuses_a_second_rating_already_stored(acme):
    services.submit_feedback(
        enrollment=acme.ann_seat,
        membership=acme.members[Role.OWNER],
        instructor_score=4,
        overall_score=4,
        submitted_at=AFTER,
        external_id="WEB-1",
    )

    result = csv_import(acme, "feedback", FEEDBACK_HEADER, "F-1,S-1,L-1,5,4,2026-03-02T13:00:00+00:00")

    assert result.errors == [
        RowError(2, "learner_external_id", "This learner has already rated this session (feedback WEB-1).")
    ]


def test_another_providers_manager_cannot_import_feedback_on_this_session(acme):
    acme.members[Role.PROVIDER_MANAGER].provider = ProviderFactory(organization=acme.organization)
    acme.members[Role.PROVIDER_MANAGER].save()

    result = csv_import(
        acme, "feedback", FEEDBACK_HEADER, "F-1,S-1,L-1,5,4,2026-03-02T13:00:00+00:00", role=Role.PROVIDER_MANAGER
    )

    assert result.errors == [
        RowError(
            2,
            "session_external_id",
            "Session S-1 belongs to another provider; you can import only your provider's delivery.",
        )
    ]
    assert Feedback.objects.count() == 0


# --- CSV: assessment attempts ----------------------------------------------------------------------------------

ATTEMPT_HEADER = "external_id,learner_external_id,course_code,attempt_number,attempted_at,score,pass_mark"


def test_attempt_import_derives_passed_and_updates_it_with_the_score(acme):
    created = csv_import(
        acme,
        "assessment-attempts",
        ATTEMPT_HEADER,
        "A-1,L-1,C001,1,2026-03-02T12:30:00+00:00,65,70",
        "A-2,L-1,C001,2,2026-03-09T12:30:00+00:00,70,70",
    )
    corrected = csv_import(
        acme, "assessment-attempts", ATTEMPT_HEADER, "A-1,L-1,C001,1,2026-03-02T12:30:00+00:00,75,70"
    )

    assert (created, corrected) == (ImportResult(2, 0, []), ImportResult(0, 1, []))
    assert list(AssessmentAttempt.objects.order_by("external_id").values_list("external_id", "score", "passed")) == [
        ("A-1", Decimal("75.00"), True),
        ("A-2", Decimal("70.00"), True),
    ]


def test_attempt_import_with_bad_rows_writes_nothing_and_names_each_row(acme):
    services.record_assessment_attempt(
        learner=acme.bob,
        course=acme.course,
        attempted_at=AFTER,
        score=Decimal("80"),
        pass_mark=Decimal("70"),
        membership=acme.members[Role.OWNER],
    )

    result = csv_import(
        acme,
        "assessment-attempts",
        ATTEMPT_HEADER,
        "A-1,L-1,C001,1,2026-03-02T12:30:00+00:00,80,70",
        "A-2,L-1,C001,1,2026-03-03T12:30:00+00:00,80,70",  # row 3: the number of row 2
        "A-3,L-2,C001,1,2026-03-03T12:30:00+00:00,80,70",  # row 4: Bob's attempt 1 is stored
        "A-4,L-1,C001,3,2026-06-01T09:01:00+00:00,eighty,70",  # row 5
        "A-5,L-1,C404,1,2026-03-03T12:30:00+00:00,80,70",  # row 6
    )

    assert result.errors == [
        RowError(3, "attempt_number", "Row 2 has the same attempt of this learner and course."),
        RowError(
            4,
            "attempt_number",
            f"This learner already has attempt 1 at this course (attempt {AssessmentAttempt.objects.get().pk}).",
        ),
        RowError(5, "score", "'eighty' is not a number; write it like 72.5."),
        RowError(5, "attempted_at", "An attempt cannot be in the future."),
        RowError(6, "course_code", "No course with code 'C404' in this organization."),
    ]
    assert AssessmentAttempt.objects.count() == 1


def test_a_provider_manager_imports_attempts_only_at_courses_its_provider_delivers(acme):
    CourseFactory(organization=acme.organization, code="C999")

    result = csv_import(
        acme,
        "assessment-attempts",
        ATTEMPT_HEADER,
        "A-1,L-1,C999,1,2026-03-02T12:30:00+00:00,80,70",
        role=Role.PROVIDER_MANAGER,
    )

    assert result.errors == [RowError(2, "course_code", "Your provider delivers no session of C999.")]
    assert AssessmentAttempt.objects.count() == 0


# --- CSV: compliance assignments -------------------------------------------------------------------------------

ASSIGNMENT_HEADER = "external_id,learner_external_id,due_on,requirement,requirement_id,completed_at"


def test_assignment_import_names_the_requirement_by_name_or_id(acme):
    result = csv_import(
        acme,
        "compliance-assignments",
        ASSIGNMENT_HEADER,
        "CA-1,L-1,2026-06-30,Data protection,,",
        f"CA-2,L-2,2026-06-30,,{acme.requirement.pk},2026-03-02T13:00:00+00:00",
    )

    assert result == ImportResult(2, 0, [])
    assert list(
        ComplianceAssignment.objects.order_by("external_id").values_list(
            "external_id", "learner", "requirement", "completed_at"
        )
    ) == [("CA-1", acme.ann.pk, acme.requirement.pk, None), ("CA-2", acme.bob.pk, acme.requirement.pk, AFTER)]


def test_assignment_import_with_bad_rows_writes_nothing_and_names_each_row(acme):
    result = csv_import(
        acme,
        "compliance-assignments",
        ASSIGNMENT_HEADER,
        "CA-1,L-1,2026-06-30,Data protection,,",
        f"CA-2,L-2,2026-06-30,Data protection,{acme.requirement.pk},",  # row 3: both
        "CA-3,L-2,30/06/2026,Data protection,,",  # row 4
        "CA-4,L-3,2026-06-30,Fire safety,,2026-06-01T09:01:00+00:00",  # row 5
        "CA-5,L-1,2026-06-30,Data protection,,",  # row 6: row 2's cycle
    )

    assert result.errors == [
        RowError(3, "requirement", "Give the requirement by its name (requirement) or its id (requirement_id)."),
        RowError(4, "due_on", "'30/06/2026' is not a date; use ISO 8601, e.g. 2026-06-30."),
        RowError(5, "requirement", "No requirement 'Fire safety' in this organization."),
        RowError(5, "completed_at", "A completion cannot be in the future."),
        RowError(6, "due_on", "Row 2 assigns this requirement to this learner on the same day."),
    ]
    assert ComplianceAssignment.objects.count() == 0


def test_assignment_import_of_another_tenants_requirement_id_is_a_row_error(acme, tenant_b):
    with tenant_b.scope():
        foreign = requirement(CourseFactory(organization=tenant_b.organization), name="Data protection")

    result = csv_import(acme, "compliance-assignments", ASSIGNMENT_HEADER, f"CA-1,L-1,2026-06-30,,{foreign.pk},")

    assert result.errors == [RowError(2, "requirement_id", f"No requirement '{foreign.pk}' in this organization.")]
    assert ComplianceAssignment.objects.count() == 0
