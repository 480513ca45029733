"""API resources of the delivery domain. Importable ones upsert through the CSV import's checks
(`imports.import_records`): an API item has exactly the columns of that import's CSV, so a rule holds for both."""

from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view, inline_serializer
from rest_framework import serializers

from mls.api import MAX_BULK_ITEMS, TenantFilterSet, UpsertOutcome, UpsertResource
from mls.models import Membership

from . import imports
from .models import Learner

BULK_RESULT = inline_serializer(
    "BulkResult",
    {
        "written": serializers.BooleanField(),
        "created": serializers.IntegerField(),
        "updated": serializers.IntegerField(),
        "unchanged": serializers.IntegerField(),
    },
)
BULK_ERRORS = inline_serializer(
    "BulkErrors",
    {
        "written": serializers.BooleanField(default=False),
        "errors": inline_serializer(
            "BulkItemError",
            {
                "index": serializers.IntegerField(help_text="Position of the item in the array, from 0."),
                "errors": serializers.DictField(child=serializers.ListField(child=serializers.CharField())),
            },
            many=True,
        ),
    },
)
FIELD_ERRORS = inline_serializer(
    "FieldErrors", {"field": serializers.ListField(child=serializers.CharField(), required=False)}
)
MOMENT_HELP = "ISO 8601 with UTC offset, e.g. 2026-03-02T09:00:00+00:00."


def _item_serializer(kind: str) -> type[serializers.Serializer]:
    """The upsert item of `kind`, documented from the import's own columns (the import validates it)."""
    sheet = imports.SHEETS[kind]
    fields = {
        column: serializers.CharField(
            required=column in sheet.required,
            allow_blank=column not in sheet.required,
            help_text=MOMENT_HELP if column.endswith("_at") else "",
        )
        for column in sheet.all_columns
    }
    return type(f"{kind.title().replace('-', '')}Item", (serializers.Serializer,), fields)


def upsert_schema(kind: str, read_serializer: type[serializers.Serializer]) -> object:
    """Schema of POST (one item) and POST bulk/ (an array) for an importable resource, with an example."""
    item = _item_serializer(kind)
    sheet = imports.SHEETS[kind]
    example = dict(zip(sheet.all_columns, sheet.example, strict=True))
    return extend_schema_view(
        create=extend_schema(
            summary=f"Create or update one of the {kind} by external_id",
            request=item,
            responses={
                201: read_serializer,
                200: OpenApiResponse(read_serializer, description="An existing row was updated (or unchanged)."),
                400: OpenApiResponse(FIELD_ERRORS, description="Field errors; nothing was written."),
            },
            examples=[OpenApiExample("Item", value=example, request_only=True)],
        ),
        bulk=extend_schema(
            summary=f"Create or update up to {MAX_BULK_ITEMS:,} {kind}, all or nothing",
            request=item(many=True),
            responses={
                200: BULK_RESULT,
                400: OpenApiResponse(BULK_ERRORS, description="Errors per item (by index); nothing was written."),
            },
            examples=[
                OpenApiExample("Items", value=[example], request_only=True),
                OpenApiExample(
                    "One bad item",
                    value={"written": False, "errors": [{"index": 3, "errors": {"email": ["Enter a valid email."]}}]},
                    response_only=True,
                    status_codes=["400"],
                ),
            ],
        ),
    )


class ImportableResource(UpsertResource):
    import_kind: str

    def upsert(self, items: list[dict], membership: Membership) -> UpsertOutcome:
        return imports.import_records(
            kind=self.import_kind, organization=membership.organization, records=items, membership=membership
        )


# --- Learners ------------------------------------------------------------------------------------------------


class LearnerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Learner
        fields = ("id", "external_id", "name", "email", "business_unit", "manager_email", "region", "updated_at")


class LearnerFilter(TenantFilterSet):
    external_id = filters.CharFilter()
    email = filters.CharFilter(lookup_expr="iexact")
    business_unit = filters.CharFilter()
    region = filters.CharFilter()


@upsert_schema("learners", LearnerSerializer)
class LearnerViewSet(ImportableResource):
    """Learners of the organization (every role sees them: they are the client's people)."""

    serializer_class = LearnerSerializer
    filterset_class = LearnerFilter
    ordering_fields = ("id", "name", "updated_at")
    import_kind = "learners"

    def visible(self, membership: Membership) -> object:
        return Learner.objects.all()
