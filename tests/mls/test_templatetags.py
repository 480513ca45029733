"""Template helpers shared by every page."""

import pytest

from mls.templatetags.actions import button_class
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


@pytest.mark.parametrize(
    ("label", "classes"),
    [
        ("Revoke token", "button button--danger"),
        ("Token widerrufen", "button button--danger"),  # German puts the verb last
        ("Endpunkt löschen", "button button--danger"),
        ("Generate a new revision", "button"),
        ("Neue Revision erstellen", "button"),
        ("", "button"),
    ],
)
def test_button_class_styles_a_destructive_action_in_either_language(label, classes):
    assert button_class(label) == classes
