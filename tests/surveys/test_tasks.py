"""The daily beat job: one sweep per organization, each in its own tenant scope."""

import pytest

from surveys import tasks
from surveys.models import SurveyInvitation
from tests.surveys.conftest import delivered_session

pytestmark = pytest.mark.unit


def test_the_daily_job_sweeps_every_organization_in_its_own_scope(
    tenant_a, tenant_b, clock, mailoutbox, django_capture_on_commit_callbacks
):
    a, b = delivered_session(tenant_a), delivered_session(tenant_b)

    with django_capture_on_commit_callbacks(execute=True):
        organizations = tasks.dispatch_survey_invitations()
        again = tasks.dispatch_survey_invitations()

    assert (organizations, again) == (2, 2)
    for tenant, delivered in ((tenant_a, a), (tenant_b, b)):
        with tenant.scope():
            assert sorted(SurveyInvitation.objects.values_list("enrollment", flat=True)) == [
                delivered.ann.pk,
                delivered.cy.pk,
                delivered.dee.pk,
            ]
    assert len(mailoutbox) == 6
