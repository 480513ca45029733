"""API resources of reporting: QBR revisions (the PDF downloads with its SHA-256) and monthly fee statements.

Both are the client's commercial record: a caller without `Permission.VIEW_COMMERCIALS` (a provider's token) sees
none, as on the pages.
"""

from django.db.models import QuerySet
from django.http import FileResponse
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from engagements.selectors import sows_for
from mls.api import MomentFilter, ReadOnlyResource, ReadSerializer, TenantFilterSet, TenantViewSet
from mls.enums import Permission
from mls.models import Membership

from . import statements
from .enums import QbrStatus
from .models import QuarterlyReview
from .qbr import qbrs_for


class QbrSerializer(ReadSerializer):
    class Meta:
        model = QuarterlyReview
        exclude = ("organization", "file", "error")


class QbrFilter(TenantFilterSet):
    engagement = filters.NumberFilter()
    status = filters.ChoiceFilter(choices=QbrStatus.choices)
    quarter = filters.DateFilter(help_text="First day of the quarter, e.g. 2026-07-01.")
    updated_since = MomentFilter(
        field_name="requested_at", lookup_expr="gte", help_text="Revisions requested at or after this moment."
    )


class QbrViewSet(ReadOnlyResource):
    """QBR revisions, newest quarter first; `GET .../<id>/pdf/` downloads a ready one (header X-Content-SHA256)."""

    serializer_class = QbrSerializer
    filterset_class = QbrFilter
    ordering_fields = ("id", "quarter", "revision")

    def visible(self, membership: Membership) -> QuerySet[QuarterlyReview]:
        if not membership.has_permission(Permission.VIEW_COMMERCIALS):
            return QuarterlyReview.objects.none()
        return qbrs_for(membership)

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY, 404: OpenApiResponse()})
    @action(detail=True, methods=["get"])
    def pdf(self, request: Request, pk: str) -> FileResponse:
        review = self.get_object()
        if review.status != QbrStatus.READY:
            raise exceptions.NotFound(_("This revision has no PDF yet."))
        response = FileResponse(review.file.open("rb"), content_type="application/pdf", as_attachment=True)
        response["X-Content-SHA256"] = review.sha256
        return response


class FeeLineSerializer(serializers.Serializer):
    name = serializers.CharField()
    basis = serializers.CharField()
    quantity = serializers.DecimalField(max_digits=14, decimal_places=2)
    detail = serializers.CharField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)


class CreditLineSerializer(serializers.Serializer):
    metric = serializers.CharField()
    period = serializers.DateField(source="period.month")
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)


class StatementSerializer(serializers.Serializer):
    sow = serializers.IntegerField(source="sow.pk")
    month = serializers.DateField(source="period.month")
    currency = serializers.CharField()
    lines = FeeLineSerializer(many=True)
    subtotal = serializers.DecimalField(max_digits=14, decimal_places=2)
    credits = CreditLineSerializer(many=True, help_text="Service credits of the previous finalized month, deducted.")
    earned_back = CreditLineSerializer(many=True, help_text="Credits earned back in the previous month, returned.")
    total = serializers.DecimalField(max_digits=14, decimal_places=2)
    change_order_recommended = serializers.BooleanField()


class StatementViewSet(TenantViewSet):
    """The fee statement of one SoW for one month (SPEC-SLA §6): `GET /statements/?sow=<id>&month=YYYY-MM`."""

    serializer_class = StatementSerializer
    pagination_class = None
    filter_backends = []

    def visible(self, membership: Membership) -> QuerySet:
        if not membership.has_permission(Permission.VIEW_COMMERCIALS):
            return sows_for(membership).none()
        return sows_for(membership)

    @extend_schema(
        parameters=[
            OpenApiParameter("sow", int, required=True, description="The SoW's id."),
            OpenApiParameter("month", str, required=True, description="The month, YYYY-MM."),
        ],
        responses={200: StatementSerializer, 400: OpenApiResponse(description="Field errors."), 404: OpenApiResponse()},
    )
    def list(self, request: Request) -> Response:
        sow_id, month = (
            request.query_params.get("sow", ""),
            statements.parse_month(request.query_params.get("month", "")),
        )
        errors = {}
        if not sow_id.isdigit() or len(sow_id) > 18:
            errors["sow"] = [_("Give the SoW's id.")]
        if month is None:
            errors["month"] = [_("Give the month as YYYY-MM.")]
        if errors:
            raise exceptions.ValidationError(errors)
        sow = self.get_queryset().filter(pk=int(sow_id)).first()
        if sow is None:
            raise exceptions.NotFound()
        return Response(self.get_serializer(statements.fee_statement(sow, month)).data)
