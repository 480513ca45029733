"""Organization-level pages of the tenancy core, mounted under /o/<organization_slug>/."""

from django.urls import path

from . import views, views_webhooks

app_name = "org"

urlpatterns = [
    path("settings/", views.organization_settings, name="settings"),
    path("settings/members/", views.members, name="members"),
    path("settings/members/<int:pk>/", views.member_edit, name="member_edit"),
    path("settings/members/<int:pk>/remove/", views.member_remove, name="member_remove"),
    path("settings/invitations/<int:pk>/revoke/", views.invitation_revoke, name="invitation_revoke"),
    path("settings/webhooks/", views_webhooks.webhook_list, name="webhooks"),
    path("settings/webhooks/new/", views_webhooks.webhook_create, name="webhook_create"),
    path("settings/webhooks/<int:pk>/", views_webhooks.webhook_detail, name="webhook"),
    path("settings/webhooks/<int:pk>/edit/", views_webhooks.webhook_edit, name="webhook_edit"),
    path("settings/webhooks/<int:pk>/delete/", views_webhooks.webhook_delete, name="webhook_delete"),
    path("settings/webhooks/<int:pk>/roll-secret/", views_webhooks.webhook_roll_secret, name="webhook_roll_secret"),
    path("settings/webhooks/<int:pk>/ping/", views_webhooks.webhook_ping, name="webhook_ping"),
    path("settings/webhook-deliveries/<int:pk>/redeliver/", views_webhooks.webhook_redeliver, name="webhook_redeliver"),
    path("settings/api-tokens/", views.api_tokens, name="api_tokens"),
    path("settings/api-tokens/<int:pk>/revoke/", views.api_token_revoke, name="api_token_revoke"),
    path("audit/", views.audit_log, name="audit_log"),
    path("notifications/", views.notifications, name="notifications"),
]
