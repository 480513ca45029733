"""Organization-level pages of the tenancy core, mounted under /o/<organization_slug>/."""

from django.urls import path

from . import views

app_name = "org"

urlpatterns = [
    path("settings/members/", views.members, name="members"),
    path("settings/members/<int:pk>/", views.member_edit, name="member_edit"),
    path("settings/members/<int:pk>/remove/", views.member_remove, name="member_remove"),
    path("settings/invitations/<int:pk>/revoke/", views.invitation_revoke, name="invitation_revoke"),
    path("settings/api-tokens/", views.api_tokens, name="api_tokens"),
    path("settings/api-tokens/<int:pk>/revoke/", views.api_token_revoke, name="api_token_revoke"),
    path("audit/", views.audit_log, name="audit_log"),
    path("notifications/", views.notifications, name="notifications"),
]
