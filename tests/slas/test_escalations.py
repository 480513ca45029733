"""Escalations after the ladder raises them: the provider responds to a notice and records a remediation plan,
the client's approvers close; the list page with its filters, pagination and the actions each side has."""

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from engagements.models import Engagement
from mls.enums import Role
from mls.models import AuditEvent
from slas import escalations, services
from slas.enums import EscalationLevel, EscalationStatus
from slas.models import Escalation
from slas.periods import Period
from tests.factories import MembershipFactory, ProviderFactory
from tests.factories.slas import sla_engagement

pytestmark = pytest.mark.integration

NOW = datetime(2026, 4, 2, 9, 0, tzinfo=UTC)


def raised(tenant, engagement, level=EscalationLevel.NOTICE, month=date(2026, 3, 1)) -> Escalation:
    """An escalation stored as the ladder would leave it (the ladder itself is tests/slas/test_finalize.py's)."""
    with tenant.scope():
        period = services.compute_period(engagement=engagement, period=Period(month, engagement.timezone), now=NOW)
        return Escalation.objects.create(
            organization=tenant.organization,
            engagement=engagement,
            period=period,
            metric="support_first_response",
            level=level,
            breaches=1,
            respond_by=datetime(2026, 4, 9, 17, 0, tzinfo=UTC),
        )


@pytest.fixture
def engagement(tenant_a):
    return sla_engagement(tenant_a)[0]


@pytest.fixture
def notice(tenant_a, engagement):
    return raised(tenant_a, engagement)


def audit_actions(tenant) -> list[str]:
    with tenant.scope():
        return list(
            AuditEvent.objects.filter(action__startswith="escalation.")
            .order_by("at", "pk")
            .values_list("action", flat=True)
        )


def org_url(tenant, name, **kwargs):
    return reverse(name, kwargs={"organization_slug": tenant.organization.slug, **kwargs})


# --- Services ---------------------------------------------------------------------------------------------------


def test_respond_to_notice_records_the_providers_answer_once_and_audits_it(tenant_a, notice):
    provider = tenant_a.members[Role.PROVIDER_MANAGER]

    with tenant_a.scope():
        answered = escalations.respond_to_notice(
            escalation=notice, membership=provider, response="  Two agents were off sick.  ", now=NOW
        )
        with pytest.raises(ValidationError, match="already responded"):
            escalations.respond_to_notice(escalation=notice, membership=provider, response="Again", now=NOW)

    assert (answered.response, answered.responded_at) == ("Two agents were off sick.", NOW)
    assert audit_actions(tenant_a) == ["escalation.responded"]


@pytest.mark.parametrize("role", [Role.OWNER, Role.LD_DIRECTOR, Role.PROCUREMENT, Role.VIEWER])
def test_respond_to_notice_refuses_the_client_side(tenant_a, notice, role):
    with tenant_a.scope(), pytest.raises(ValidationError, match="provider answers"):
        escalations.respond_to_notice(escalation=notice, membership=tenant_a.members[role], response="x")


def test_respond_refuses_another_providers_manager(tenant_a, notice):
    other = MembershipFactory(
        organization=tenant_a.organization,
        role=Role.PROVIDER_MANAGER,
        provider=ProviderFactory(organization=tenant_a.organization, name="Southwind"),
    )

    with tenant_a.scope(), pytest.raises(ValidationError, match="provider answers"):
        escalations.respond_to_notice(escalation=notice, membership=other, response="x")


def test_respond_refuses_a_level_other_than_notice(tenant_a, engagement):
    exit_right = raised(tenant_a, engagement, EscalationLevel.EXIT_RIGHT)

    with tenant_a.scope(), pytest.raises(ValidationError, match="Only a notice"):
        escalations.respond_to_notice(
            escalation=exit_right, membership=tenant_a.members[Role.PROVIDER_MANAGER], response="x"
        )


def test_remediation_plan_is_recorded_and_may_be_revised_while_open(tenant_a, notice):
    provider = tenant_a.members[Role.PROVIDER_MANAGER]

    with tenant_a.scope():
        escalations.record_remediation_plan(
            escalation=notice, membership=provider, plan="Hire", due_on=date(2026, 5, 1), now=NOW
        )
        revised = escalations.record_remediation_plan(
            escalation=notice, membership=provider, plan="Hire two agents", due_on=date(2026, 5, 15), now=NOW
        )

    assert (revised.remediation_plan, revised.remediation_due_on) == ("Hire two agents", date(2026, 5, 15))
    assert audit_actions(tenant_a) == ["escalation.plan_recorded", "escalation.plan_recorded"]


def test_remediation_plan_refuses_a_due_date_in_the_past(tenant_a, notice):
    with tenant_a.scope(), pytest.raises(ValidationError, match="past"):
        escalations.record_remediation_plan(
            escalation=notice,
            membership=tenant_a.members[Role.PROVIDER_MANAGER],
            plan="Hire",
            due_on=date(2026, 4, 1),
            now=NOW,
        )


def test_close_by_the_directors_side_closes_once_and_audits_it(tenant_a, notice):
    director = tenant_a.members[Role.LD_DIRECTOR]

    with tenant_a.scope():
        closed = escalations.close_escalation(escalation=notice, membership=director, now=NOW)
        with pytest.raises(ValidationError, match="closed"):
            escalations.close_escalation(escalation=notice, membership=director, now=NOW)

    assert (closed.status, closed.closed_by, closed.closed_at) == (EscalationStatus.CLOSED, director.user, NOW)
    assert audit_actions(tenant_a) == ["escalation.closed"]


@pytest.mark.parametrize("role", [Role.PROCUREMENT, Role.VIEWER, Role.PROVIDER_MANAGER])
def test_close_refuses_members_who_do_not_approve_for_the_client(tenant_a, notice, role):
    with tenant_a.scope(), pytest.raises(ValidationError, match="closes an escalation"):
        escalations.close_escalation(escalation=notice, membership=tenant_a.members[role])


@pytest.mark.parametrize("act", ["respond", "plan"])
def test_a_closed_escalation_takes_no_response_or_plan(tenant_a, notice, act):
    provider = tenant_a.members[Role.PROVIDER_MANAGER]
    with tenant_a.scope():
        escalations.close_escalation(escalation=notice, membership=tenant_a.members[Role.OWNER], now=NOW)

    write = {
        "respond": lambda: escalations.respond_to_notice(escalation=notice, membership=provider, response="Late"),
        "plan": lambda: escalations.record_remediation_plan(
            escalation=notice, membership=provider, plan="Late", due_on=date(2026, 5, 1), now=NOW
        ),
    }[act]

    with tenant_a.scope(), pytest.raises(ValidationError, match="closed"):
        write()


# --- Pages ------------------------------------------------------------------------------------------------------


def test_list_shows_each_escalation_with_the_actions_of_the_members_side(client, tenant_a, notice):
    rows, offered = {}, {}
    for role in (Role.PROVIDER_MANAGER, Role.LD_DIRECTOR, Role.VIEWER):
        client.force_login(tenant_a.user(role))
        response = client.get(org_url(tenant_a, "slas:escalations"))
        rows[role] = [e.pk for e in response.context["page"]]
        page = response.content.decode()
        offered[role] = [label for label in ("Respond</a>", "Remediation plan</a>", "Close</a>") if label in page]

    assert rows == {role: [notice.pk] for role in rows}
    assert offered == {  # the buttons ask the checks the escalation services run (mls.actions)
        Role.PROVIDER_MANAGER: ["Respond</a>", "Remediation plan</a>"],
        Role.LD_DIRECTOR: ["Close</a>"],
        Role.VIEWER: [],
    }


def test_list_filters_by_status_and_engagement(client, tenant_a, engagement, notice):
    second, _ = sla_engagement(tenant_a)
    other = raised(tenant_a, second)
    with tenant_a.scope():
        escalations.close_escalation(escalation=other, membership=tenant_a.members[Role.OWNER], now=NOW)
    client.force_login(tenant_a.user(Role.LD_DIRECTOR))

    def listed(**query) -> list[int]:
        response = client.get(org_url(tenant_a, "slas:escalations"), query)
        return [escalation.pk for escalation in response.context["page"]]

    assert listed(status="open") == [notice.pk]
    assert listed(status="closed") == [other.pk]
    assert listed(engagement=second.pk) == [other.pk]
    assert sorted(listed()) == sorted([notice.pk, other.pk])


def test_provider_manager_sees_only_its_providers_escalations(client, tenant_a, notice):
    southwind = ProviderFactory(organization=tenant_a.organization, name="Southwind")
    foreign_engagement, _ = sla_engagement(tenant_a)
    raised(tenant_a, foreign_engagement)
    with tenant_a.scope():
        Engagement.objects.filter(pk=foreign_engagement.pk).update(provider=southwind)
    client.force_login(tenant_a.user(Role.PROVIDER_MANAGER))

    response = client.get(org_url(tenant_a, "slas:escalations"))

    assert [escalation.pk for escalation in response.context["page"]] == [notice.pk]


@pytest.mark.parametrize("count", [1, 3])
def test_list_query_count_is_constant(client, tenant_a, django_assert_num_queries, count):
    for n in range(count):
        raised(tenant_a, sla_engagement(tenant_a)[0], month=date(2026, 1 + n, 1))
    client.force_login(tenant_a.user(Role.LD_DIRECTOR))
    url = org_url(tenant_a, "slas:escalations")
    client.get(url)  # warm the session and the member's caches

    with django_assert_num_queries(9):
        response = client.get(url)

    assert len(response.context["page"]) == count


def test_respond_page_saves_the_response(client, tenant_a, notice):
    client.force_login(tenant_a.user(Role.PROVIDER_MANAGER))

    response = client.post(org_url(tenant_a, "slas:escalation_respond", pk=notice.pk), {"response": "Staff back"})

    assert response.status_code == 302
    with tenant_a.scope():
        assert Escalation.objects.get(pk=notice.pk).response == "Staff back"


def test_plan_page_keeps_the_input_on_a_past_due_date(client, tenant_a, notice):
    client.force_login(tenant_a.user(Role.PROVIDER_MANAGER))

    with time_machine.travel(NOW, tick=False):
        response = client.post(
            org_url(tenant_a, "slas:escalation_plan", pk=notice.pk), {"plan": "Hire", "due_on": "2026-03-01"}
        )

    assert response.status_code == 400
    assert "cannot be in the past" in response.content.decode()
    with tenant_a.scope():
        assert Escalation.objects.get(pk=notice.pk).remediation_plan == ""


def test_close_asks_for_confirmation_then_closes(client, tenant_a, notice):
    client.force_login(tenant_a.user(Role.LD_DIRECTOR))
    url = org_url(tenant_a, "slas:escalation_close", pk=notice.pk)

    asked = client.get(url)
    with tenant_a.scope():
        status_after_get = Escalation.objects.get(pk=notice.pk).status
    done = client.post(url)
    again = client.post(url)

    assert "Close escalation" in asked.content.decode()
    assert status_after_get == EscalationStatus.OPEN
    assert done.status_code == 302
    assert again.status_code == 400
    assert "closed" in again.content.decode()
    with tenant_a.scope():
        assert Escalation.objects.get(pk=notice.pk).status == EscalationStatus.CLOSED
