"""API resources of the delivery domain. Importable ones upsert through the CSV import's checks
(`imports.import_records`): an API item has exactly the columns of that import's CSV, so a rule holds for both."""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import exceptions, serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from engagements.enums import Side
from engagements.selectors import engagements_for
from mls.api import (
    MAX_BULK_ITEMS,
    Conflict,
    IdFilter,
    ReadOnlyResource,
    ReadSerializer,
    TenantFilterSet,
    UpsertOutcome,
    UpsertResource,
    YesNoFilter,
    date_range,
    moment_range,
    write_each_or_none,
)
from mls.api_auth import caller_of
from mls.enums import Permission
from mls.models import Membership

from . import imports, services, xapi
from .enums import (
    TICKET_TRANSITIONS,
    DeliveryLanguage,
    EnrollmentStatus,
    Modality,
    SessionStatus,
    TicketCategory,
    TicketStatus,
)
from .models import (
    AssessmentAttempt,
    Attendance,
    Completion,
    ComplianceAssignment,
    Course,
    Enrollment,
    Feedback,
    Learner,
    Outage,
    Session,
    SupportTicket,
    TicketReply,
    Venue,
)
from .selectors import completions_for, enrollments_for, tickets_for

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
        "written": serializers.BooleanField(required=False),
        "non_field_errors": serializers.ListField(
            child=serializers.CharField(), required=False, help_text="The request as a whole (not an array, too long)."
        ),
        "errors": inline_serializer(
            "BulkItemError",
            {
                "index": serializers.IntegerField(help_text="Position of the item in the array, from 0."),
                "errors": serializers.DictField(child=serializers.ListField(child=serializers.CharField())),
            },
            many=True,
            required=False,
        ),
    },
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

    @property
    def write_permission(self) -> str:
        """The import's own rule: the same Permission its CSV asks for."""
        return imports.SHEETS[self.import_kind].permission

    def upsert(self, items: list[dict], membership: Membership) -> UpsertOutcome:
        return imports.import_records(
            kind=self.import_kind, organization=membership.organization, records=items, membership=membership
        )

    def written(self, outcome: imports.ImportResult, item: dict) -> models.Model:
        return outcome.rows[0]  # the import's own instance, as it saved it: no need to read it back


# --- Importable resources ----------------------------------------------------------------------------------


class LearnerSerializer(ReadSerializer):
    class Meta:
        model = Learner
        exclude = ("organization",)


class LearnerFilter(TenantFilterSet):
    external_id = filters.CharFilter()
    email = filters.CharFilter(lookup_expr="iexact")
    business_unit = filters.CharFilter()
    region = filters.CharFilter()


@upsert_schema("learners", LearnerSerializer)
class LearnerViewSet(ImportableResource):
    """The client's learners; every role sees them."""

    serializer_class = LearnerSerializer
    filterset_class = LearnerFilter
    ordering_fields = ("id", "name", "updated_at")
    import_kind = "learners"

    def visible(self, membership: Membership) -> QuerySet[Learner]:
        return Learner.objects.all()


class SessionSerializer(ReadSerializer):
    class Meta:
        model = Session
        exclude = ("organization",)


class SessionFilter(TenantFilterSet):
    external_id = filters.CharFilter()
    engagement = IdFilter()
    course = IdFilter()
    status = filters.ChoiceFilter(choices=SessionStatus.choices)
    language = filters.ChoiceFilter(choices=DeliveryLanguage.choices)
    starts_after, starts_before = moment_range("starts_at")


@upsert_schema("sessions", SessionSerializer)
class SessionViewSet(ImportableResource):
    """Sessions of the engagements the caller sees (a provider's token: its provider's only)."""

    serializer_class = SessionSerializer
    filterset_class = SessionFilter
    ordering_fields = ("id", "starts_at", "updated_at")
    import_kind = "sessions"

    def visible(self, membership: Membership) -> QuerySet[Session]:
        return Session.objects.filter(engagement__in=engagements_for(membership))


class EnrollmentSerializer(ReadSerializer):
    class Meta:
        model = Enrollment
        exclude = ("organization",)


class EnrollmentFilter(TenantFilterSet):
    external_id = filters.CharFilter()
    engagement = IdFilter(field_name="session__engagement")
    session = IdFilter()
    learner = IdFilter()
    status = filters.ChoiceFilter(choices=EnrollmentStatus.choices)
    requested_after, requested_before = moment_range("requested_at")


@upsert_schema("enrollments", EnrollmentSerializer)
class EnrollmentViewSet(ImportableResource):
    serializer_class = EnrollmentSerializer
    filterset_class = EnrollmentFilter
    ordering_fields = ("id", "requested_at", "updated_at")
    import_kind = "enrollments"

    def visible(self, membership: Membership) -> QuerySet[Enrollment]:
        return enrollments_for(membership)


class CompletionSerializer(ReadSerializer):
    class Meta:
        model = Completion
        exclude = ("organization",)


class CompletionFilter(TenantFilterSet):
    external_id = filters.CharFilter()
    learner = IdFilter()
    course = IdFilter()
    session = IdFilter()
    completed_after, completed_before = moment_range("completed_at")


@upsert_schema("completions", CompletionSerializer)
class CompletionViewSet(ImportableResource):
    """Completions as the web export shows them: every completion for client roles, a provider's token those of
    its engagements (self-paced ones of the courses they deliver included)."""

    serializer_class = CompletionSerializer
    filterset_class = CompletionFilter
    ordering_fields = ("id", "completed_at", "updated_at")
    import_kind = "completions"

    def visible(self, membership: Membership) -> QuerySet[Completion]:
        return completions_for(membership)


class TicketSerializer(ReadSerializer):
    class Meta:
        model = SupportTicket
        exclude = ("organization",)


class TicketFilter(TenantFilterSet):
    external_id = filters.CharFilter()
    engagement = IdFilter()
    learner = IdFilter()
    category = filters.ChoiceFilter(choices=TicketCategory.choices)
    status = filters.ChoiceFilter(choices=TicketStatus.choices)
    assignee = IdFilter()
    opened_after, opened_before = moment_range("opened_at")
    resolved = YesNoFilter(field_name="resolved_at", lookup_expr="isnull", exclude=True)


class TicketStatusInput(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=[(status, TicketStatus(status).label) for status in TICKET_TRANSITIONS],
        help_text="resolved (the provider; needs a first response), closed (a resolved ticket), or "
        "waiting_on_provider (reopen a resolved ticket).",
    )


@extend_schema_field(OpenApiTypes.INT)
class AnsweringMember(serializers.PrimaryKeyRelatedField):
    """A membership of the caller's organization (the service checks it may answer the ticket)."""

    def get_queryset(self) -> QuerySet[Membership]:
        return Membership.objects.all()


class TicketAssigneeInput(serializers.Serializer):
    assignee = AnsweringMember(
        allow_null=True,
        help_text="The id of a membership that answers tickets (client side, or the ticket's "
        "provider's manager); null for nobody.",
    )


@upsert_schema("tickets", TicketSerializer)
class TicketViewSet(ImportableResource):
    """Support tickets. Upserts load history (times recorded elsewhere); the conversation is `ticket-replies`,
    and `status/` and `assign/` change whose turn it is and who has it, as the ticket page does."""

    serializer_class = TicketSerializer
    filterset_class = TicketFilter
    ordering_fields = ("id", "opened_at", "updated_at")
    import_kind = "tickets"

    @property
    def write_permission(self) -> str:
        if self.action in {"status", "assign"}:
            return Permission.ANSWER_TICKETS
        return super().write_permission

    def visible(self, membership: Membership) -> QuerySet[SupportTicket]:
        return SupportTicket.objects.filter(engagement__in=engagements_for(membership))

    @extend_schema(
        summary="Resolve, close or reopen a ticket",
        request=TicketStatusInput,
        responses={200: TicketSerializer},
        examples=[OpenApiExample("Resolve", value={"status": "resolved"}, request_only=True)],
    )
    @action(detail=True, methods=["post"])
    def status(self, request: Request, pk: str) -> Response:
        ticket = self.get_object()
        item = TicketStatusInput(data=request.data)
        item.is_valid(raise_exception=True)
        ticket = services.set_ticket_status(ticket=ticket, membership=self.membership, **item.validated_data)
        return Response(self.get_serializer(ticket).data)

    @extend_schema(
        summary="Assign a ticket to a member of either side, or to nobody",
        request=TicketAssigneeInput,
        responses={200: TicketSerializer},
        examples=[OpenApiExample("Assign", value={"assignee": 7}, request_only=True)],
    )
    @action(detail=True, methods=["post"])
    def assign(self, request: Request, pk: str) -> Response:
        ticket = self.get_object()
        item = TicketAssigneeInput(data=request.data, context=self.get_serializer_context())
        item.is_valid(raise_exception=True)
        ticket = services.assign_ticket(ticket=ticket, membership=self.membership, **item.validated_data)
        return Response(self.get_serializer(ticket).data)


class TicketReplySerializer(ReadSerializer):
    author_name = serializers.SerializerMethodField(help_text="The author's name (or email); blank once removed.")

    class Meta:
        model = TicketReply
        exclude = ("organization",)

    def get_author_name(self, reply: TicketReply) -> str:
        return (reply.author.get_full_name() or reply.author.email) if reply.author else ""


@extend_schema_field(OpenApiTypes.INT)
class VisibleTicket(serializers.PrimaryKeyRelatedField):
    """A ticket the caller sees: another provider's or organization's ticket is "not found"."""

    def get_queryset(self) -> QuerySet[SupportTicket]:
        return tickets_for(caller_of(self.context["request"]).membership)


class TicketReplyInput(serializers.Serializer):
    ticket = VisibleTicket(help_text="The id of the ticket answered.")
    body = serializers.CharField(max_length=5000, help_text="The message; the other side is notified.")


class TicketReplyFilter(TenantFilterSet):
    ticket = IdFilter()
    side = filters.ChoiceFilter(choices=Side.choices)
    created_after, created_before = moment_range("created_at")


class TicketReplyViewSet(ReadOnlyResource):
    """The conversations of support tickets, oldest first. A reply is posted now (its time is the server's): the
    first provider reply is the ticket's first response for the support SLA."""

    serializer_class = TicketReplySerializer
    filterset_class = TicketReplyFilter
    ordering = ("created_at", "id")
    ordering_fields = ("id", "created_at")
    write_permission = Permission.ANSWER_TICKETS

    def visible(self, membership: Membership) -> QuerySet[TicketReply]:
        return TicketReply.objects.filter(ticket__in=tickets_for(membership)).select_related("author")

    @extend_schema(
        summary="Reply to a ticket",
        request=TicketReplyInput,
        responses={201: TicketReplySerializer},
        examples=[
            OpenApiExample(
                "A reply",
                value={"ticket": 41, "body": "The joining link is now in your calendar invite."},
                request_only=True,
            )
        ],
    )
    def create(self, request: Request) -> Response:
        item = TicketReplyInput(data=request.data, context=self.get_serializer_context())
        item.is_valid(raise_exception=True)
        reply = services.post_reply(membership=self.membership, **item.validated_data)
        return Response(self.get_serializer(reply).data, status=201)


class AttemptSerializer(ReadSerializer):
    class Meta:
        model = AssessmentAttempt
        exclude = ("organization",)


class AttemptFilter(TenantFilterSet):
    external_id = filters.CharFilter()
    learner = IdFilter()
    course = IdFilter()
    passed = YesNoFilter()
    attempted_after, attempted_before = moment_range("attempted_at")


@upsert_schema("assessment-attempts", AttemptSerializer)
class AssessmentAttemptViewSet(ImportableResource):
    """Assessment attempts; every role sees them, as it sees learners and courses: an attempt belongs to a learner
    and a course, not to an engagement. Written by the provider (LOG_DELIVERY) for the courses it delivers."""

    serializer_class = AttemptSerializer
    filterset_class = AttemptFilter
    ordering_fields = ("id", "attempted_at", "updated_at")
    import_kind = "assessment-attempts"

    def visible(self, membership: Membership) -> QuerySet[AssessmentAttempt]:
        return AssessmentAttempt.objects.all()


class FeedbackSerializer(ReadSerializer):
    class Meta:
        model = Feedback
        exclude = ("organization",)


class FeedbackFilter(TenantFilterSet):
    external_id = filters.CharFilter()
    engagement = IdFilter(field_name="session__engagement")
    session = IdFilter()
    submitted_after, submitted_before = moment_range("submitted_at")


@upsert_schema("feedback", FeedbackSerializer)
class FeedbackViewSet(ImportableResource):
    """Learners' feedback on the sessions they attended, logged by the session's provider (LOG_DELIVERY)."""

    serializer_class = FeedbackSerializer
    filterset_class = FeedbackFilter
    ordering_fields = ("id", "submitted_at", "updated_at")
    import_kind = "feedback"

    def visible(self, membership: Membership) -> QuerySet[Feedback]:
        return Feedback.objects.filter(session__engagement__in=engagements_for(membership))


class AssignmentSerializer(ReadSerializer):
    class Meta:
        model = ComplianceAssignment
        exclude = ("organization",)


class AssignmentFilter(TenantFilterSet):
    external_id = filters.CharFilter()
    requirement = IdFilter()
    learner = IdFilter()
    completed = YesNoFilter(field_name="completed_at", lookup_expr="isnull", exclude=True)
    due_after, due_before = date_range("due_on")


@upsert_schema("compliance-assignments", AssignmentSerializer)
class ComplianceAssignmentViewSet(ImportableResource):
    """Compliance assignments; every role sees them, as on the web's compliance pages: a requirement is the
    client's, across engagements. Assigned and completed by ASSIGN_COMPLIANCE holders (the provider's account
    manager included, as on the web)."""

    serializer_class = AssignmentSerializer
    filterset_class = AssignmentFilter
    ordering_fields = ("id", "due_on", "updated_at")
    import_kind = "compliance-assignments"

    def visible(self, membership: Membership) -> QuerySet[ComplianceAssignment]:
        return ComplianceAssignment.objects.all()


class CourseSerializer(ReadSerializer):
    class Meta:
        model = Course
        exclude = ("organization",)


class CourseFilter(TenantFilterSet):
    external_id = filters.CharFilter()
    code = filters.CharFilter()
    modality = filters.ChoiceFilter(choices=Modality.choices)
    language = filters.ChoiceFilter(choices=DeliveryLanguage.choices)
    regulated = YesNoFilter()


@upsert_schema("courses", CourseSerializer)
class CourseViewSet(ImportableResource):
    """The client's course catalogue; every role reads it, course keepers (MANAGE_COURSES) write it."""

    serializer_class = CourseSerializer
    filterset_class = CourseFilter
    ordering_fields = ("id", "code", "updated_at")
    import_kind = "courses"

    def visible(self, membership: Membership) -> QuerySet[Course]:
        return Course.objects.all()


class OutageSerializer(ReadSerializer):
    class Meta:
        model = Outage
        exclude = ("organization",)


class OutageFilter(TenantFilterSet):
    external_id = filters.CharFilter()
    engagement = IdFilter()
    planned = YesNoFilter()
    starts_after, starts_before = moment_range("starts_at")


@upsert_schema("outages", OutageSerializer)
class OutageViewSet(ImportableResource):
    """Platform outages of the engagements the caller sees; the provider logs them (a provider's token: its
    own engagements only)."""

    serializer_class = OutageSerializer
    filterset_class = OutageFilter
    ordering_fields = ("id", "starts_at", "updated_at")
    import_kind = "outages"

    def visible(self, membership: Membership) -> QuerySet[Outage]:
        return Outage.objects.filter(engagement__in=engagements_for(membership))


class AttendanceSerializer(ReadSerializer):
    class Meta:
        model = Attendance
        exclude = ("organization",)


class AttendanceItem(serializers.Serializer):
    """Attendance has no external_id: it is upserted by its enrollment (one attendance per enrollment)."""

    enrollment = serializers.IntegerField(help_text="The enrollment's MLS id (see /enrollments/).")
    present = serializers.BooleanField()


class AttendanceFilter(TenantFilterSet):
    engagement = IdFilter(field_name="enrollment__session__engagement")
    session = IdFilter(field_name="enrollment__session")
    enrollment = IdFilter()
    present = YesNoFilter()


ATTENDANCE_EXAMPLE = {"enrollment": 1234, "present": True}


@extend_schema_view(
    create=extend_schema(
        summary="Record or correct one learner's attendance (upsert by enrollment)",
        request=AttendanceItem,
        responses={201: AttendanceSerializer, 200: AttendanceSerializer},
        examples=[OpenApiExample("Present", value=ATTENDANCE_EXAMPLE, request_only=True)],
    ),
    bulk=extend_schema(
        summary=f"Record up to {MAX_BULK_ITEMS:,} attendances, all or nothing (upsert by enrollment)",
        request=AttendanceItem(many=True),
        responses={200: BULK_RESULT, 400: BULK_ERRORS},
        examples=[OpenApiExample("Register", value=[ATTENDANCE_EXAMPLE], request_only=True)],
    ),
)
class AttendanceViewSet(UpsertResource):
    """Attendance of the sessions the caller sees, through the register's own rules (services)."""

    serializer_class = AttendanceSerializer
    filterset_class = AttendanceFilter
    ordering_fields = ("id", "recorded_at", "updated_at")
    key_field = "enrollment"
    write_permission = Permission.LOG_DELIVERY

    def visible(self, membership: Membership) -> QuerySet[Attendance]:
        return Attendance.objects.filter(enrollment__session__engagement__in=engagements_for(membership))

    def upsert(self, items: list[dict], membership: Membership) -> UpsertOutcome:
        enrollments = Enrollment.objects.filter(session__engagement__in=engagements_for(membership))

        def write(item: dict) -> bool:
            parsed = AttendanceItem(data=item)
            if not parsed.is_valid():
                raise ValidationError(parsed.errors)
            enrollment = enrollments.filter(pk=parsed.validated_data["enrollment"]).first()
            if enrollment is None:
                raise ValidationError({"enrollment": _("No such enrollment.")})
            _attendance, created = services.record_enrollment_attendance(
                enrollment=enrollment, membership=membership, present=parsed.validated_data["present"]
            )
            return created

        return write_each_or_none(items, write)


# --- Read-only resources -------------------------------------------------------------------------------------


class VenueSerializer(ReadSerializer):
    class Meta:
        model = Venue
        exclude = ("organization",)


class VenueViewSet(ReadOnlyResource):
    serializer_class = VenueSerializer
    ordering_fields = ("id", "name")

    def visible(self, membership: Membership) -> QuerySet[Venue]:
        return Venue.objects.all()


# --- xAPI statements ----------------------------------------------------------------------------------------

XAPI_EXAMPLE = {
    "actor": {"objectType": "Agent", "name": "Ada Lovelace", "mbox": "mailto:ada@example.com"},
    "verb": {"id": "http://adlnet.gov/expapi/verbs/passed", "display": {"en-US": "passed"}},
    "object": {"objectType": "Activity", "id": "https://lms.example.com/courses/C001"},
    "result": {"score": {"scaled": 0.85}, "success": True},
    "timestamp": "2026-03-02T12:00:00Z",
}


class XapiStatementsView(APIView):
    """xAPI 1.0.3 statements from an LMS or LRS (one, or an array): `completed` records a completion, `passed` /
    `failed` an assessment attempt, `attended` attendance. The actor is a learner by `mbox` or `account.name` (its
    external_id); the object id is a course's external_id or an IRI ending in the course code. All or nothing;
    answers the statement ids, like an LRS. Completions, attempts and attendance are the provider's delivery log:
    LOG_DELIVERY, as on the web."""

    write_permission = Permission.LOG_DELIVERY

    @extend_schema(
        operation_id="xapi_statements_create",
        request={"application/json": {"oneOf": [{"type": "object"}, {"type": "array", "items": {"type": "object"}}]}},
        parameters=[
            OpenApiParameter(
                "X-Experience-API-Version",
                str,
                OpenApiParameter.HEADER,
                required=True,
                description="1.0.3 (1.0.0 to 1.0.3 are accepted).",
            )
        ],
        responses={
            200: OpenApiResponse(serializers.ListSerializer(child=serializers.UUIDField()), description="The ids."),
            400: OpenApiResponse(description="The statement's path and what is wrong with it."),
            409: OpenApiResponse(description="A statement id already stored for another statement."),
        },
        examples=[
            OpenApiExample("Passed, actor by mbox", value=XAPI_EXAMPLE, request_only=True),
            OpenApiExample(
                "Completed, actor by account",
                value={
                    **XAPI_EXAMPLE,
                    "actor": {"account": {"homePage": "https://hris.example.com", "name": "L-1001"}},
                    "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
                    "result": {"completion": True},
                },
                request_only=True,
            ),
        ],
    )
    def post(self, request: Request) -> Response:
        try:
            xapi.check_version(request.headers.get("X-Experience-API-Version"))
            statements = xapi.parse_statements(request.data, received_at=timezone.now())
            ids = xapi.record_statements(statements=statements, membership=caller_of(request).membership)
        except xapi.StatementError as error:
            raise exceptions.ValidationError({error.path: [error.message]}) from None
        except xapi.StatementConflict as error:
            raise Conflict(str(error)) from None
        return Response(ids, headers={"X-Experience-API-Version": "1.0.3"})
