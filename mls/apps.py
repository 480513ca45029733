from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class MlsConfig(AppConfig):
    default = True
    name = "mls"
    verbose_name = "MLS core"

    def ready(self) -> None:
        from .events import domain_event  # noqa: PLC0415 - models must be loaded first
        from .webhooks import on_domain_event  # noqa: PLC0415 - see above

        domain_event.connect(on_domain_event, dispatch_uid="mls.webhooks")


class MLSAdminConfig(admin_apps.AdminConfig):
    """The admin site runs with tenant scopes disabled (see mls.admin_site.MLSAdminSite)."""

    default = False

    default_site = "mls.admin_site.MLSAdminSite"
