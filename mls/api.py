"""The REST API's shared machinery (DESIGN.md §4): the base every resource goes through (`TenantViewSet`),
cursor pages, filters, upserts, and errors in DRF's `{"field": ["message"]}` shape. Who is calling, and in which
tenant, is mls.api_auth (authentication, the token's read/write scope, throttling).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Protocol

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError, models, transaction
from django.db.models import ProtectedError, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters import rest_framework as filters
from django_filters.fields import IsoDateTimeField
from django_filters.filters import QuerySetRequestMixin
from django_scopes import ScopeError
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import exceptions, mixins, pagination, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.fields import get_error_detail
from rest_framework.filters import OrderingFilter
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .api_auth import OrganizationSessionAuthentication, TokenAuthentication, caller_of
from .models import Membership
from .months import MONTH_PATTERN, parse_month
from .validators import validate_sane_date

MAX_BULK_ITEMS = 1000


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = TokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: object) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token mls_...`, created by an owner under Settings → API tokens.",
        }


class SessionAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = OrganizationSessionAuthentication
    name = "cookieAuth"

    def get_security_definition(self, auto_schema: object) -> dict[str, str]:
        return {"type": "apiKey", "in": "cookie", "name": settings.SESSION_COOKIE_NAME}


# --- Pages, errors, the base viewset ------------------------------------------------------------------------


class CursorPage(pagination.CursorPagination):
    """Stable pages under concurrent writes; `?page_size=` up to 1,000 (anything else is a 400, not ignored)."""

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000
    ordering = ("id",)

    def paginate_queryset(self, queryset: QuerySet, request: Request, view: object = None) -> list | None:
        """DRF checks that a cursor decodes, not that its position is a value of the ordering field: a forged
        `?cursor=` (say `p=2026-01-01` on an id ordering) failed in the query, a 500. It is the invalid cursor's
        404."""
        if self.cursor_query_param not in request.query_params:
            return super().paginate_queryset(queryset, request, view)
        try:
            return super().paginate_queryset(queryset, request, view)
        except (ValueError, DjangoValidationError, DataError) as error:
            raise exceptions.NotFound(self.invalid_cursor_message) from error

    def get_page_size(self, request: Request) -> int:
        asked = request.query_params.get(self.page_size_query_param)
        if asked is None:
            return self.page_size
        if not asked.isdigit() or not 1 <= int(asked) <= self.max_page_size:
            raise exceptions.ValidationError(
                {"page_size": [_("A whole number from 1 to %(max)s.") % {"max": f"{self.max_page_size:,}"}]}
            )
        return int(asked)


class StrictOrdering(OrderingFilter):
    """`?ordering=` names only the resource's ordering fields; an unknown one is a 400, not quietly ignored."""

    def remove_invalid_fields(self, queryset: QuerySet, fields: list[str], view: object, request: Request) -> list:
        valid = super().remove_invalid_fields(queryset, fields, view, request)
        if len(valid) != len(fields):
            names = ", ".join(name for name, _ in self.get_valid_fields(queryset, view, {"request": request}))
            raise exceptions.ValidationError(
                {"ordering": [_("Order by %(names)s, or the same with a leading '-'.") % {"names": names}]}
            )
        return valid


class YesNoField(forms.NullBooleanField):
    """true/false (or 1/0); anything else is an error, where Django's field would read it as "not given"."""

    def to_python(self, value: object) -> bool | None:
        if value in (None, ""):
            return None
        if value in (True, "true", "True", "1"):
            return True
        if value in (False, "false", "False", "0"):
            return False
        raise forms.ValidationError(_("Use true or false."))

    def validate(self, value: object) -> None:
        """to_python has decided."""


class YesNoFilter(filters.BooleanFilter):
    field_class = YesNoField

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("widget", forms.TextInput)  # django-filter's widget would read an unknown value as None
        super().__init__(*args, **kwargs)


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """Service refusals are 400 with field errors; a tenant query outside a scope or a protected row never 500s."""
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=_field_errors(exc))
    elif isinstance(exc, exceptions.ParseError):
        exc = exceptions.ValidationError(detail={"non_field_errors": [str(exc.detail)]})
    elif isinstance(exc, ScopeError):
        exc = exceptions.NotFound()
    elif isinstance(exc, ProtectedError | IntegrityError):
        exc = Conflict()
    return drf_exception_handler(exc, context)


def _field_errors(error: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(error, "error_dict"):
        return {
            ("non_field_errors" if field == "__all__" else field): [str(m) for m in messages]
            for field, messages in get_error_detail(error).items()
        }
    return {"non_field_errors": [str(m) for m in error.messages]}


class Conflict(exceptions.APIException):
    status_code = 409
    default_detail = gettext_lazy(
        "The request conflicts with the current state of the data (e.g. another writer, or rows "
        "that depend on this one)."
    )
    default_code = "conflict"


class UtcMomentField(IsoDateTimeField):
    """A moment with its offset, read as UTC: PostgreSQL refuses offsets Python allows (beyond ±15:59)."""

    def to_python(self, value: object) -> datetime | None:
        if value == "":
            raise forms.ValidationError(_("Give a date and time, e.g. 2026-03-02T09:00:00+00:00."))
        moment = super().to_python(value)
        if moment is None:
            return None
        validate_sane_date(moment)
        return moment.astimezone(UTC)


class MomentFilter(filters.IsoDateTimeFilter):
    field_class = UtcMomentField


class GivenIntegerField(forms.IntegerField):
    """`?engagement=` with no value is an error, not "no filter" (the schema says a whole number)."""

    def to_python(self, value: object) -> int | None:
        if value == "":
            raise forms.ValidationError(_("Give a whole number."))
        return super().to_python(value)


class IdFilter(filters.NumberFilter):
    """An MLS id: a whole number (django-filter's number filter would take 1.5)."""

    field_class = GivenIntegerField


class TenantFilterSet(filters.FilterSet):
    """`?updated_since=` on every resource that records when it changed.

    Filters are declared, never generated from `Meta.fields`: django-filter would query the scoped model while
    building the class, outside any tenant scope.
    """

    updated_since = MomentFilter(
        field_name="updated_at", lookup_expr="gte", help_text="Only rows changed at or after this ISO 8601 moment."
    )

    def get_form_class(self) -> type[forms.Form]:
        """The form of the filters, built once per filter set: django-filter builds a new form class, copying every
        filter's field, for each request. Nothing in it depends on the request (a filter choosing among a
        queryset's rows would, and those are built as usual)."""
        cls = type(self)
        if cls not in _filter_forms:
            form = super().get_form_class()
            if any(isinstance(f, QuerySetRequestMixin) for f in self.filters.values()):
                return form
            _filter_forms[cls] = form
        return _filter_forms[cls]


_filter_forms: dict[type, type[forms.Form]] = {}


def moment_range(field: str) -> tuple[MomentFilter, MomentFilter]:
    """`<field>_after` and `<field>_before` filters (ISO 8601; a moment without offset is in the org's zone)."""
    return (
        MomentFilter(field_name=field, lookup_expr="gte", help_text=f"{field} at or after this moment."),
        MomentFilter(field_name=field, lookup_expr="lt", help_text=f"{field} before this moment."),
    )


def date_range(field: str) -> tuple[filters.DateFilter, filters.DateFilter]:
    return (
        filters.DateFilter(field_name=field, lookup_expr="gte", help_text=f"{field} on or after this date."),
        filters.DateFilter(field_name=field, lookup_expr="lte", help_text=f"{field} on or before this date."),
    )


class ReadSerializer(serializers.ModelSerializer):
    """A resource's representation: output only (writes go through the services, never a serializer's save),
    foreign keys as ids, money and percentages as decimal strings."""

    # Emails and links are plain strings here: a blank one is "" and must still match the schema.
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.EmailField: serializers.CharField,
        models.URLField: serializers.CharField,
    }

    def include_extra_kwargs(self, kwargs: dict, extra_kwargs: dict) -> dict:
        allow_blank = kwargs.get("allow_blank", False)
        kwargs = super().include_extra_kwargs(kwargs, {**extra_kwargs, "read_only": True})
        if allow_blank:  # read_only drops it, but the schema must say "" is a value (a blank choice, say)
            kwargs["allow_blank"] = True
        return kwargs


class TenantPrimaryKey(serializers.PrimaryKeyRelatedField):
    """A writable reference to another row of the caller's organization. Its queryset is built per request, inside
    the tenant scope (a class-level `Model.objects.all()` would be built outside it); a foreign id is "not found"."""

    def __init__(self, *, model: type, **kwargs: object) -> None:
        self.model = model
        super().__init__(**kwargs)

    def get_queryset(self) -> QuerySet:
        return self.model.objects.all()


class TenantViewSet(viewsets.GenericViewSet):
    """The base of every API resource: the caller's rows only (a foreign or hidden row is 404), read by
    `visible(membership)` — usually the same selector the HTML pages use."""

    lookup_value_regex = r"[^/]+"  # any id reaches the view, so a malformed one is a JSON 404 like a missing one
    pagination_class = CursorPage
    filter_backends = (filters.DjangoFilterBackend, StrictOrdering)
    ordering = ("id",)

    def visible(self, membership: Membership) -> QuerySet:
        raise NotImplementedError

    @property
    def membership(self) -> Membership:
        return caller_of(self.request).membership

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):  # the schema generator, outside any tenant: no rows
            return self.get_serializer_class().Meta.model._base_manager.none()
        return self.visible(self.membership)


class ReadOnlyResource(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """A resource integrators read; it is written in MLS itself (contracts, SLA results) or by other endpoints."""


class RowProblem(Protocol):
    row: int
    column: str
    message: str


class UpsertOutcome(Protocol):
    created: int
    updated: int
    unchanged: int
    errors: list[RowProblem]


@dataclass(frozen=True)
class ItemError:
    row: int  # the item's index
    column: str  # its field, "" for the whole item
    message: str


@dataclass
class Written:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[ItemError] = field(default_factory=list)


class _Refused(Exception):
    """Rolls back every item's write when any item was refused."""


def write_each_or_none(items: list[dict], write: Callable[[dict], bool]) -> Written:
    """Write item by item through a service (`write(item)` returns whether it created a row), all or nothing:
    each item runs in a savepoint so the later ones are still checked, and any refusal rolls back all of them."""
    written = Written()
    try:
        with transaction.atomic():
            for index, item in enumerate(items):
                try:
                    with transaction.atomic():
                        created = write(item)
                except DjangoValidationError as error:
                    written.errors += [
                        ItemError(index, "" if name == "non_field_errors" else name, message)
                        for name, messages in _field_errors(error).items()
                        for message in messages
                    ]
                    continue
                written.created += created
                written.updated += not created
            if written.errors:
                raise _Refused
    except _Refused:
        written.created = written.updated = 0
    return written


def item_errors(problems: list[RowProblem]) -> dict[str, list[str]]:
    """One item's problems in DRF's shape; a problem with the whole item is a non-field error."""
    found: dict[str, list[str]] = {}
    for problem in problems:
        found.setdefault(problem.column or "non_field_errors", []).append(problem.message)
    return found


class UpsertResource(ReadOnlyResource):
    """An importable resource: `POST` upserts one item by its key (`external_id`), `POST bulk/` up to
    MAX_BULK_ITEMS, all or nothing. Subclasses say how: `upsert(items, membership)` and `key_of(item)`, and who
    may: `write_permission`, checked (403) before the body is read (`api_auth.CallerPermission`)."""

    key_field = "external_id"
    write_permission: str

    def upsert(self, items: list[dict], membership: Membership) -> UpsertOutcome:
        raise NotImplementedError

    def create(self, request: Request) -> Response:
        if not isinstance(request.data, dict):
            raise exceptions.ValidationError({"non_field_errors": [_("Send one JSON object.")]})
        outcome = self.upsert([request.data], self.membership)
        if outcome.errors:
            raise exceptions.ValidationError(item_errors(outcome.errors))
        written = self.written(outcome, request.data)
        return Response(self.get_serializer(written).data, status=201 if outcome.created else 200)

    def written(self, outcome: UpsertOutcome, item: dict) -> models.Model:
        """The row `item` wrote, read back by its key; a resource whose upsert returns its rows uses those."""
        return self.get_queryset().get(**{self.key_field: self.key_of(item)})

    def key_of(self, item: dict) -> object:
        return str(item.get(self.key_field, "")).strip()

    @action(detail=False, methods=["post"])
    def bulk(self, request: Request) -> Response:
        items = request.data
        refusal = ""
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            refusal = _("Send a JSON array of objects.")
        elif len(items) > MAX_BULK_ITEMS:
            refusal = _("Send at most %(max)s items at a time; split the rest.") % {"max": f"{MAX_BULK_ITEMS:,}"}
        if refusal:
            return Response({"written": False, "non_field_errors": [refusal], "errors": []}, status=400)
        outcome = self.upsert(items, self.membership)
        if outcome.errors:
            by_index: dict[int, list[RowProblem]] = {}
            for problem in outcome.errors:
                by_index.setdefault(problem.row, []).append(problem)
            errors = [{"index": index, "errors": item_errors(problems)} for index, problems in by_index.items()]
            return Response({"written": False, "errors": errors}, status=400)
        counts = {"created": outcome.created, "updated": outcome.updated, "unchanged": outcome.unchanged}
        return Response({"written": True, **counts})


# --- Schema ---------------------------------------------------------------------------------------------------

ERROR_RESPONSES = {
    "401": "No token, or an invalid or revoked one (WWW-Authenticate: Token).",
    "403": "A read token writing, or a role that may not do this.",
    "404": "Missing, another organization's, hidden from a provider's token, or an invalid cursor.",
    "429": "Too many requests for this token; retry after the Retry-After header's seconds.",
}
WRITE_ERROR_RESPONSES = {"409": "Another writer changed the rows meanwhile, or other rows depend on this one."}


def add_error_responses(result: dict, generator: object, request: object, public: bool) -> dict:
    """Every operation documents the errors every operation can give (DESIGN.md §4), with one error shape;
    400 is field errors (`{"field": ["message"]}`) wherever input is read (filters, bodies)."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = {"type": "object", "properties": {"detail": {"type": "string"}}, "required": ["detail"]}
    components["FieldErrors"] = {
        "type": "object",
        "description": "Messages by field; `non_field_errors` for the input as a whole.",
        "additionalProperties": {"type": "array", "items": {"type": "string"}},
    }
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for methods in result["paths"].values():
        for method, operation in methods.items():
            responses = operation.setdefault("responses", {})
            writes = method not in ("get", "head", "options")
            for status, description in {**ERROR_RESPONSES, **(WRITE_ERROR_RESPONSES if writes else {})}.items():
                responses.setdefault(status, {"description": description, "content": error})
            responses.setdefault(
                "400",
                {
                    "description": "Invalid input: field errors, nothing written.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/FieldErrors"}}},
                },
            )
    return result


# --- Months (mls.months: one rule) -------------------------------------------------------------------------

MONTH_SCHEMA = {"type": "string", "pattern": MONTH_PATTERN.pattern, "example": "2026-09"}


class MonthFormField(forms.Field):
    """`YYYY-MM` → its first day; absent is no filter, but given empty or out of range it is an error."""

    def to_python(self, value: object) -> date | None:
        if value is None:
            return None
        try:
            return parse_month(str(value))
        except ValueError as error:
            raise forms.ValidationError(str(error)) from error


@extend_schema_field(MONTH_SCHEMA)
class MonthFilter(filters.Filter):
    """`?month=YYYY-MM`: the rows of that month (`field_name`: the date field holding a month's first day)."""

    field_class = MonthFormField


@extend_schema_field(MONTH_SCHEMA)
class MonthField(serializers.Field):
    """A month as `YYYY-MM` in and out, stored as its first day (how MLS stores months)."""

    def to_internal_value(self, data: object) -> date:
        try:
            return parse_month(data if isinstance(data, str) else repr(data))
        except ValueError as error:
            raise serializers.ValidationError(str(error)) from error

    def to_representation(self, value: date) -> str:
        return f"{value:%Y-%m}"
