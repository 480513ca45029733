"""The delivery's API resources, mounted under /api/v1/ by mls.api_urls (in the `api` namespace)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("courses", api.CourseViewSet, basename="course")
router.register("venues", api.VenueViewSet, basename="venue")
router.register("sessions", api.SessionViewSet, basename="session")
router.register("learners", api.LearnerViewSet, basename="learner")
router.register("enrollments", api.EnrollmentViewSet, basename="enrollment")
router.register("attendance", api.AttendanceViewSet, basename="attendance")
router.register("completions", api.CompletionViewSet, basename="completion")
router.register("assessment-attempts", api.AssessmentAttemptViewSet, basename="assessment-attempt")
router.register("feedback", api.FeedbackViewSet, basename="feedback")
router.register("compliance-assignments", api.ComplianceAssignmentViewSet, basename="compliance-assignment")
router.register("tickets", api.TicketViewSet, basename="ticket")
router.register("ticket-replies", api.TicketReplyViewSet, basename="ticket-reply")
router.register("outages", api.OutageViewSet, basename="outage")

urlpatterns = [
    path("xapi/statements", api.XapiStatementsView.as_view(), name="xapi-statements"),
    *router.urls,
]
