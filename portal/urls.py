from django.urls import path

from . import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("sign-in/", views.sign_in, name="sign_in"),
    path("link/<str:token>/", views.link, name="link"),
    path("sign-out/", views.sign_out, name="sign_out"),
    path("sessions/<int:pk>/calendar.ics", views.session_ics, name="session_ics"),
    path("completions/<int:pk>/certificate.pdf", views.certificate, name="certificate"),
    path("calendar/issue/", views.calendar_feed_issue, name="calendar_feed_issue"),
    path("calendar/revoke/", views.calendar_feed_revoke, name="calendar_feed_revoke"),
    path("calendar/<str:token>.ics", views.calendar_feed, name="calendar_feed"),
]
