"""`ETag` / `If-Match` on contract objects (DESIGN.md §4): two integrators (or an integrator and a person in the web
app) editing the same SoW, schedule or target cannot overwrite each other's change unseen.

A contract resource sends a strong ETag (a digest of its representation) on every read and write. A PATCH must
send `If-Match` with the ETag it read: missing is 428, stale is 412. The check and the write run under a row lock,
so two PATCHes with the same ETag cannot both pass.
"""

import hashlib
import json

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Model
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from .api import ReadOnlyResource

IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description="The ETag of the representation you read (GET). Missing: 428; someone changed it since: 412.",
)


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = gettext_lazy(
        "Someone changed this since you read it: GET it again (new ETag) and reapply your change."
    )
    default_code = "precondition_failed"


class PreconditionRequired(exceptions.APIException):
    status_code = status.HTTP_428_PRECONDITION_REQUIRED
    default_detail = gettext_lazy(
        "Send If-Match with the ETag from your last GET, so you cannot overwrite a change unseen."
    )
    default_code = "precondition_required"


def etag_of(data: object) -> str:
    """A strong validator: equal representations, equal ETags."""
    encoded = json.dumps(data, cls=DjangoJSONEncoder, sort_keys=True, separators=(",", ":")).encode()
    return f'"{hashlib.sha256(encoded).hexdigest()[:32]}"'


def _matches(header: str, current: str) -> bool:
    return any(candidate.strip() in (current, "*") for candidate in header.split(","))


class ContractResource(ReadOnlyResource):
    """A contract object integrators may change with PATCH: `update_serializer_class` validates the fields,
    `apply_changes(obj, fields)` writes them through the service (which validates the whole object and audits), and
    `write_permission` says who may (a provider's token may not)."""

    update_serializer_class: type[serializers.Serializer]
    write_permission: str

    def apply_changes(self, obj: Model, fields: dict) -> Model:
        raise NotImplementedError

    def retrieve(self, request: Request, *args: object, **kwargs: object) -> Response:
        data = self.get_serializer(self.get_object()).data
        current = etag_of(data)
        if _matches(request.headers.get("If-None-Match", ""), current):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": current})
        return Response(data, headers={"ETag": current})

    def partial_update(self, request: Request, *args: object, **kwargs: object) -> Response:
        if not self.membership.has_permission(self.write_permission):
            raise exceptions.PermissionDenied()
        obj = self.get_object()  # a foreign or missing object is 404 before anything else
        if_match = request.headers.get("If-Match")
        if not if_match:
            raise PreconditionRequired()
        fields = self.update_serializer_class(data=request.data, partial=True)
        fields.is_valid(raise_exception=True)
        with transaction.atomic():
            locked = type(obj)._default_manager.select_for_update().get(pk=obj.pk)
            if not _matches(if_match, etag_of(self.get_serializer(locked).data)):
                raise PreconditionFailed()
            written = self.apply_changes(locked, fields.validated_data)
        data = self.get_serializer(written).data
        return Response(data, headers={"ETag": etag_of(data)})


class CreatableContractResource(ContractResource):
    """A contract object integrators also create with POST: `create_serializer_class` validates the fields (the
    update fields unless it names others) and `create_object(fields)` writes through the service; the answer
    carries the ETag a later PATCH sends."""

    create_serializer_class: type[serializers.Serializer] | None = None

    def create_object(self, fields: dict) -> Model:
        raise NotImplementedError

    def create(self, request: Request) -> Response:
        if not self.membership.has_permission(self.write_permission):
            raise exceptions.PermissionDenied()
        fields = (self.create_serializer_class or self.update_serializer_class)(data=request.data)
        fields.is_valid(raise_exception=True)
        data = self.get_serializer(self.create_object(fields.validated_data)).data
        return Response(data, status=status.HTTP_201_CREATED, headers={"ETag": etag_of(data)})


def contract_schema(
    update: type[serializers.Serializer],
    read: type[serializers.Serializer],
    create: type[serializers.Serializer] | None = None,
    create_example: dict | None = None,
) -> object:
    """The OpenAPI of a ContractResource: ETag on reads, If-Match and the update fields on PATCH, and the fields
    of a POST with an example body when the resource is a CreatableContractResource (`create`)."""
    with_etag = "The resource; its ETag header is what a later PATCH sends in If-Match."
    creating = {}
    if create is not None:
        creating["create"] = extend_schema(
            request=create,
            responses={
                201: OpenApiResponse(read, description=with_etag),
                400: OpenApiResponse(description="Field errors."),
            },
            examples=[OpenApiExample("A new one", value=create_example, request_only=True)],
        )
    return extend_schema_view(
        **creating,
        retrieve=extend_schema(responses={200: OpenApiResponse(read, description=with_etag), 304: None}),
        partial_update=extend_schema(
            request=update,
            parameters=[IF_MATCH],
            responses={
                200: OpenApiResponse(read, description=with_etag),
                400: OpenApiResponse(description="Field errors."),
                412: OpenApiResponse(description=PreconditionFailed.default_detail),
                428: OpenApiResponse(description=PreconditionRequired.default_detail),
            },
        ),
    )
