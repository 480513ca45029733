"""mls.api's ReadSerializer: output only, every model value written as the API documents it (moments in ISO 8601
in the organization's zone, dates in ISO, money as decimal strings, foreign keys as ids), for every API resource."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import FieldDoesNotExist
from django.urls import URLResolver, get_resolver
from django.utils import timezone
from rest_framework import serializers

from engagements.api import COMMERCIAL_HELP
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


def documented(value: object) -> object:
    """A stored value as the API documents it, written out by hand (not by DRF)."""
    if isinstance(value, datetime):
        text = value.astimezone(timezone.get_current_timezone()).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def test_every_resource_writes_its_model_values_as_documented(tenant_a):
    tenant_a.with_route_objects()
    api_objects(tenant_a)
    with tenant_a.scope():
        stored_qbr(tenant_a.contract.engagement)
    compared = {}

    # A zone with a half-hour offset, so moments are written in the current zone, not in UTC.
    with tenant_a.scope(), timezone.override(ZoneInfo("America/St_Johns")):
        for serializer_class in READ_SERIALIZERS:
            model = serializer_class.Meta.model
            for row in model.objects.all():
                output = serializer_class(row).data

                for name, field in serializer_class().fields.items():
                    assert field.read_only, (serializer_class.__name__, name)
                    try:
                        model_field = model._meta.get_field(field.source)
                    except FieldDoesNotExist:
                        continue  # a field of the serializer's own (a method, a secret), tested with its resource
                    if field.help_text == COMMERCIAL_HELP:
                        continue  # null without a caller who sees commercials: tests/mls/test_commercial_privacy.py
                    if model_field.concrete and type(field).__module__.startswith("rest_framework."):
                        assert output[name] == documented(getattr(row, model_field.attname)), (model, name)
                compared[serializer_class.__name__] = compared.get(serializer_class.__name__, 0) + 1

    assert sorted(compared) == sorted(serializer_class.__name__ for serializer_class in READ_SERIALIZERS)


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

    assert serializer.data == {"id": learner.pk, "greeting": "Hello Ada"}
