"""Admin site for platform operators. Cross-tenant by nature, so it runs with scopes disabled."""

from functools import wraps

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django_scopes import scopes_disabled


class MLSAdminSite(admin.AdminSite):
    site_header = "MLS operations"

    def admin_view(self, view, cacheable: bool = False):  # noqa: ANN001, ANN201 - Django's signature
        inner = super().admin_view(view, cacheable)

        @wraps(inner)
        def unscoped(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
            with scopes_disabled():
                response = inner(request, *args, **kwargs)
                # Render here: a lazy TemplateResponse would run its queries after the scope is closed.
                if hasattr(response, "render") and not response.is_rendered:
                    response.render()
                return response

        return unscoped
