"""The SLA domain's API resources, mounted under /api/v1/ by mls.api_urls (in the `api` namespace)."""

from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("relief-events", api.ReliefEventViewSet, basename="relief-event")
router.register("sla-schedules", api.SlaScheduleViewSet, basename="sla-schedule")
router.register("sla-targets", api.SlaTargetViewSet, basename="sla-target")
router.register("sla-periods", api.SlaPeriodViewSet, basename="sla-period")
router.register("measurements", api.MeasurementViewSet, basename="measurement")
router.register("credits", api.CreditViewSet, basename="credit")
router.register("escalations", api.EscalationViewSet, basename="escalation")

urlpatterns = router.urls
