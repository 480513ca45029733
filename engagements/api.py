"""API resources of the contracts domain. Engagements (MSA terms), a SoW's title and its draft version's priced
lines are written through the same services as the web app, changes with If-Match (mls.api_etags); signing and
change requests happen in MLS itself."""

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_field
from rest_framework import exceptions, serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from mls.api import (
    IdFilter,
    MonthField,
    MonthFilter,
    ReadOnlyResource,
    ReadSerializer,
    TenantFilterSet,
    TenantPrimaryKey,
    date_range,
)
from mls.api_auth import caller_of
from mls.api_etags import ContractResource, CreatableContractResource, contract_schema, etag_of
from mls.enums import Permission
from mls.models import Membership, Provider

from . import selectors, services
from .enums import ChangeRequestStatus, EngagementStatus, OutcomeStatus, PricingModel
from .models import ChangeRequest, Engagement, OutcomeMeasurement, ScopeItem, ServiceLine, Sow, SowVersion
from .selectors import change_requests_for, engagements_for, sows_for

COMMERCIAL_HELP = "The client's commercial figure: null for a provider's token or account manager, who do not see it."


class EngagementSerializer(ReadSerializer):
    """`annual_value` and `annual_budget` are the client's commercial record (Membership.sees_commercials): a
    provider's token or account manager gets them as null, so every caller reads the same shape."""

    annual_value = serializers.DecimalField(
        max_digits=14, decimal_places=2, read_only=True, allow_null=True, help_text=COMMERCIAL_HELP
    )
    annual_budget = serializers.DecimalField(
        max_digits=14, decimal_places=2, read_only=True, allow_null=True, help_text=COMMERCIAL_HELP
    )

    class Meta:
        model = Engagement
        exclude = ("organization",)

    def to_representation(self, instance: Engagement | dict) -> dict:
        data = super().to_representation(instance)
        request = self.context.get("request")
        caller = caller_of(request) if request is not None else None
        if caller is None or not caller.membership.sees_commercials:
            data["annual_value"] = data["annual_budget"] = None
        return data


class EngagementFilter(TenantFilterSet):
    provider = IdFilter()
    status = filters.ChoiceFilter(choices=EngagementStatus.choices)
    ends_after, ends_before = date_range("end_date")


ENGAGEMENT_EXAMPLE = {
    "provider": 1,
    "name": "Leadership academy 2027",
    "engagement_model": "managed_services",
    "vendor_model": "master_service_provider",
    "currency": "GBP",
    "timezone": "Europe/London",
    "holiday_country": "GB",
    "holiday_subdivision": "ENG",
    "start_date": "2027-01-01",
    "end_date": "2029-12-31",
    "annual_value": "250000.00",
    "termination_notice_days": 90,
}
SERVICE_LINE_EXAMPLE = {
    "name": "Learners trained",
    "basis": "per_learner",
    "bands": [{"up_to": 500, "rate": "40.00"}, {"up_to": None, "rate": "35.00"}],
}


class EngagementChanges(serializers.ModelSerializer):
    """The MSA terms as the engagement form has them; the whole engagement is validated again by the service."""

    provider = TenantPrimaryKey(model=Provider)

    class Meta:
        model = Engagement
        fields = Engagement.EDITABLE_FIELDS


@contract_schema(EngagementChanges, EngagementSerializer)
class EngagementViewSet(ContractResource):
    """Engagements the caller sees: all for the client, its own for a provider's token. Contract managers create
    them (POST) and change their MSA terms (PATCH with If-Match)."""

    serializer_class = EngagementSerializer
    update_serializer_class = EngagementChanges
    write_permission = Permission.MANAGE_CONTRACTS
    filterset_class = EngagementFilter
    ordering_fields = ("id", "name", "start_date", "end_date")

    def visible(self, membership: Membership) -> QuerySet[Engagement]:
        return engagements_for(membership)

    @extend_schema(
        request=EngagementChanges,
        responses={201: EngagementSerializer},
        examples=[OpenApiExample("An engagement", value=ENGAGEMENT_EXAMPLE, request_only=True)],
    )
    def create(self, request: Request) -> Response:
        caller = caller_of(request)
        if not caller.membership.has_permission(self.write_permission):
            raise exceptions.PermissionDenied()
        fields = EngagementChanges(data=request.data)
        fields.is_valid(raise_exception=True)
        engagement = services.create_engagement(
            organization=caller.organization, actor=caller.membership.user, **fields.validated_data
        )
        data = self.get_serializer(engagement).data
        return Response(data, status=201, headers={"ETag": etag_of(data)})

    def apply_changes(self, obj: Engagement, fields: dict) -> Engagement:
        return services.update_engagement(engagement=obj, actor=self.membership.user, **fields)


class SowSerializer(ReadSerializer):
    class Meta:
        model = Sow
        exclude = ("organization",)


class SowFilter(TenantFilterSet):
    engagement = IdFilter()


class SowChanges(serializers.ModelSerializer):
    class Meta:
        model = Sow
        fields = ("title",)


class NewSow(serializers.ModelSerializer):
    """A SoW of an engagement; it starts as a draft v1 with these terms, to fill in and sign (as on the web)."""

    engagement = TenantPrimaryKey(model=Engagement)
    effective_from = serializers.DateField(help_text="When the draft v1's terms take effect.")
    pricing_model = serializers.ChoiceField(choices=PricingModel.choices)

    class Meta:
        model = Sow
        fields = ("engagement", "reference", "title", "effective_from", "pricing_model")


class BandInput(serializers.Serializer):
    up_to = serializers.IntegerField(allow_null=True, help_text="Learners up to this count; null for the last band.")
    rate = serializers.DecimalField(max_digits=12, decimal_places=2, help_text="Per learner in this band.")


class ServiceLineInput(serializers.ModelSerializer):
    bands = BandInput(many=True, required=False, help_text="Graduated volume bands of a per-learner line.")

    class Meta:
        model = ServiceLine
        fields = ("name", *ServiceLine.PRICE_FIELDS, "bands")


class ScopeItemInput(serializers.ModelSerializer):
    class Meta:
        model = ScopeItem
        fields = ("service", "custom_name", "responsibility", "notes")


class ScopeItemSerializer(ReadSerializer):
    class Meta:
        model = ScopeItem
        exclude = ("organization",)


class VersionSerializer(ReadSerializer):
    class Meta:
        model = SowVersion
        fields = ("id", "sow", "number", "status", "effective_from", "pricing_model", "signed_at")


class ServiceLineSerializer(ReadSerializer):
    bands = serializers.SerializerMethodField()

    class Meta:
        model = ServiceLine
        exclude = ("organization",)

    def get_bands(self, line: ServiceLine) -> list[dict]:
        return [{"up_to": band.up_to, "rate": str(band.rate)} for band in line.bands.order_by("id")]


SOW_EXAMPLE = {
    "engagement": 1,
    "reference": "SOW-001",
    "title": "Leadership programme",
    "effective_from": "2027-01-01",
    "pricing_model": "per_learner",
}


@contract_schema(SowChanges, SowSerializer, create=NewSow, create_example=SOW_EXAMPLE)
class SowViewSet(CreatableContractResource):
    """Contract managers create a SoW (POST: a draft v1) and change its name (PATCH with If-Match); its terms
    change through its draft's priced lines, versions and change requests."""

    serializer_class = SowSerializer
    update_serializer_class = SowChanges
    create_serializer_class = NewSow
    write_permission = Permission.MANAGE_CONTRACTS
    filterset_class = SowFilter
    ordering_fields = ("id", "reference")

    def visible(self, membership: Membership) -> QuerySet[Sow]:
        return sows_for(membership)

    def create_object(self, fields: dict) -> Sow:
        return services.create_sow(actor=self.membership.user, **fields)

    def apply_changes(self, obj: Sow, fields: dict) -> Sow:
        return services.update_sow(sow=obj, actor=self.membership.user, **fields)

    @extend_schema(
        request=ServiceLineInput,
        responses={201: ServiceLineSerializer},
        examples=[OpenApiExample("Per learner, graduated", value=SERVICE_LINE_EXAMPLE, request_only=True)],
    )
    @action(detail=True, methods=["post"], url_path="service-lines")
    def service_lines(self, request: Request, pk: str) -> Response:
        """Add a priced line to the SoW's draft version (a signed version changes only by change request)."""
        if not self.membership.has_permission(self.write_permission):
            raise exceptions.PermissionDenied()
        sow = self.get_object()
        item = ServiceLineInput(data=request.data)
        item.is_valid(raise_exception=True)
        fields = dict(item.validated_data)
        bands = [(band["up_to"], band["rate"]) for band in fields.pop("bands", [])]
        draft = selectors.draft_version(sow)
        if draft is None:
            raise exceptions.ValidationError(
                {
                    "non_field_errors": [
                        _("This SoW has no draft version: a signed SoW changes through a change request.")
                    ]
                }
            )
        line = services.add_service_line(version=draft, actor=self.membership.user, bands=bands, **fields)
        return Response(ServiceLineSerializer(line).data, status=201)

    def _draft(self) -> SowVersion:
        """The SoW's draft version, for a contract manager; 400 when the SoW is signed (change requests amend it)."""
        if not self.membership.has_permission(self.write_permission):
            raise exceptions.PermissionDenied()
        draft = selectors.draft_version(self.get_object())
        if draft is None:
            raise exceptions.ValidationError(
                {
                    "non_field_errors": [
                        _("This SoW has no draft version: a signed SoW changes through a change request.")
                    ]
                }
            )
        return draft

    @extend_schema(
        request=ScopeItemInput,
        responses={201: ScopeItemSerializer},
        examples=[
            OpenApiExample(
                "Scheduling included", value={"service": "scheduling", "responsibility": "included"}, request_only=True
            )
        ],
    )
    @action(detail=True, methods=["post"], url_path="scope-items")
    def scope_items(self, request: Request, pk: str) -> Response:
        """Add or change one row of the draft's scope matrix (one row per service), as the SoW page does."""
        draft = self._draft()
        item = ScopeItemInput(data=request.data)
        item.is_valid(raise_exception=True)
        saved = services.set_scope_item(version=draft, actor=self.membership.user, **item.validated_data)
        return Response(ScopeItemSerializer(saved).data, status=201)

    @extend_schema(
        request={"application/json": {"type": "object", "description": "No fields: send {} or nothing."}},
        responses={200: VersionSerializer},
        examples=[OpenApiExample("Sign", value={}, request_only=True)],
    )
    @action(detail=True, methods=["post"])
    def sign(self, request: Request, pk: str) -> Response:
        """Sign the SoW's first version (its scope and itemized pricing complete); later versions are signed by
        approving their change request. What is missing comes back as a 400."""
        version = services.sign_version(version=self._draft(), actor=self.membership.user)
        return Response(VersionSerializer(version).data)


class ChangeRequestSerializer(ReadSerializer):
    class Meta:
        model = ChangeRequest
        exclude = ("organization",)


class ChangeRequestFilter(TenantFilterSet):
    engagement = IdFilter(field_name="sow__engagement")
    sow = IdFilter()
    status = filters.ChoiceFilter(choices=ChangeRequestStatus.choices)


class ChangeRequestViewSet(ReadOnlyResource):
    serializer_class = ChangeRequestSerializer
    filterset_class = ChangeRequestFilter
    ordering_fields = ("id", "created_at", "respond_by")

    def visible(self, membership: Membership) -> QuerySet[ChangeRequest]:
        return change_requests_for(membership)


# --- Outcome measurements ----------------------------------------------------------------------------------


class OutcomeMeasurementSerializer(ReadSerializer):
    month = MonthField(read_only=True)

    class Meta:
        model = OutcomeMeasurement
        exclude = ("organization",)


@extend_schema_field(OpenApiTypes.INT)
class VisibleServiceLine(serializers.PrimaryKeyRelatedField):
    """A service line of a SoW the caller sees: another provider's or organization's line is "not found"."""

    def get_queryset(self) -> QuerySet[ServiceLine]:
        membership = caller_of(self.context["request"]).membership
        return ServiceLine.objects.filter(version__sow__in=sows_for(membership)).select_related("version__sow")


class OutcomeInput(serializers.Serializer):
    service_line = VisibleServiceLine(help_text="The id of a gain-share line of the SoW version in force that month.")
    month = MonthField(help_text="The measured month, YYYY-MM.")
    value = serializers.DecimalField(
        max_digits=12, decimal_places=2, help_text="The outcome metric's value, in the unit of the line's baseline."
    )
    evidence = serializers.CharField(
        max_length=2000, help_text="Where the value comes from: the report, query or link the other side checks."
    )


class RejectInput(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, help_text="Why the value does not hold; the submitter sees it.")


class OutcomeFilter(TenantFilterSet):
    engagement = IdFilter()
    service_line = IdFilter()
    month = MonthFilter()
    status = filters.ChoiceFilter(choices=OutcomeStatus.choices)


OUTCOME_EXAMPLE = {
    "service_line": 12,
    "month": "2026-09",
    "value": "78.50",
    "evidence": "Q3 first-time-fix rate, service desk report https://reports.example/ftf-2026-09",
}


class OutcomeMeasurementViewSet(ReadOnlyResource):
    """Outcome values of gain-share lines, per month. One side submits a value with its evidence (POST); the other
    side verifies or rejects it. The fee statement charges the gain share on a verified value only."""

    serializer_class = OutcomeMeasurementSerializer
    filterset_class = OutcomeFilter
    ordering_fields = ("id", "month", "submitted_at")

    def visible(self, membership: Membership) -> QuerySet[OutcomeMeasurement]:
        return selectors.outcome_measurements_for(membership)

    @extend_schema(
        summary="Submit a gain-share line's outcome value of a month, with its evidence",
        request=OutcomeInput,
        responses={201: OutcomeMeasurementSerializer},
        examples=[OpenApiExample("A month's outcome", value=OUTCOME_EXAMPLE, request_only=True)],
    )
    def create(self, request: Request) -> Response:
        if selectors.outcome_recording_side(self.membership) is None:
            raise exceptions.PermissionDenied()
        item = OutcomeInput(data=request.data, context=self.get_serializer_context())
        item.is_valid(raise_exception=True)
        measurement = services.submit_outcome_measurement(membership=self.membership, **item.validated_data)
        return Response(self.get_serializer(measurement).data, status=201)

    def _reviewable(self) -> OutcomeMeasurement:
        measurement = self.get_object()
        if not selectors.may_review_outcome(self.membership, measurement):
            raise exceptions.PermissionDenied(_("The other side verifies or rejects a submitted value."))
        return measurement

    @extend_schema(
        summary="Verify a submitted value (the other side): the month's gain share is computed from it",
        request={"application/json": {"type": "object", "description": "No fields: send {} or nothing."}},
        responses={200: OutcomeMeasurementSerializer},
        examples=[OpenApiExample("No body", value={}, request_only=True)],
    )
    @action(detail=True, methods=["post"])
    def verify(self, request: Request, pk: str) -> Response:
        measurement = services.verify_outcome_measurement(measurement=self._reviewable(), membership=self.membership)
        return Response(self.get_serializer(measurement).data)

    @extend_schema(
        summary="Reject a submitted value (the other side), saying why: it never counts",
        request=RejectInput,
        responses={200: OutcomeMeasurementSerializer},
        examples=[
            OpenApiExample("A reason", value={"reason": "The report covers Q2, not September."}, request_only=True)
        ],
    )
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str) -> Response:
        measurement = self._reviewable()
        item = RejectInput(data=request.data)
        item.is_valid(raise_exception=True)
        measurement = services.reject_outcome_measurement(
            measurement=measurement, membership=self.membership, **item.validated_data
        )
        return Response(self.get_serializer(measurement).data)
