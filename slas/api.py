"""API resources of the SLA engine: read-only results (periods, measurements, credits, escalations) and the terms
(schedules and targets), which contract managers create (POST) and change (PATCH with If-Match)."""

from datetime import datetime

from django.db.models import Q, QuerySet
from django_filters import rest_framework as filters
from rest_framework import serializers

from engagements.models import Engagement
from engagements.selectors import engagements_for
from mls.api import (
    IdFilter,
    MomentFilter,
    MonthField,
    MonthFilter,
    ReadOnlyResource,
    ReadSerializer,
    TenantFilterSet,
    TenantPrimaryKey,
    YesNoFilter,
    date_range,
    moment_range,
)
from mls.api_etags import CreatableContractResource, contract_schema
from mls.enums import Permission
from mls.models import Membership

from . import services
from .catalog import MetricKey
from .enums import CreditStatus, EscalationLevel, MeasurementStatus, PeriodStatus, ReliefStatus
from .models import Escalation, Measurement, ReliefEvent, ServiceCredit, SlaPeriod, SlaSchedule, SlaTarget
from .selectors import credits_for, measurements_for, periods_for, relief_for, schedules_for, targets_for


def period_month(**kwargs: object) -> MonthFilter:
    """`?month=YYYY-MM` on rows of an SLA period."""
    return MonthFilter(
        field_name="period__month", help_text="The SLA period's month, YYYY-MM (e.g. 2026-09).", **kwargs
    )


class EngagementFilter(TenantFilterSet):
    engagement = IdFilter()


class MetricFilter(EngagementFilter):
    metric = filters.ChoiceFilter(choices=MetricKey.choices)
    month = period_month()


class ReliefSerializer(ReadSerializer):
    class Meta:
        model = ReliefEvent
        exclude = ("organization",)


class ReliefFilter(EngagementFilter):
    status = filters.ChoiceFilter(choices=ReliefStatus.choices)
    starts_after, starts_before = date_range("starts_on")


class ReliefEventViewSet(ReadOnlyResource):
    serializer_class = ReliefSerializer
    filterset_class = ReliefFilter
    ordering_fields = ("id", "starts_on")

    def visible(self, membership: Membership) -> QuerySet[ReliefEvent]:
        return relief_for(membership)


class ScheduleSerializer(ReadSerializer):
    class Meta:
        model = SlaSchedule
        exclude = ("organization",)


class ScheduleChanges(serializers.ModelSerializer):
    class Meta:
        model = SlaSchedule
        fields = SlaSchedule.EDITABLE_FIELDS


class NewSchedule(serializers.ModelSerializer):
    """The engagement and its SLA terms; the escalation ladder defaults to the engagement's MSA terms."""

    engagement = TenantPrimaryKey(model=Engagement)

    class Meta:
        model = SlaSchedule
        fields = ("engagement", *SlaSchedule.EDITABLE_FIELDS)


SCHEDULE_EXAMPLE = {
    "engagement": 1,
    "at_risk_percent": "12.00",
    "grace_days": 5,
    "earn_back_enabled": True,
    "earn_back_periods": 3,
}


@contract_schema(ScheduleChanges, ScheduleSerializer, create=NewSchedule, create_example=SCHEDULE_EXAMPLE)
class SlaScheduleViewSet(CreatableContractResource):
    """An engagement's SLA schedule (at-risk share, grace days, earn-back, escalation ladder): one per engagement,
    created with POST and changed with PATCH and If-Match."""

    serializer_class = ScheduleSerializer
    update_serializer_class = ScheduleChanges
    create_serializer_class = NewSchedule
    write_permission = Permission.MANAGE_SLAS
    filterset_class = EngagementFilter

    def visible(self, membership: Membership) -> QuerySet[SlaSchedule]:
        return schedules_for(membership)

    def create_object(self, fields: dict) -> SlaSchedule:
        return services.create_schedule(actor=self.membership.user, **fields)

    def apply_changes(self, obj: SlaSchedule, fields: dict) -> SlaSchedule:
        return services.update_schedule(schedule=obj, actor=self.membership.user, **fields)


class TargetSerializer(ReadSerializer):
    class Meta:
        model = SlaTarget
        exclude = ("organization",)


class TargetChanges(serializers.ModelSerializer):
    """What changes on a target in force; a different metric or start is a new target (made in MLS)."""

    class Meta:
        model = SlaTarget
        fields = ("target", "threshold", "min_sample", "allocation_percent", "active_to")


class NewTarget(serializers.ModelSerializer):
    """A metric's target in a schedule; an empty threshold is the catalog's default (as on the target form)."""

    schedule = TenantPrimaryKey(model=SlaSchedule)

    class Meta:
        model = SlaTarget
        fields = ("schedule", *SlaTarget.EDITABLE_FIELDS)


class TargetFilter(TenantFilterSet):
    engagement = IdFilter(field_name="schedule__engagement")
    metric = filters.ChoiceFilter(choices=MetricKey.choices)


TARGET_EXAMPLE = {
    "schedule": 1,
    "metric": "support_first_response",
    "target": "95.00",
    "threshold": 8,
    "min_sample": 5,
    "allocation_percent": "40.00",
    "active_from": "2027-01-01",
}


@contract_schema(TargetChanges, TargetSerializer, create=NewTarget, create_example=TARGET_EXAMPLE)
class SlaTargetViewSet(CreatableContractResource):
    """One metric's target of an SLA schedule, created with POST: its level, threshold, sample floor, credit
    allocation and end can change with PATCH and If-Match."""

    serializer_class = TargetSerializer
    update_serializer_class = TargetChanges
    create_serializer_class = NewTarget
    write_permission = Permission.MANAGE_SLAS
    filterset_class = TargetFilter
    ordering_fields = ("id", "active_from")

    def visible(self, membership: Membership) -> QuerySet[SlaTarget]:
        return targets_for(membership)

    def create_object(self, fields: dict) -> SlaTarget:
        return services.save_target(actor=self.membership.user, **fields)

    def apply_changes(self, obj: SlaTarget, fields: dict) -> SlaTarget:
        return services.save_target(schedule=obj.schedule, actor=self.membership.user, existing=obj, **fields)


class SlaPeriodSerializer(ReadSerializer):
    month = MonthField(read_only=True, help_text="The calendar month, YYYY-MM.")

    class Meta:
        model = SlaPeriod
        fields = (
            "id",
            "engagement",
            "month",
            "status",
            "monthly_fee",
            "at_risk",
            "at_risk_percent",
            "as_of",
            "computed_at",
            "finalized_at",
        )


class PeriodFilter(EngagementFilter):
    updated_since = MomentFilter(
        field_name="computed_at", lookup_expr="gte", help_text="Computed (or finalized) at or after this moment."
    )
    month = MonthFilter(field_name="month", help_text="The calendar month, YYYY-MM (e.g. 2026-09).")
    status = filters.ChoiceFilter(choices=PeriodStatus.choices)


class SlaPeriodViewSet(ReadOnlyResource):
    """An engagement's SLA months: provisional until the month and its grace days are over, then finalized, with
    the monthly fee the at-risk amount was taken from and the evaluation time (as_of) of the figures."""

    serializer_class = SlaPeriodSerializer
    filterset_class = PeriodFilter
    ordering_fields = ("id", "month")

    def visible(self, membership: Membership) -> QuerySet[SlaPeriod]:
        return periods_for(membership)


class MeasurementSerializer(ReadSerializer):
    class Meta:
        model = Measurement
        exclude = ("organization", "inputs")  # item ids: the drill-down page shows them


class MeasurementFilter(MetricFilter):
    updated_since = MomentFilter(
        field_name="computed_at", lookup_expr="gte", help_text="Computed (or recomputed) at or after this moment."
    )
    status = filters.ChoiceFilter(choices=MeasurementStatus.choices)
    finalized = YesNoFilter()
    computed_after, computed_before = moment_range("computed_at")


class MeasurementViewSet(ReadOnlyResource):
    serializer_class = MeasurementSerializer
    filterset_class = MeasurementFilter
    ordering_fields = ("id", "computed_at")

    def visible(self, membership: Membership) -> QuerySet[Measurement]:
        return measurements_for(membership)


class CreditSerializer(ReadSerializer):
    class Meta:
        model = ServiceCredit
        exclude = ("organization",)


class CreditFilter(MetricFilter):
    updated_since = MomentFilter(
        method="issued_or_earned_back_since", help_text="Issued or earned back at or after this moment."
    )
    status = filters.ChoiceFilter(choices=CreditStatus.choices)
    issued_after, issued_before = moment_range("issued_at")

    def issued_or_earned_back_since(self, credits: QuerySet, name: str, moment: datetime) -> QuerySet:
        return credits.filter(Q(issued_at__gte=moment) | Q(earned_back_at__gte=moment))


class CreditViewSet(ReadOnlyResource):
    serializer_class = CreditSerializer
    filterset_class = CreditFilter
    ordering_fields = ("id", "issued_at")

    def visible(self, membership: Membership) -> QuerySet[ServiceCredit]:
        return credits_for(membership)


class EscalationSerializer(ReadSerializer):
    class Meta:
        model = Escalation
        exclude = ("organization",)


class EscalationFilter(MetricFilter):
    updated_since = MomentFilter(
        field_name="updated_at", lookup_expr="gte", help_text="Raised, answered, planned or closed since."
    )
    level = filters.ChoiceFilter(choices=EscalationLevel.choices)
    created_after, created_before = moment_range("created_at")


class EscalationViewSet(ReadOnlyResource):
    serializer_class = EscalationSerializer
    filterset_class = EscalationFilter
    ordering_fields = ("id", "created_at")

    def visible(self, membership: Membership) -> QuerySet[Escalation]:
        return Escalation.objects.filter(engagement__in=engagements_for(membership))
