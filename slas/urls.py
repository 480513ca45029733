from django.urls import path

from . import views

app_name = "slas"

urlpatterns = [
    path("slas/", views.sla_list, name="list"),
    path("engagements/<int:pk>/sla/", views.engagement_sla, name="engagement"),
    path("engagements/<int:pk>/sla/schedule/", views.schedule_edit, name="schedule"),
    path("engagements/<int:pk>/sla/targets/new/", views.target_create, name="target_create"),
    path("engagements/<int:pk>/sla/compute/", views.compute, name="compute"),
    path("engagements/<int:pk>/sla/relief/new/", views.relief_create, name="relief_create"),
    path("engagements/<int:pk>/sla/manual/new/", views.manual_create, name="manual_create"),
    path("measurements/<int:pk>/", views.measurement_detail, name="measurement"),
    path("slas/targets/<int:pk>/edit/", views.target_edit, name="target_edit"),
    path("slas/relief/<int:pk>/<str:decision>/", views.relief_decide, name="relief_decide"),
    path("slas/escalations/", views.escalation_list, name="escalations"),
    path("slas/escalations/<int:pk>/respond/", views.escalation_respond, name="escalation_respond"),
    path("slas/escalations/<int:pk>/plan/", views.escalation_plan, name="escalation_plan"),
    path("slas/escalations/<int:pk>/close/", views.escalation_close, name="escalation_close"),
    path("slas/manual/<int:pk>/verify/", views.manual_verify, name="manual_verify"),
    path("slas/manual/<int:pk>/dispute/", views.manual_dispute, name="manual_dispute"),
    path("slas/manual/<int:pk>/evidence/", views.manual_evidence, name="manual_evidence"),
]
