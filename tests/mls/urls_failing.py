"""The project's URLs plus a view that fails, for the server-error page's tests."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from mls.urls import urlpatterns as project_urlpatterns


def failing_view(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("A bug in a view")


urlpatterns = [*project_urlpatterns, path("failing/", failing_view)]
