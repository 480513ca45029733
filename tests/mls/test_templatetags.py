"""Template helpers shared by every page."""

import pytest

from mls.templatetags.mls import action_label

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("action", "label"),
    [
        ("escalation.created", "Escalation created"),
        ("sow_version.signed", "SoW version signed"),
        ("sla_target.created", "SLA target created"),
        ("session.attendance_recorded", "Session attendance recorded"),
        ("qbr.ready", "QBR ready"),
        ("", ""),
    ],
)
def test_action_label_reads_an_audit_action_as_a_phrase(action, label):
    assert action_label(action) == label
