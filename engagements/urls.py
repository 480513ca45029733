from django.urls import path

from . import views, views_governance, views_outcomes, views_tools, views_wizard

app_name = "engagements"

urlpatterns = [
    path("engagements/", views.engagement_list, name="list"),
    path("engagements/new/", views_wizard.engagement_create, name="create"),
    path("engagements/<int:pk>/", views.engagement_detail, name="detail"),
    path("engagements/<int:pk>/edit/", views.engagement_edit, name="edit"),
    path("engagements/<int:pk>/save-as-template/", views_wizard.save_as_template, name="save_as_template"),
    path("engagements/<int:pk>/sows/new/", views.sow_create, name="sow_create"),
    path("sow-versions/<int:pk>/", views.version_detail, name="version"),
    path("sow-versions/<int:pk>/diff/<int:other_pk>/", views.version_diff, name="version_diff"),
    path("sow-versions/<int:pk>/terms/", views.version_terms, name="version_terms"),
    path("sow-versions/<int:pk>/scope/", views.scope_item_save, name="scope_item_save"),
    path("sow-versions/<int:pk>/lines/", views.service_line_add, name="service_line_add"),
    path("sow-versions/<int:pk>/sign/", views.version_sign, name="version_sign"),
    path("sow-rows/<str:kind>/<int:pk>/remove/", views.version_row_remove, name="row_remove"),
    path("sows/<int:pk>/change-requests/new/", views.change_request_create, name="change_request_create"),
    path("change-requests/<int:pk>/", views.change_request_detail, name="change_request"),
    path("change-requests/<int:pk>/<str:action>/", views.change_request_action, name="change_request_action"),
    path("engagements/<int:pk>/meetings/new/", views_governance.meeting_create, name="meeting_create"),
    path("meetings/<int:pk>/", views_governance.meeting_detail, name="meeting"),
    path("meetings/<int:pk>/minutes/", views_governance.meeting_minutes, name="meeting_minutes"),
    path("meetings/<int:pk>/actions/", views_governance.meeting_action_add, name="meeting_action_add"),
    path("meeting-actions/<int:pk>/done/", views_governance.meeting_action_done, name="meeting_action_done"),
    path("disputes/", views_governance.dispute_list, name="disputes"),
    path("engagements/<int:pk>/disputes/new/", views_governance.dispute_create, name="dispute_create"),
    path("disputes/<int:pk>/", views_governance.dispute_detail, name="dispute"),
    path("disputes/<int:pk>/escalate/", views_governance.dispute_escalate, name="dispute_escalate"),
    path("disputes/<int:pk>/close/", views_governance.dispute_close, name="dispute_close"),
    path("engagements/<int:pk>/outcomes/", views_outcomes.outcome_list, name="outcomes"),
    path("engagements/<int:pk>/outcomes/new/", views_outcomes.outcome_create, name="outcome_create"),
    path("outcomes/<int:pk>/verify/", views_outcomes.outcome_verify, name="outcome_verify"),
    path("outcomes/<int:pk>/reject/", views_outcomes.outcome_reject, name="outcome_reject"),
    path("contract-review/", views_tools.contract_review, name="contract_review"),
    path("index-series/", views_tools.index_series_list, name="index_series"),
    path("index-series/<int:pk>/", views_tools.index_series_detail, name="index_series_detail"),
]
