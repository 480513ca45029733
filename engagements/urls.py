from django.urls import path

from . import views

app_name = "engagements"

urlpatterns = [
    path("engagements/", views.engagement_list, name="list"),
    path("engagements/new/", views.engagement_create, name="create"),
    path("engagements/<int:pk>/", views.engagement_detail, name="detail"),
    path("engagements/<int:pk>/edit/", views.engagement_edit, name="edit"),
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
]
