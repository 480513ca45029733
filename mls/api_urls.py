"""The REST API's one router (DESIGN.md §4), mounted at /api/v1/, with its OpenAPI schema and offline docs."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny
from rest_framework.routers import SimpleRouter

from scheduling import api as scheduling_api

app_name = "api"

router = SimpleRouter()
router.register("learners", scheduling_api.LearnerViewSet, basename="learner")

urlpatterns = [
    path(
        "schema/", SpectacularAPIView.as_view(permission_classes=[AllowAny], authentication_classes=[]), name="schema"
    ),
    path(
        "docs/",
        SpectacularSwaggerView.as_view(url_name="api:schema", permission_classes=[AllowAny], authentication_classes=[]),
        name="docs",
    ),
    path(
        "redoc/",
        SpectacularRedocView.as_view(url_name="api:schema", permission_classes=[AllowAny], authentication_classes=[]),
        name="redoc",
    ),
    path("", include(router.urls)),
]
