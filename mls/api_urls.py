"""The REST API's one router (DESIGN.md §4), mounted at /api/v1/, with its OpenAPI schema and offline docs."""

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny
from rest_framework.routers import SimpleRouter

from engagements import api as engagements_api
from reporting import api as reporting_api
from scheduling import api as scheduling_api
from slas import api as slas_api
from vendors import api as vendors_api

from . import api_audit, api_webhooks

app_name = "api"

router = SimpleRouter()
# DESIGN.md §4's resources, in its order (xapi/statements is a plain view below).
RESOURCES = {
    "engagements": (engagements_api.EngagementViewSet, "engagement"),
    "sows": (engagements_api.SowViewSet, "sow"),
    "change-requests": (engagements_api.ChangeRequestViewSet, "change-request"),
    "providers": (vendors_api.ProviderViewSet, "provider"),
    "suppliers": (vendors_api.SupplierViewSet, "supplier"),
    "instructors": (vendors_api.InstructorViewSet, "instructor"),
    "courses": (scheduling_api.CourseViewSet, "course"),
    "venues": (scheduling_api.VenueViewSet, "venue"),
    "sessions": (scheduling_api.SessionViewSet, "session"),
    "learners": (scheduling_api.LearnerViewSet, "learner"),
    "enrollments": (scheduling_api.EnrollmentViewSet, "enrollment"),
    "attendance": (scheduling_api.AttendanceViewSet, "attendance"),
    "completions": (scheduling_api.CompletionViewSet, "completion"),
    "assessment-attempts": (scheduling_api.AssessmentAttemptViewSet, "assessment-attempt"),
    "feedback": (scheduling_api.FeedbackViewSet, "feedback"),
    "compliance-assignments": (scheduling_api.ComplianceAssignmentViewSet, "compliance-assignment"),
    "tickets": (scheduling_api.TicketViewSet, "ticket"),
    "outages": (scheduling_api.OutageViewSet, "outage"),
    "relief-events": (slas_api.ReliefEventViewSet, "relief-event"),
    "sla-schedules": (slas_api.SlaScheduleViewSet, "sla-schedule"),
    "sla-targets": (slas_api.SlaTargetViewSet, "sla-target"),
    "sla-periods": (slas_api.SlaPeriodViewSet, "sla-period"),
    "measurements": (slas_api.MeasurementViewSet, "measurement"),
    "credits": (slas_api.CreditViewSet, "credit"),
    "escalations": (slas_api.EscalationViewSet, "escalation"),
    "outcome-measurements": (engagements_api.OutcomeMeasurementViewSet, "outcome-measurement"),
    "statements": (reporting_api.StatementViewSet, "statement"),
    "qbrs": (reporting_api.QbrViewSet, "qbr"),
    "webhooks": (api_webhooks.WebhookEndpointViewSet, "webhook"),
    "webhook-deliveries": (api_webhooks.WebhookDeliveryViewSet, "webhook-delivery"),
    "audit-events": (api_audit.AuditEventViewSet, "audit-event"),
}
for prefix, (viewset, basename) in RESOURCES.items():
    router.register(prefix, viewset, basename=basename)

# Swagger UI and Redoc (served from drf-spectacular-sidecar, nonce'd scripts: see templates/drf_spectacular/) set
# style attributes from script and Redoc searches in a blob: worker; only these two pages allow that.
docs_csp = csp_update({"style-src": [UNSAFE_INLINE], "worker-src": ["blob:"]})

urlpatterns = [
    path(
        "schema/", SpectacularAPIView.as_view(permission_classes=[AllowAny], authentication_classes=[]), name="schema"
    ),
    path(
        "docs/",
        docs_csp(
            SpectacularSwaggerView.as_view(
                url_name="api:schema", permission_classes=[AllowAny], authentication_classes=[]
            )
        ),
        name="docs",
    ),
    path(
        "redoc/",
        docs_csp(
            SpectacularRedocView.as_view(
                url_name="api:schema", permission_classes=[AllowAny], authentication_classes=[]
            )
        ),
        name="redoc",
    ),
    path("xapi/statements", scheduling_api.XapiStatementsView.as_view(), name="xapi-statements"),
    path("", include(router.urls)),
]
