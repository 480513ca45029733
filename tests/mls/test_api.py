"""mls.api's ReadSerializer: the output it builds from its plan, of an instance or of the row a list reads, is DRF's
own output, for every API resource."""

from zoneinfo import ZoneInfo

import pytest
from django.urls import URLResolver, get_resolver
from django.utils import timezone
from rest_framework import serializers

from mls.api import ReadSerializer
from scheduling.models import Learner
from tests.factories.api import api_objects
from tests.factories.reporting import stored_qbr
from tests.factories.scheduling import LearnerFactory

pytestmark = pytest.mark.integration


def _views(patterns: list) -> list[type]:
    """The view classes of every URL pattern, included ones too."""
    found = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            found += _views(pattern.url_patterns)
        elif cls := getattr(pattern.callback, "cls", None):
            found.append(cls)
    return found


READ_SERIALIZERS = sorted(
    {
        view.serializer_class
        for view in _views(get_resolver("mls.api_urls").url_patterns)
        if isinstance(getattr(view, "serializer_class", None), type)
        and issubclass(view.serializer_class, ReadSerializer)
    },
    key=lambda serializer_class: serializer_class.__name__,
)


def test_planned_output_is_drfs_own_for_every_resource(tenant_a):
    tenant_a.with_route_objects()
    api_objects(tenant_a)
    with tenant_a.scope():
        stored_qbr(tenant_a.contract.engagement)
    compared = {}

    # A zone with a half-hour offset, so moments are converted as DRF converts them.
    with tenant_a.scope(), timezone.override(ZoneInfo("America/St_Johns")):
        for serializer_class in READ_SERIALIZERS:
            model = serializer_class.Meta.model
            columns = [attname for _, attname, _ in serializer_class.output_plan()]
            values = {values["pk"]: values for values in model.objects.values("pk", *columns)}  # as lists read
            for row in model.objects.all():
                serializer = serializer_class(row)
                drf = serializers.Serializer.to_representation(serializer, row)

                assert serializer.data == drf
                assert serializer_class(values[row.pk]).data == drf
                compared[serializer_class.__name__] = compared.get(serializer_class.__name__, 0) + 1

    assert sorted(compared) == sorted(serializer_class.__name__ for serializer_class in READ_SERIALIZERS)


def test_every_resource_serializer_builds_its_output_from_a_plan():
    without_plan = [serializer.__name__ for serializer in READ_SERIALIZERS if serializer.output_plan() is None]

    assert without_plan == []


class LearnerGreeting(ReadSerializer):
    greeting = serializers.SerializerMethodField()

    class Meta:
        model = Learner
        fields = ("id", "greeting")

    def get_greeting(self, learner: Learner) -> str:
        return f"Hello {learner.name}"


def test_a_field_without_a_model_attribute_keeps_drfs_lookup(tenant_a):
    learner = LearnerFactory(organization=tenant_a.organization, name="Ada")

    serializer = LearnerGreeting(learner)

    assert serializer.output_plan() is None
    assert serializer.data == {"id": learner.pk, "greeting": "Hello Ada"}
