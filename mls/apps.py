from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class MlsConfig(AppConfig):
    default = True
    name = "mls"
    verbose_name = "MLS core"

    def ready(self) -> None:
        from allauth.account.signals import email_confirmed  # noqa: PLC0415 - models must be loaded first
        from django.contrib.auth.signals import user_logged_in  # noqa: PLC0415 - see above

        from .adapters import create_organization_on_email_confirmed  # noqa: PLC0415 - see above
        from .events import domain_event  # noqa: PLC0415 - see above
        from .middleware import stamp_sign_in  # noqa: PLC0415 - see above
        from .webhooks import on_domain_event  # noqa: PLC0415 - see above

        domain_event.connect(on_domain_event, dispatch_uid="mls.webhooks")
        email_confirmed.connect(create_organization_on_email_confirmed, dispatch_uid="mls.signup_organization")
        user_logged_in.connect(stamp_sign_in, dispatch_uid="mls.session_lifetime")


class MLSAdminConfig(admin_apps.AdminConfig):
    """The admin site runs with tenant scopes disabled (see mls.admin_site.MLSAdminSite)."""

    default = False

    default_site = "mls.admin_site.MLSAdminSite"
