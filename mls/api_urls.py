"""The REST API (DESIGN.md §4), mounted at /api/v1/: every app's resources, the OpenAPI schema and offline docs."""

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny
from rest_framework.routers import SimpleRouter

from . import api_audit, api_webhooks

app_name = "api"

# Each app declares its own resources (DESIGN.md §4), as each declares its own pages for mls.urls; the tenancy
# core's are these.
router = SimpleRouter()
router.register("webhooks", api_webhooks.WebhookEndpointViewSet, basename="webhook")
router.register("webhook-deliveries", api_webhooks.WebhookDeliveryViewSet, basename="webhook-delivery")
router.register("audit-events", api_audit.AuditEventViewSet, basename="audit-event")

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
    path("", include("engagements.api_urls")),
    path("", include("vendors.api_urls")),
    path("", include("scheduling.api_urls")),
    path("", include("slas.api_urls")),
    path("", include("reporting.api_urls")),
    path("", include(router.urls)),
]
