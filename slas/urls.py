from django.urls import path

from . import views

app_name = "slas"

urlpatterns = [
    path("engagements/<int:pk>/sla/", views.engagement_sla, name="engagement"),
]
