"""How a scorecard cell names its base: in the metric's own unit, counted for people ("1 item", "3,906 min")."""

from decimal import Decimal

import pytest

from slas.models import Measurement
from slas.selectors import sample_label

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("metric", "denominator", "label"),
    [
        ("support_first_response", "1", "1 item"),
        ("support_first_response", "1200", "1,200 items"),
        ("instructor_rating", "11", "11 scores"),
        ("training_utilization", "336", "336 seats"),
        ("platform_uptime", "3906.4167", "3,906 min"),  # a running month measured mid-minute
        ("platform_uptime", "44640", "44,640 min"),
    ],
)
def test_sample_label_counts_in_the_metrics_unit(metric, denominator, label):
    assert sample_label(Measurement(metric=metric, denominator=Decimal(denominator))) == label
