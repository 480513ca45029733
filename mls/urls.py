from django.contrib import admin
from django.urls import include, path

from . import views

organization_patterns = [
    path("", include("reporting.urls")),
    path("", include("mls.urls_organization")),
    path("", include("engagements.urls")),
    path("", include("scheduling.urls")),
    path("", include("vendors.urls")),
    path("", include("slas.urls")),
    path("", include("certificates.urls")),
    path("", include("communications.urls")),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("organizations/", views.organization_list, name="organization_list"),
    path("organizations/new/", views.organization_create, name="organization_create"),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path("verify/", include("certificates.urls_public")),
    path("survey/", include("surveys.urls")),
    path("o/<slug:organization_slug>/", include(organization_patterns)),
    path("learn/", include("portal.urls")),
    path("api/v1/", include("mls.api_urls")),
    path("admin/", admin.site.urls),
]
