from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class MlsConfig(AppConfig):
    default = True
    name = "mls"
    verbose_name = "MLS core"


class MLSAdminConfig(admin_apps.AdminConfig):
    """The admin site runs with tenant scopes disabled (see mls.admin_site.MLSAdminSite)."""

    default = False

    default_site = "mls.admin_site.MLSAdminSite"
