"""The engagements domain's API resources, mounted under /api/v1/ by mls.api_urls (in the `api` namespace)."""

from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("engagements", api.EngagementViewSet, basename="engagement")
router.register("sows", api.SowViewSet, basename="sow")
router.register("change-requests", api.ChangeRequestViewSet, basename="change-request")
router.register("outcome-measurements", api.OutcomeMeasurementViewSet, basename="outcome-measurement")

urlpatterns = router.urls
