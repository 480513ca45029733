"""Certificate pages of an organization, mounted under /o/<organization_slug>/."""

from django.urls import path

from . import views

app_name = "certificates"

urlpatterns = [
    path("completions/<int:pk>/certificate.pdf", views.download, name="download"),
    path("certificates/<int:pk>/revoke/", views.revoke, name="revoke"),
]
