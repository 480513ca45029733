from django.urls import path

from . import views

app_name = "reporting"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("engagements/<int:pk>/dashboard/", views.engagement_dashboard, name="engagement"),
]
