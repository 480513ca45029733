"""CSV import: every row checked, row-numbered errors (header = row 1), all-or-nothing upsert by external_id."""

import csv
import io
import re
from datetime import UTC, datetime

import pytest
from django_scopes import ScopeError

from mls.enums import Role
from mls.models import AuditEvent
from scheduling import services
from scheduling.enums import CompletionSource, EnrollmentStatus, Modality, SessionStatus, TicketCategory, TicketStatus
from scheduling.imports import ImportResult, RowError, import_csv, lookups, template_csv
from scheduling.models import Completion, Enrollment, Learner, Session, SupportTicket
from tests.factories.engagements import EngagementFactory
from tests.factories.scheduling import CourseFactory, LearnerFactory, RoomFactory, at

pytestmark = pytest.mark.unit

LEARNER_HEADER = "external_id,name,email"


def run(tenant, kind: str, text: str, role: str = Role.OWNER, **kwargs) -> ImportResult:
    return import_csv(kind=kind, organization=tenant.organization, text=text, actor=tenant.user(role), **kwargs)


def sheet(*rows: dict[str, str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def learner_lines(count: int) -> list[str]:
    return [f"L-{n:05},Learner {n},learner{n}@acme.example" for n in range(1, count + 1)]


def learners(tenant) -> list[tuple[str, str, str]]:
    return list(Learner.objects.order_by("external_id").values_list("external_id", "name", "email"))


@pytest.fixture
def acme(tenant_a):
    with tenant_a.scope():
        yield tenant_a


@pytest.fixture
def delivery(acme):
    """Acme's engagement, course and room as the files below name them."""
    org = acme.organization
    acme.engagement = EngagementFactory(organization=org, provider=acme.provider, name="Managed learning 2026")
    acme.course = CourseFactory(organization=org, code="C001")
    acme.room = RoomFactory(organization=org, name="Room 1", venue__name="HQ")
    acme.ann = LearnerFactory(organization=org, external_id="L-1", name="Ann", email="ann@acme.example")
    acme.bob = LearnerFactory(organization=org, external_id="L-2", name="Bob", email="bob@acme.example")
    return acme


# --- Learners ------------------------------------------------------------------------------------------------


def test_learner_import_creates_a_learner_per_row(acme):
    text = "\n".join([LEARNER_HEADER + ",region", "L-1,Ann,ann@acme.example,EMEA", "L-2,Bob,bob@acme.example,APAC"])

    result = run(acme, "learners", text)

    assert result == ImportResult(created=2, updated=0, errors=[])
    assert learners(acme) == [("L-1", "Ann", "ann@acme.example"), ("L-2", "Bob", "bob@acme.example")]
    assert list(Learner.objects.order_by("external_id").values_list("region", flat=True)) == ["EMEA", "APAC"]


def test_learner_reimport_upserts_by_external_id_counting_only_real_changes(acme):
    run(acme, "learners", "\n".join([LEARNER_HEADER, "L-1,Ann,ann@acme.example", "L-2,Bob,bob@acme.example"]))
    first_ids = dict(Learner.objects.values_list("external_id", "pk"))
    text = "\n".join([LEARNER_HEADER, "L-1,Ann Smith,ann@acme.example", "L-2,Bob,bob@acme.example", "L-3,Cy,cy@a.io"])

    result = run(acme, "learners", text)

    assert result == ImportResult(created=1, updated=1, errors=[], unchanged=1)
    assert learners(acme) == [
        ("L-1", "Ann Smith", "ann@acme.example"),
        ("L-2", "Bob", "bob@acme.example"),
        ("L-3", "Cy", "cy@a.io"),
    ]
    assert dict(Learner.objects.filter(external_id__in=["L-1", "L-2"]).values_list("external_id", "pk")) == first_ids


@pytest.mark.slow
def test_learner_import_of_10000_rows_with_three_bad_rows_writes_nothing_and_names_those_rows(acme):
    lines = learner_lines(10_000)
    lines[0] = "L-00001,Learner 1,not-an-email"  # spreadsheet row 2
    lines[4999] = "L-05000,,learner5000@acme.example"  # row 5001
    lines[9999] = "L-00002,Learner 10000,learner10000@acme.example"  # row 10001 repeats row 3's external_id

    result = run(acme, "learners", "\n".join([LEARNER_HEADER, *lines]))

    assert result == ImportResult(
        created=0,
        updated=0,
        errors=[
            RowError(2, "email", "Enter a valid email address."),
            RowError(5001, "name", "name is required."),
            RowError(10001, "external_id", "external_id L-00002 is already used in row 3."),
        ],
    )
    assert Learner.objects.count() == 0
    assert AuditEvent.objects.filter(action="import.learners").count() == 0


@pytest.mark.slow
def test_learner_import_of_10000_rows_runs_in_a_bounded_number_of_queries(acme, django_assert_max_num_queries):
    text = "\n".join([LEARNER_HEADER, *learner_lines(10_000)])

    with django_assert_max_num_queries(40):
        result = run(acme, "learners", text)

    assert result == ImportResult(created=10_000, updated=0, errors=[])
    assert Learner.objects.count() == 10_000
    assert Learner.objects.get(external_id="L-10000").email == "learner10000@acme.example"


def test_learner_import_reports_progress_every_500_steps_and_never_goes_backwards(acme):
    calls = []

    run(acme, "learners", "\n".join([LEARNER_HEADER, *learner_lines(1_200)]), progress=lambda *call: calls.append(call))

    # 1,200 rows are 2,400 steps: checked (500, 1000), then saved in batches of 500, 500 and 200.
    assert calls == [(500, 2400), (1000, 2400), (1700, 2400), (2200, 2400), (2400, 2400)]


def test_learner_import_refuses_a_repeated_external_id_naming_the_first_row(acme):
    text = "\n".join([LEARNER_HEADER, "L-1,Ann,ann@acme.example", "L-1,Bob,bob@acme.example"])

    result = run(acme, "learners", text)

    assert result.errors == [RowError(3, "external_id", "external_id L-1 is already used in row 2.")]
    assert Learner.objects.count() == 0


def test_learner_import_refuses_an_email_repeated_within_the_file(acme):
    text = "\n".join([LEARNER_HEADER, "L-1,Ann,ann@acme.example", "L-2,Annie,ANN@acme.example"])

    result = run(acme, "learners", text)

    assert result.errors == [RowError(3, "email", "ANN@acme.example is also the email of row 2.")]
    assert Learner.objects.count() == 0


def test_learner_import_refuses_the_email_of_another_learner_of_the_organization(acme):
    LearnerFactory(organization=acme.organization, external_id="L-OLD", name="Ann Old", email="ann@acme.example")

    result = run(acme, "learners", "\n".join([LEARNER_HEADER, "L-1,Ann,Ann@acme.example"]))

    assert result.errors == [RowError(2, "email", "Ann@acme.example is already the email of learner Ann Old (L-OLD).")]
    assert learners(acme) == [("L-OLD", "Ann Old", "ann@acme.example")]


def test_learner_import_larger_than_one_lookup_finds_every_stored_learner_and_email(acme, monkeypatch):
    monkeypatch.setattr("scheduling.imports.lookups._chunk_size", lambda: 4)  # two external_ids and two emails a query
    for n in range(1, 6):
        LearnerFactory(organization=acme.organization, external_id=f"L-{n}", email=f"old{n}@acme.example")
    LearnerFactory(organization=acme.organization, external_id="L-OLD", name="Zed", email="zed@acme.example")
    rows = [f"L-{n},New {n},old{n}@acme.example" for n in range(1, 6)]

    refused = run(acme, "learners", "\n".join([LEARNER_HEADER, *rows, "L-6,Zed Two,ZED@acme.example"]))
    accepted = run(acme, "learners", "\n".join([LEARNER_HEADER, *rows]))

    assert refused.errors == [RowError(7, "email", "ZED@acme.example is already the email of learner Zed (L-OLD).")]
    assert accepted == ImportResult(created=0, updated=5, errors=[])


def test_learner_import_lets_a_new_row_take_the_email_another_row_gives_up(acme):
    LearnerFactory(organization=acme.organization, external_id="L-1", name="Ann", email="ann@acme.example")
    text = "\n".join([LEARNER_HEADER, "L-1,Ann,ann.smith@acme.example", "L-2,Ann Two,ann@acme.example"])

    result = run(acme, "learners", text)

    assert result == ImportResult(created=1, updated=1, errors=[])
    assert learners(acme) == [("L-1", "Ann", "ann.smith@acme.example"), ("L-2", "Ann Two", "ann@acme.example")]


def test_learner_import_never_reads_or_writes_another_tenants_learners(tenant_a, tenant_b):
    with tenant_b.scope():
        theirs = LearnerFactory(
            organization=tenant_b.organization, external_id="L-1", name="Ann of B", email="ann@acme.example"
        )
    text = "\n".join([LEARNER_HEADER, "L-1,Ann of A,ann@acme.example"])

    with tenant_a.scope():
        result = run(tenant_a, "learners", text)
        ours = Learner.objects.get()

    assert result == ImportResult(created=1, updated=0, errors=[])
    assert (ours.organization_id, ours.name) == (tenant_a.organization.pk, "Ann of A")
    with tenant_b.scope():
        assert list(Learner.objects.values_list("pk", "name", "email")) == [(theirs.pk, "Ann of B", "ann@acme.example")]


def test_learner_import_inside_another_tenants_scope_is_refused_before_reading_anything(tenant_a, tenant_b):
    message = re.escape("import_csv must run inside organization_scope('acme').")

    with tenant_b.scope(), pytest.raises(ValueError, match=f"^{message}$"):
        run(tenant_a, "learners", "\n".join([LEARNER_HEADER, "L-1,Ann,ann@acme.example"]))

    with tenant_a.scope():
        assert Learner.objects.count() == 0
    with tenant_b.scope():
        assert Learner.objects.count() == 0


def test_learner_import_records_one_audit_event_per_written_row_with_before_and_after(acme):
    owner = acme.user(Role.OWNER)
    run(acme, "learners", "\n".join([LEARNER_HEADER, *learner_lines(2)]))
    text = "\n".join([LEARNER_HEADER, "L-00001,Learner One,learner1@acme.example", *learner_lines(3)[1:]])

    run(acme, "learners", text)

    ids = dict(Learner.objects.values_list("external_id", "pk"))
    events = AuditEvent.objects.filter(action="import.learners").order_by("id")
    fields = {"business_unit": "", "manager_email": "", "region": "", "language": "en-gb", "timezone": ""}
    assert [(e.actor, e.object_type, e.object_id, e.before, e.after) for e in events] == [
        (owner, "scheduling.learner", str(ids["L-00001"]), None,
         {"name": "Learner 1", "email": "learner1@acme.example", **fields}),
        (owner, "scheduling.learner", str(ids["L-00002"]), None,
         {"name": "Learner 2", "email": "learner2@acme.example", **fields}),
        (owner, "scheduling.learner", str(ids["L-00001"]),
         {"name": "Learner 1", "email": "learner1@acme.example", **fields},
         {"name": "Learner One", "email": "learner1@acme.example", **fields}),
        (owner, "scheduling.learner", str(ids["L-00003"]), None,
         {"name": "Learner 3", "email": "learner3@acme.example", **fields}),
    ]  # fmt: skip


def test_learner_import_caps_errors_at_200_and_counts_the_rest(acme):
    lines = [f"L-{n},Learner {n},not-an-email-{n}" for n in range(1, 251)]

    result = run(acme, "learners", "\n".join([LEARNER_HEADER, *lines]))

    assert len(result.errors) == 201
    assert result.errors[199] == RowError(201, "email", "Enter a valid email address.")
    assert result.errors[200] == RowError(202, "", "…and 50 more errors from here on.")


def test_template_csv_example_row_imports_as_a_learner(acme):
    result = run(acme, "learners", template_csv("learners"))

    assert result == ImportResult(created=1, updated=0, errors=[])
    assert list(Learner.objects.values_list("external_id", "name", "email", "business_unit", "region")) == [
        ("L-1001", "Ada Lovelace", "ada.lovelace@example.com", "Engineering", "EMEA")
    ]


# --- Reading the file ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "errors"),
    [
        (
            "external_id,name,email,nickname\nL-1,Ann,ann@acme.example,Annie",
            [
                RowError(
                    1,
                    "",
                    "Unknown column(s): nickname. The columns are: "
                    "external_id, name, email, business_unit, manager_email, region, language, timezone.",
                )
            ],
        ),
        ("external_id,name\nL-1,Ann", [RowError(1, "", "Missing required column(s): email.")]),
        ("", [RowError(1, "", "The file has no rows.")]),
        ("external_id,name,email\n", [RowError(1, "", "The file has no rows.")]),
        (
            "external_id,name,email\nL-1,Ann,ann@acme.example,extra",
            [RowError(2, "", "This row has values in a column without a heading.")],
        ),
        (
            "external_id,name,email,Email\nL-1,Ann,ann@acme.example,ann@acme.example",
            [RowError(1, "", "Column(s) appearing more than once: email.")],
        ),
        (
            # 100,000 distinct columns: refused on their count, before any column is compared (the check of
            # repeated columns was quadratic and held a worker for hours on such a header).
            ",".join(f"c{n}" for n in range(100_000)) + "\nx",
            [RowError(1, "", "The header has 100,000 columns; a file has at most 200.")],
        ),
        (
            f"external_id,name,email\nL-1,{'x' * 200_000},ann@acme.example",
            [RowError(2, "", "This row cannot be read as CSV (field larger than field limit (131072)).")],
        ),
    ],
    ids=[
        "unknown-column",
        "missing-column",
        "empty",
        "header-only",
        "extra-cell",
        "repeated-column",
        "100k-columns",
        "oversized-cell",
    ],
)
def test_import_of_an_unusable_file_returns_row_numbered_errors_and_writes_nothing(acme, text, errors):
    result = run(acme, "learners", text)

    assert result == ImportResult(created=0, updated=0, errors=errors)
    assert Learner.objects.count() == 0


def test_import_strips_a_bom_and_matches_headers_ignoring_case_spaces_and_blank_lines(acme):
    text = "\ufeff External_ID , NAME,Email \r\n\r\n L-1 , Ann ,ann@acme.example\r\n"

    result = run(acme, "learners", text)

    assert result == ImportResult(created=1, updated=0, errors=[])
    assert learners(acme) == [("L-1", "Ann", "ann@acme.example")]


# --- Sessions ------------------------------------------------------------------------------------------------

SESSION = {
    "external_id": "S-1",
    "engagement": "Managed learning 2026",
    "course_code": "C001",
    "modality": "ilt",
    "starts_at": "2026-03-02T09:00:00+00:00",
    "ends_at": "2026-03-02T12:00:00+00:00",
    "capacity": "10",
    "venue": "HQ",
    "room": "Room 1",
}


def test_session_import_creates_requested_sessions_with_their_room(delivery):
    virtual = {**SESSION, "external_id": "S-2", "modality": "vilt", "venue": "", "room": ""}
    virtual |= {"join_url": "https://meet.example.com/s-2", "requested_at": "2026-02-01T10:00:00+01:00"}

    result = run(delivery, "sessions", sheet({**SESSION, "join_url": "", "requested_at": ""}, virtual))

    assert result == ImportResult(created=2, updated=0, errors=[])
    first, second = Session.objects.order_by("external_id")
    assert (first.engagement, first.course, first.room, first.starts_at, first.ends_at, first.status) == (
        delivery.engagement,
        delivery.course,
        delivery.room,
        at(2, 9),
        at(2, 12),
        SessionStatus.REQUESTED,
    )
    assert (second.modality, second.room, second.join_url, second.requested_at) == (
        Modality.VILT,
        None,
        "https://meet.example.com/s-2",
        datetime(2026, 2, 1, 9, 0, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"engagement": "Nope"}, RowError(2, "engagement", "No engagement 'Nope' in this organization.")),
        ({"course_code": "C999"}, RowError(2, "course_code", "No course with code 'C999' in this organization.")),
        (
            {"starts_at": "2026-03-02T09:00:00"},
            RowError(
                2, "starts_at", "'2026-03-02T09:00:00' has no UTC offset; add it, e.g. 2026-03-02T09:00:00+00:00."
            ),
        ),
        (
            {"ends_at": "next tuesday"},
            RowError(
                2, "ends_at", "'next tuesday' is not a date and time; use ISO 8601, e.g. 2026-03-02T09:00:00+00:00."
            ),
        ),
        ({"ends_at": "2026-03-02T08:00:00+00:00"}, RowError(2, "ends_at", "ends_at must be after starts_at.")),
        ({"room": ""}, RowError(2, "room", "Give both venue and room, or neither.")),
        ({"room": "Room 9"}, RowError(2, "room", "No room at HQ named 'Room 9' in this organization.")),
        (
            {"modality": "classroom"},
            RowError(2, "modality", "'classroom' is not allowed here; use one of: ilt, vilt, hybrid, self_paced."),
        ),
        ({"capacity": "ten"}, RowError(2, "capacity", "'ten' is not a whole number.")),
        ({"capacity": "-1"}, RowError(2, "capacity", "Ensure this value is greater than or equal to 1.")),
        (
            {"ends_at": "9999-12-31T23:00:00-05:00"},  # year 10000 in UTC
            RowError(2, "ends_at", "'9999-12-31T23:00:00-05:00' is out of range: Give a year from 1900 to 2200."),
        ),
        (
            {"starts_at": "0001-01-01T00:30:00+01:00"},  # year 0 in UTC
            RowError(2, "starts_at", "'0001-01-01T00:30:00+01:00' is out of range: Give a year from 1900 to 2200."),
        ),
    ],
    ids=[
        "unknown-engagement",
        "unknown-course",
        "naive",
        "not-a-date",
        "ends-first",
        "venue-no-room",
        "unknown-room",
        "modality",
        "capacity",
        "negative",
        "far-future",
        "far-past",
    ],
)
def test_session_import_refuses_a_bad_cell_with_an_error_in_its_column(delivery, change, error):
    result = run(delivery, "sessions", sheet({**SESSION, **change}))

    assert result == ImportResult(created=0, updated=0, errors=[error])
    assert Session.objects.count() == 0


def test_session_import_refuses_to_move_a_confirmed_session(delivery):
    run(delivery, "sessions", sheet(SESSION))
    Session.objects.update(status=SessionStatus.CONFIRMED, confirmed_at=at(1, 9))

    result = run(delivery, "sessions", sheet({**SESSION, "starts_at": "2026-03-02T10:00:00+00:00"}))

    assert result.errors == [
        RowError(
            2,
            "",
            "Session S-1 is confirmed: its instructors and room are booked for its current time, "
            "so change its time or room in MLS (reschedule), not by import.",
        )
    ]
    assert Session.objects.get().starts_at == at(2, 9)


def test_session_import_by_a_provider_manager_refuses_another_providers_engagement(delivery):
    EngagementFactory(organization=delivery.organization, name="Other provider's programme")

    result = run(
        delivery, "sessions", sheet({**SESSION, "engagement": "Other provider's programme"}), Role.PROVIDER_MANAGER
    )

    assert result.errors == [
        RowError(
            2,
            "engagement",
            "'Other provider's programme' belongs to another provider; you can import only your provider's delivery.",
        )
    ]
    assert Session.objects.count() == 0


# --- Enrollments, completions, tickets ---------------------------------------------------------------------


@pytest.fixture
def session(delivery):
    run(delivery, "sessions", sheet(SESSION))
    return Session.objects.get()


def test_enrollment_import_links_sessions_and_learners_by_external_id(delivery, session):
    session.capacity = 1
    session.save()
    text = sheet(
        {"external_id": "E-1", "session_external_id": "S-1", "learner_external_id": "L-1", "status": ""},
        {"external_id": "E-2", "session_external_id": "S-1", "learner_external_id": "L-2", "status": "Waitlisted"},
    )

    result = run(delivery, "enrollments", text)

    assert result == ImportResult(created=2, updated=0, errors=[])
    assert list(Enrollment.objects.order_by("external_id").values_list("session", "learner", "status")) == [
        (session.pk, delivery.ann.pk, EnrollmentStatus.ENROLLED),
        (session.pk, delivery.bob.pk, EnrollmentStatus.WAITLISTED),
    ]


def test_enrollment_import_refuses_unknown_references_and_a_second_live_place(delivery, session):
    text = sheet(
        {"external_id": "E-1", "session_external_id": "S-9", "learner_external_id": "L-1"},
        {"external_id": "E-2", "session_external_id": "S-1", "learner_external_id": "L-9"},
        {"external_id": "E-3", "session_external_id": "S-1", "learner_external_id": "L-1"},
        {"external_id": "E-4", "session_external_id": "S-1", "learner_external_id": "L-1"},
    )

    result = run(delivery, "enrollments", text)

    assert result.errors == [
        RowError(2, "session_external_id", "No session 'S-9' in this organization."),
        RowError(3, "learner_external_id", "No learner 'L-9' in this organization."),
        RowError(5, "learner_external_id", "This learner is already on this session in row 4."),
    ]
    assert Enrollment.objects.count() == 0


ENROLLMENT = {
    "external_id": "E-1",
    "session_external_id": "S-1",
    "learner_external_id": "L-1",
    "requested_at": "2026-02-10T09:00:00+00:00",
    "processed_at": "2026-02-10T16:30:00+01:00",
}


def test_enrollment_import_records_when_the_request_was_processed(delivery, session):
    result = run(
        delivery,
        "enrollments",
        sheet(ENROLLMENT, {**ENROLLMENT, "external_id": "E-2", "learner_external_id": "L-2", "processed_at": ""}),
    )

    assert result == ImportResult(created=2, updated=0, errors=[])
    # 16:30 at UTC+1 is 15:30Z; a blank cell leaves a new enrollment unprocessed, as before the column existed.
    assert list(Enrollment.objects.order_by("external_id").values_list("external_id", "processed_at")) == [
        ("E-1", datetime(2026, 2, 10, 15, 30, tzinfo=UTC)),
        ("E-2", None),
    ]


def test_enrollment_reimport_with_a_blank_processed_at_keeps_the_stored_one(delivery, session):
    run(delivery, "enrollments", sheet(ENROLLMENT))

    result = run(delivery, "enrollments", sheet({**ENROLLMENT, "processed_at": ""}))

    assert result == ImportResult(created=0, updated=0, errors=[], unchanged=1)
    assert Enrollment.objects.get().processed_at == datetime(2026, 2, 10, 15, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("processed_at", "message"),
    [
        ("2026-02-10T08:59:00+00:00", "processed_at cannot be before requested_at."),
        ("2026-02-10T16:30:00", "'2026-02-10T16:30:00' has no UTC offset; add it, e.g. 2026-03-02T09:00:00+00:00."),
        ("tomorrow", "'tomorrow' is not a date and time; use ISO 8601, e.g. 2026-03-02T09:00:00+00:00."),
    ],
    ids=["before-request", "naive", "not-a-date"],
)
def test_enrollment_import_with_a_bad_processed_at_names_its_row_and_writes_nothing(
    delivery, session, processed_at, message
):
    good = {**ENROLLMENT, "external_id": "E-2", "learner_external_id": "L-2"}

    result = run(delivery, "enrollments", sheet(good, {**ENROLLMENT, "processed_at": processed_at}))

    assert result == ImportResult(created=0, updated=0, errors=[RowError(3, "processed_at", message)])
    assert Enrollment.objects.count() == 0


def test_enrollment_template_offers_processed_at_after_requested_at(acme):
    header, example = csv.reader(io.StringIO(template_csv("enrollments")))

    assert dict(zip(header, example, strict=True)) == {
        "external_id": "E-3001",
        "session_external_id": "S-2001",
        "learner_external_id": "L-1001",
        "requested_at": "2026-02-10T09:00:00+00:00",
        "status": "enrolled",
        "processed_at": "2026-02-10T15:00:00+00:00",
    }


def test_completion_import_creates_completions_marked_as_imported(delivery):
    text = sheet(
        {
            "external_id": "CP-1",
            "learner_external_id": "L-1",
            "course_code": "C001",
            "completed_at": "2026-03-02T12:00:00+00:00",
            "recorded_at": "2026-03-03T09:00:00+00:00",
        }
    )

    result = run(delivery, "completions", text)

    assert result == ImportResult(created=1, updated=0, errors=[])
    completion = Completion.objects.get()
    assert (completion.learner, completion.course, completion.completed_at, completion.recorded_at) == (
        delivery.ann,
        delivery.course,
        at(2, 12),
        at(3, 9),
    )
    assert completion.source == CompletionSource.IMPORT


def test_completion_import_refuses_an_unknown_course(delivery):
    text = sheet(
        {
            "external_id": "CP-1",
            "learner_external_id": "L-1",
            "course_code": "C9",
            "completed_at": "2026-03-02T12:00:00Z",
        }
    )

    result = run(delivery, "completions", text)

    assert result.errors == [RowError(2, "course_code", "No course with code 'C9' in this organization.")]
    assert Completion.objects.count() == 0


TICKET = {
    "external_id": "T-1",
    "engagement": "Managed learning 2026",
    "category": "technical",
    "subject": "Cannot join",
    "opened_at": "2026-03-02T09:00:00+00:00",
    "first_response_at": "2026-03-02T10:00:00+00:00",
    "resolved_at": "",
    "learner_external_id": "L-1",
}


def test_ticket_import_creates_tickets_and_updates_them_by_external_id(delivery):
    run(delivery, "tickets", sheet(TICKET))

    result = run(delivery, "tickets", sheet({**TICKET, "resolved_at": "2026-03-02T14:00:00+00:00"}))

    assert result == ImportResult(created=0, updated=1, errors=[])
    ticket = SupportTicket.objects.get()
    assert (ticket.engagement, ticket.learner, ticket.category, ticket.first_response_at, ticket.resolved_at) == (
        delivery.engagement,
        delivery.ann,
        TicketCategory.TECHNICAL,
        at(2, 10),
        at(2, 14),
    )


def test_ticket_import_refuses_a_response_before_the_ticket_was_opened(delivery):
    result = run(delivery, "tickets", sheet({**TICKET, "first_response_at": "2026-03-02T08:59:00+00:00"}))

    assert result.errors == [RowError(2, "first_response_at", "first_response_at cannot be before opened_at.")]
    assert SupportTicket.objects.count() == 0


def test_ticket_import_keeps_the_first_provider_reply_and_takes_the_turn_from_the_conversation(delivery):
    """A re-import carries the 10:00 recorded before the conversation; the provider's reply at 11:00 is the first
    response now, and the client's later reply says the provider has the turn."""
    run(delivery, "tickets", sheet({**TICKET, "first_response_at": ""}))
    ticket = SupportTicket.objects.get()
    services.post_reply(ticket=ticket, membership=delivery.members[Role.PROVIDER_MANAGER], body="On it.", now=at(2, 11))
    services.post_reply(ticket=ticket, membership=delivery.members[Role.LD_DIRECTOR], body="Thanks", now=at(2, 12))

    result = run(delivery, "tickets", sheet(TICKET))

    ticket.refresh_from_db()
    assert result == ImportResult(created=0, updated=0, unchanged=1, errors=[])  # the conversation decided it all
    assert (ticket.first_response_at, ticket.status) == (at(2, 11), TicketStatus.WAITING_ON_PROVIDER)


def test_ticket_import_sets_the_status_its_times_imply(delivery):
    rows = [
        {**TICKET, "external_id": "T-open", "first_response_at": ""},
        {**TICKET, "external_id": "T-answered"},
        {**TICKET, "external_id": "T-resolved", "resolved_at": "2026-03-02T14:00:00+00:00"},
    ]

    run(delivery, "tickets", sheet(*rows))

    assert dict(SupportTicket.objects.values_list("external_id", "status")) == {
        "T-open": TicketStatus.OPEN,
        "T-answered": TicketStatus.WAITING_ON_CLIENT,
        "T-resolved": TicketStatus.RESOLVED,
    }


def test_the_learner_lookup_is_an_index_lookup_even_for_a_tenant_without_statistics(tenant_a):
    """A new tenant has no planner statistics until ANALYZE: its learners must still be found through the
    (organization, external_id) and (organization, lower(email)) indexes, not by filtering all of them."""
    with tenant_a.scope():
        Learner.objects.bulk_create(
            Learner(organization=tenant_a.organization, external_id=f"L-{n}", name="L", email=f"l{n}@a.example")
            for n in range(5000)
        )
        [query] = lookups._learner_queries({"L-7"}, {"l9@a.example"})
        plan = query.explain(analyze=True, costs=False)
        found = lookups._learners_by_id_or_email({"L-7"}, {"l9@a.example"})

    assert "scheduling_learner_external_id" in plan, plan
    assert "scheduling_learner_email_ci" in plan, plan
    assert "Rows Removed by Filter" not in plan, plan
    assert sorted(learner.external_id for learner in found) == ["L-7", "L-9"]


@pytest.mark.parametrize(("external_ids", "emails"), [({"L-1"}, {"ann@a.example"}), (set(), set())])
def test_the_learner_lookup_outside_a_tenant_scope_raises_before_reading_anything(
    tenant_a, django_assert_num_queries, external_ids, emails
):
    with tenant_a.scope():
        LearnerFactory(organization=tenant_a.organization, external_id="L-1", email="ann@a.example")

    with django_assert_num_queries(0), pytest.raises(ScopeError):
        lookups._learners_by_id_or_email(external_ids, emails)
