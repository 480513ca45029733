from django.urls import path

from . import views

app_name = "communications"

urlpatterns = [
    path("messages/learners/<int:pk>/", views.learner_messages, name="learner_messages"),
    path("messages/learners/<int:pk>/preferences/", views.learner_preferences, name="learner_preferences"),
    path("messages/sessions/<int:pk>/", views.session_messages, name="session_messages"),
    path("settings/messages/", views.communication_settings, name="settings"),
    path("settings/messages/<str:kind>/<str:language>/", views.message_template, name="template"),
]
