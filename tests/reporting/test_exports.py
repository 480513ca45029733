"""CSV exports: formula-safe cells, organization-time ISO 8601, a provider manager's own rows, filters, one query."""

import csv
import io
import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engagements.models import Engagement
from mls.enums import Role
from reporting.delivery_exports import CSV_EXPORTS, export_rows
from reporting.exports import csv_chunks, escape_cell, queryset_csv_response, queryset_rows
from scheduling import services
from scheduling.models import Course, Learner, Session, SupportTicket
from tests.factories import ProviderFactory
from tests.factories.engagements import EngagementFactory
from tests.factories.slas import session, ticket

pytestmark = pytest.mark.integration

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
SEPARATORS = (";", "\t")  # where a spreadsheet of another locale splits an unquoted cell
NUMBER = re.compile(r"-?\d+(\.\d+)?")


def neutralised(text: str) -> str:
    """OWASP's rule, applied to the cell and to every piece a separator would start: an apostrophe before a
    formula start."""
    text = re.sub(r"([;\t])(?=[=+\-@\t\r])", r"\1'", text)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def export_url(tenant, kind, **filters):
    url = reverse("reporting:export_csv", kwargs={"organization_slug": tenant.organization.slug, "kind": kind})
    return url + "?" + "&".join(f"{key}={value}" for key, value in filters.items()) if filters else url


def download(client, tenant, kind, **filters) -> list[dict]:
    response = client.get(export_url(tenant, kind, **filters))
    assert response.status_code == 200
    assert response.streaming
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text, newline="")))


@pytest.fixture
def engagement(tenant_a) -> Engagement:
    return EngagementFactory(organization=tenant_a.organization, provider=tenant_a.provider, name="Northwind ops")


# --- escape_cell -----------------------------------------------------------------------------------------------


@pytest.mark.unit
@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+44 20 7946 0000", "'+44 20 7946 0000"),
        ("-1+1", "'-1+1"),
        ("-5", "'-5"),  # text stays text, even when it looks like a number
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("Help;=cmd|' /C calc'!A0", "Help;'=cmd|' /C calc'!A0"),  # a ;-locale would split it into a formula
        ("a;+1;-2;@x", "a;'+1;'-2;'@x"),
        ("Q3\t=SUM(A1)", "Q3\t'=SUM(A1)"),
        ("=1;=2", "'=1;'=2"),
        ("a;b; -1", "a;b; -1"),
        ("Leading teams", "Leading teams"),
        (" =1", " =1"),
        ("", ""),
        (Decimal("-12.50"), "-12.50"),  # our own numbers are numbers
        (7, "7"),
        (None, ""),
        (True, "true"),
        (False, "false"),
        (date(2026, 7, 1), "2026-07-01"),
        ({"met": [1, 2]}, '{"met": [1, 2]}'),
    ],
)
def test_escape_cell_prefixes_text_that_a_spreadsheet_would_evaluate(value, cell):
    assert escape_cell(value) == cell


@pytest.mark.unit
def test_escape_cell_writes_datetimes_with_the_offset_of_the_given_zone():
    from zoneinfo import ZoneInfo

    london = ZoneInfo("Europe/London")

    assert escape_cell(datetime(2026, 1, 5, 9, 0, tzinfo=UTC), london) == "2026-01-05T09:00:00+00:00"
    assert escape_cell(datetime(2026, 7, 6, 8, 30, tzinfo=UTC), london) == "2026-07-06T09:30:00+01:00"


# --- The property: no exported cell can start a formula --------------------------------------------------------

# Any text PostgreSQL stores (no NUL, no lone surrogates), biased towards formula starts.
typed = st.one_of(
    st.text(alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=60),
    st.tuples(st.sampled_from(FORMULA_STARTS), st.text(max_size=20)).map("".join).filter(lambda t: "\x00" not in t),
    st.tuples(st.text(max_size=10), st.sampled_from(SEPARATORS), st.sampled_from(FORMULA_STARTS), st.text(max_size=10))
    .map("".join)
    .filter(lambda t: "\x00" not in t),
)


@pytest.fixture
def delivery(tenant_a, engagement):
    with tenant_a.scope():
        held = session(engagement, starts_at=datetime(2026, 3, 2, 9, tzinfo=UTC))
        help_request = ticket(engagement, datetime(2026, 3, 2, 8, tzinfo=UTC))
    return held, help_request


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(subject=typed, course_title=typed, course_code=typed.map(lambda t: t[:40]), reason=typed)
def test_no_exported_cell_starts_a_formula(client, tenant_a, delivery, subject, course_title, course_code, reason):
    held, help_request = delivery
    with tenant_a.scope():
        SupportTicket.objects.filter(pk=help_request.pk).update(subject=subject)
        Course.objects.filter(pk=held.course_id).update(title=course_title, code=course_code)
        Session.objects.filter(pk=held.pk).update(cancellation_reason=reason)
    client.force_login(tenant_a.user(Role.LD_DIRECTOR))

    tickets = download(client, tenant_a, "tickets")
    sessions = download(client, tenant_a, "sessions")

    cells = [cell for row in tickets + sessions for cell in row.values()]
    assert [c for c in cells if c.startswith(FORMULA_STARTS) and not NUMBER.fullmatch(c)] == []
    pieces = [piece for cell in cells for piece in re.split("[;\t]", cell)[1:]]  # what another locale splits off
    assert [piece for piece in pieces if piece.startswith(FORMULA_STARTS)] == []
    # Nothing else changed: the typed text comes back whole, with an apostrophe exactly where it needed one.
    typed_back = [
        (tickets[0]["Subject"], subject),
        (sessions[0]["Course title"], course_title),
        (sessions[0]["Course code"], course_code),
        (sessions[0]["Cancellation reason"], reason),
    ]
    for cell, text in typed_back:
        assert cell == neutralised(text)


# --- Content, rights and filters -------------------------------------------------------------------------------


def test_sessions_export_has_one_row_per_session_with_organization_time(client, tenant_a, engagement):
    with tenant_a.scope():
        winter = session(engagement, starts_at=datetime(2026, 1, 5, 9, tzinfo=UTC), external_id="S-1")
        summer = session(engagement, starts_at=datetime(2026, 7, 6, 8, 30, tzinfo=UTC), course_=winter.course)
    client.force_login(tenant_a.user(Role.VIEWER))

    rows = download(client, tenant_a, "sessions")

    assert [(r["ID"], r["External ID"], r["Engagement"], r["Starts at"], r["Ends at"]) for r in rows] == [
        (str(winter.pk), "S-1", "Northwind ops", "2026-01-05T09:00:00+00:00", "2026-01-05T12:00:00+00:00"),
        (str(summer.pk), "", "Northwind ops", "2026-07-06T09:30:00+01:00", "2026-07-06T12:30:00+01:00"),
    ]
    assert rows[0]["Confirmed at"] == "2025-12-22T09:00:00+00:00"  # confirmed when requested, 14 days before
    assert (rows[0]["Status"], rows[0]["Capacity"], rows[0]["Cancelled at"]) == ("Confirmed", "10", "")


def test_sessions_export_has_headers_and_labels_for_people(client, tenant_a, engagement):
    with tenant_a.scope():
        session(engagement, starts_at=datetime(2026, 1, 5, 9, tzinfo=UTC))
    client.force_login(tenant_a.user(Role.VIEWER))

    (row,) = download(client, tenant_a, "sessions")

    assert list(row)[:8] == [
        "ID",
        "External ID",
        "Engagement",
        "Course code",
        "Course title",
        "Modality",
        "Status",
        "Capacity",
    ]
    assert (row["Modality"], row["Status"], row["Cancelled by"]) == ("Virtual instructor-led", "Confirmed", "")


def test_provider_manager_exports_only_its_providers_engagements(client, tenant_a, engagement):
    other = EngagementFactory(
        organization=tenant_a.organization,
        provider=ProviderFactory(organization=tenant_a.organization, name="Other Learning"),
        name="Other ops",
    )
    with tenant_a.scope():
        own = ticket(engagement, datetime(2026, 3, 2, 8, tzinfo=UTC))
        theirs = ticket(other, datetime(2026, 3, 2, 9, tzinfo=UTC))

    client.force_login(tenant_a.user(Role.PROVIDER_MANAGER))
    provider_rows = download(client, tenant_a, "tickets")
    client.force_login(tenant_a.user(Role.PROCUREMENT))
    client_rows = download(client, tenant_a, "tickets")

    assert [row["ID"] for row in provider_rows] == [str(own.pk)]
    assert [row["ID"] for row in client_rows] == [str(own.pk), str(theirs.pk)]


def test_ticket_export_has_status_and_assignee(client, tenant_a, engagement):
    with tenant_a.scope():
        answered = ticket(engagement, datetime(2026, 3, 2, 8, tzinfo=UTC))
        services.post_reply(
            ticket=answered,
            membership=tenant_a.members[Role.PROVIDER_MANAGER],
            body="On it.",
            now=datetime(2026, 3, 2, 9, tzinfo=UTC),
        )
        services.assign_ticket(
            ticket=answered,
            membership=tenant_a.members[Role.PROVIDER_MANAGER],
            assignee=tenant_a.members[Role.PROVIDER_MANAGER],
        )
    client.force_login(tenant_a.user(Role.OWNER))

    [row] = download(client, tenant_a, "tickets")

    assert (row["First response at"], row["Status"], row["Assignee email"]) == (
        "2026-03-02T09:00:00+00:00",  # GMT in March: organization time is UTC
        "Waiting on client",  # exports are for people: the label, not the key
        tenant_a.user(Role.PROVIDER_MANAGER).email,
    )


def test_date_range_is_of_local_days_and_engagement_filters(client, tenant_a, engagement):
    other = EngagementFactory(organization=tenant_a.organization, provider=tenant_a.provider, name="Other ops")
    with tenant_a.scope():
        june_last = ticket(engagement, datetime(2026, 6, 30, 22, 30, tzinfo=UTC))  # 23:30 in London: June
        july_first = ticket(engagement, datetime(2026, 6, 30, 23, 30, tzinfo=UTC))  # 00:30 on 1 July in London
        ticket(other, datetime(2026, 7, 2, 9, tzinfo=UTC))
    client.force_login(tenant_a.user(Role.OWNER))

    june = download(client, tenant_a, "tickets", starts_on="2026-06-01", ends_on="2026-06-30")
    july = download(client, tenant_a, "tickets", starts_on="2026-07-01", engagement=engagement.pk)

    assert [row["ID"] for row in june] == [str(june_last.pk)]
    assert [row["ID"] for row in july] == [str(july_first.pk)]


def test_completions_export_includes_self_paced_completions_of_the_engagements_courses(client, tenant_a, engagement):
    from scheduling.models import Completion

    with tenant_a.scope():
        held = session(engagement, starts_at=datetime(2026, 3, 2, 9, tzinfo=UTC))
        learner = Learner.objects.create(organization=tenant_a.organization, name="Ada", email="ada@acme.example")
        at_session = Completion.objects.create(
            organization=tenant_a.organization,
            learner=learner,
            course=held.course,
            session=held,
            completed_at=datetime(2026, 3, 2, 12, tzinfo=UTC),
        )
        self_paced = Completion.objects.create(
            organization=tenant_a.organization,
            learner=learner,
            course=held.course,
            completed_at=datetime(2026, 3, 3, 12, tzinfo=UTC),
        )
        Completion.objects.create(  # a course this engagement never delivered
            organization=tenant_a.organization,
            learner=learner,
            course=Course.objects.create(organization=tenant_a.organization, code="X", title="X", duration_hours=1),
            completed_at=datetime(2026, 3, 4, 12, tzinfo=UTC),
        )
    client.force_login(tenant_a.user(Role.OWNER))

    of_engagement = download(client, tenant_a, "completions", engagement=engagement.pk)
    everything = download(client, tenant_a, "completions")

    assert [(r["ID"], r["Engagement"]) for r in of_engagement] == [
        (str(at_session.pk), "Northwind ops"),
        (str(self_paced.pk), ""),
    ]
    assert len(everything) == 3


def test_measurements_and_credits_exports_carry_exact_decimals(client, tenant_a):
    from tests.factories.engagements import signed_contract_with_proposal

    contract = signed_contract_with_proposal(tenant_a)
    client.force_login(tenant_a.user(Role.PROCUREMENT))

    rows = download(client, tenant_a, "measurements", starts_on="2026-03-15", ends_on="2026-03-20")
    credits = download(client, tenant_a, "credits")

    assert [(r["ID"], r["Month"], r["Metric"], r["Target"]) for r in rows] == [
        (str(contract.measurement.pk), "2026-03-01", "Support first response", "95.00")
    ]
    assert credits == []  # a provisional month issues no credit


@pytest.mark.parametrize(
    ("filters", "error"),
    [
        ({"starts_on": "2026-07-01", "ends_on": "2026-06-30"}, "The end date must not be before the start date."),
        ({"starts_on": "1 July"}, "Enter a valid date."),
        ({"engagement": "999999"}, "Select a valid choice."),
        ({"ends_on": "9999-12-31"}, "Give a year from 1900 to 2200."),  # the day after it was an OverflowError
    ],
)
def test_bad_filters_show_the_exports_page_with_the_error(client, tenant_a, filters, error):
    client.force_login(tenant_a.user(Role.OWNER))

    response = client.get(export_url(tenant_a, "tickets", **filters))

    assert response.status_code == 400
    assert not response.streaming
    assert error in str(response.context["form"].errors)


def test_another_tenants_engagement_cannot_be_exported(client, tenant_a, tenant_b, engagement):
    foreign = EngagementFactory(organization=tenant_b.organization, provider=tenant_b.provider)
    with tenant_b.scope():
        ticket(foreign, datetime(2026, 3, 2, 8, tzinfo=UTC))
    client.force_login(tenant_a.user(Role.OWNER))

    response = client.get(export_url(tenant_a, "tickets", engagement=foreign.pk))

    assert response.status_code == 400
    assert "Select a valid choice." in str(response.context["form"].errors)


def test_unknown_export_is_404(client, tenant_a):
    client.force_login(tenant_a.user(Role.OWNER))

    assert client.get(export_url(tenant_a, "learners-and-passwords")).status_code == 404


@pytest.mark.parametrize("count", [1, 3])
def test_an_export_is_one_query_whatever_its_size(client, tenant_a, engagement, count, django_assert_num_queries):
    with tenant_a.scope():
        for day in range(1, count + 1):
            ticket(engagement, datetime(2026, 3, day, 8, tzinfo=UTC))
    client.force_login(tenant_a.user(Role.PROVIDER_MANAGER))

    # session, user, organization, membership, the engagement filter's choice; then the rows in one query, with
    # its savepoint and the session timezone set and put back around it
    with django_assert_num_queries(10):
        rows = download(client, tenant_a, "tickets", engagement=engagement.pk)

    assert len(rows) == count


def test_exports_page_links_each_export_with_the_filters(client, tenant_a, engagement):
    client.force_login(tenant_a.user(Role.VIEWER))

    response = client.get(
        reverse("reporting:exports", kwargs={"organization_slug": "acme"}), {"engagement": engagement.pk}
    )

    content = response.content.decode()
    assert list(response.context["exports"]) == [
        "sessions",
        "enrollments",
        "completions",
        "tickets",
        "measurements",
        "credits",
    ]
    assert f'href="{export_url(tenant_a, "credits")}?engagement={engagement.pk}"' in content
    assert "Export all data" not in content  # the portability export is the owners'


def parsed(chunks) -> list[list[str]]:
    text = b"".join(chunk if isinstance(chunk, bytes) else chunk.encode() for chunk in chunks).decode()
    return list(csv.reader(io.StringIO(text, newline="")))


def written_by_postgresql(queryset, lookups, zone) -> list[list[str]]:
    response = queryset_csv_response("x.csv", lookups, queryset, lookups, zone)
    assert response.streaming
    return parsed(response.streaming_content)


def written_by_python(queryset, lookups, zone) -> list[list[str]]:
    return parsed(csv_chunks(lookups, queryset_rows(queryset, lookups), zone))


@pytest.mark.unit
@pytest.mark.parametrize("zone_name", ["Europe/London", "America/St_Johns", "Asia/Kolkata", "UTC"])
def test_postgresql_formats_datetimes_exactly_as_escape_cell(tenant_a, engagement, zone_name):
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(zone_name)
    moments = [
        datetime(2026, 1, 5, 9, 0, tzinfo=UTC),
        datetime(2026, 3, 29, 0, 59, 59, 999999, tzinfo=UTC),  # London: last microsecond of GMT
        datetime(2026, 3, 29, 1, 0, tzinfo=UTC),  # London: first moment of BST
        datetime(2026, 7, 6, 8, 30, 0, 500000, tzinfo=UTC),
        datetime(2026, 11, 1, 23, 15, 7, 42, tzinfo=UTC),
    ]
    with tenant_a.scope():
        for moment in moments:
            ticket(engagement, moment)

        tickets = SupportTicket.objects.order_by("opened_at")
        formatted = written_by_postgresql(tickets, ["opened_at"], zone)
        read_back = list(SupportTicket.objects.order_by("opened_at").values_list("opened_at", flat=True))

    assert formatted == [["opened_at"]] + [[escape_cell(moment, zone)] for moment in moments]
    assert read_back == moments  # the session timezone is back: Django reads timestamps right again


@pytest.mark.parametrize("kind", list(CSV_EXPORTS))
def test_postgresql_writes_every_export_exactly_as_the_csv_module(tenant_a, kind):
    """The COPY path (PostgreSQL formats and escapes) and the csv-module path (escape_cell) give the same cells, for
    every column of every export: text with formula starts, quotes, commas and line breaks, empty text and NULL,
    numbers, decimals, dates, datetimes, booleans."""
    from zoneinfo import ZoneInfo

    from slas import services as sla_services
    from tests.factories.slas import completion, enrollment, sla_engagement
    from tests.slas.delivery import deliver_month

    zone = ZoneInfo("America/St_Johns")  # a half-hour offset
    engagement, _ = sla_engagement(tenant_a, active_from=date(2026, 2, 1))
    with tenant_a.scope():
        deliver_month(engagement, date(2026, 2, 1), breached={"support_first_response", "instructor_rating"})
        sla_services.finalize_due_periods(engagement=engagement, now=datetime(2026, 3, 7, tzinfo=UTC))
        first = Session.objects.order_by("pk").first()
        Session.objects.filter(pk=first.pk).update(cancellation_reason='=1+1, "quoted"\r\nnext line', external_id="")
        Course.objects.filter(pk=first.course_id).update(title="-5", code="@SUM")
        SupportTicket.objects.filter(pk=SupportTicket.objects.order_by("pk").first().pk).update(
            subject="\tTab, text;=1\t+2"
        )
        enrollment(first, datetime(2026, 2, 3, 9, 30, 0, 250000, tzinfo=UTC))  # not processed: NULL
        completion(first, datetime(2026, 2, 3, 12, tzinfo=UTC), datetime(2026, 2, 4, 8, tzinfo=UTC))
        Learner.objects.filter(pk=Learner.objects.order_by("pk").first().pk).update(name="+44 20 7946 0000")
        export = CSV_EXPORTS[kind]
        rows = export_rows(export, tenant_a.members[Role.OWNER], zone=zone).order_by("pk")

        by_postgresql = written_by_postgresql(rows, export.lookups, zone)
        by_python = written_by_python(rows, export.lookups, zone)

    assert len(by_python) > 1, "the export has rows"
    assert by_postgresql == by_python
