"""The public verification page (no sign-in), mounted at /verify/."""

from django.urls import path

from . import views

app_name = "verification"

urlpatterns = [
    path("<str:code>/", views.verify, name="certificate"),
]
