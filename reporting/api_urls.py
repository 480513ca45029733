"""The reporting domain's API resources, mounted under /api/v1/ by mls.api_urls (in the `api` namespace)."""

from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("statements", api.StatementViewSet, basename="statement")
router.register("qbrs", api.QbrViewSet, basename="qbr")

urlpatterns = router.urls
