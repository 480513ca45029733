"""The vendors domain's API resources, mounted under /api/v1/ by mls.api_urls (in the `api` namespace)."""

from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("providers", api.ProviderViewSet, basename="provider")
router.register("suppliers", api.SupplierViewSet, basename="supplier")
router.register("instructors", api.InstructorViewSet, basename="instructor")

urlpatterns = router.urls
