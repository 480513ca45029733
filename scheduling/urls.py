from django.urls import path

from . import views, views_imports, views_records, views_reference

app_name = "scheduling"

urlpatterns = [
    path("sessions/", views.session_list, name="sessions"),
    path("sessions/new/", views.session_create, name="session_create"),
    path("sessions/<int:pk>/", views.session_detail, name="session"),
    path("sessions/<int:pk>/cancel/", views.session_cancel, name="session_cancel"),
    path("sessions/<int:pk>/reschedule/", views.session_reschedule, name="session_reschedule"),
    path("sessions/<int:pk>/enroll/", views.session_enroll, name="session_enroll"),
    path("sessions/<int:pk>/attendance/", views.session_attendance, name="session_attendance"),
    path("sessions/<int:pk>/completions/", views.session_completions, name="session_completions"),
    path("sessions/<int:pk>/calendar.ics", views.session_ics, name="session_ics"),
    path("sessions/<int:pk>/<str:action>/", views.session_action, name="session_action"),
    path("enrollments/<int:pk>/cancel/", views.enrollment_cancel, name="enrollment_cancel"),
    path("learners/<int:pk>/calendar.ics", views.learner_ics, name="learner_ics"),
    path("learners/", views_records.learner_list, name="learners"),
    path("learners/<int:pk>/", views_records.learner_detail, name="learner"),
    path("tickets/", views_records.ticket_list, name="tickets"),
    path("tickets/<int:pk>/", views_records.ticket_detail, name="ticket"),
    path("outages/", views_records.outage_list, name="outages"),
    path("outages/<int:pk>/edit/", views_records.outage_edit, name="outage_edit"),
    path("courses/", views_records.course_list, name="courses"),
    path("courses/<int:pk>/", views_records.course_detail, name="course"),
    path("courses/<int:pk>/edit/", views_records.course_edit, name="course_edit"),
    path("compliance/", views_records.compliance_overview, name="compliance"),
    path("compliance/<int:pk>/", views_records.compliance_report, name="compliance_report"),
    path("compliance/new/", views_reference.requirement_create, name="requirement_create"),
    path("compliance/<int:pk>/edit/", views_reference.requirement_edit, name="requirement_edit"),
    path("venues/", views_reference.venue_list, name="venues"),
    path("venues/new/", views_reference.venue_create, name="venue_create"),
    path("venues/<int:pk>/edit/", views_reference.venue_edit, name="venue_edit"),
    path("venues/<int:pk>/rooms/new/", views_reference.room_create, name="room_create"),
    path("rooms/<int:pk>/edit/", views_reference.room_edit, name="room_edit"),
    path("imports/", views_imports.import_list, name="imports"),
    path("imports/template/<str:kind>/", views_imports.import_template, name="import_template"),
    path("imports/<int:pk>/", views_imports.import_job, name="import_job"),
    path("imports/<int:pk>/start/", views_imports.import_start, name="import_start"),
]
