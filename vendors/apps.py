from django.apps import AppConfig


class VendorsConfig(AppConfig):
    name = "vendors"
    verbose_name = "Providers, suppliers and instructors"

    def ready(self) -> None:
        from . import actions  # noqa: F401, PLC0415 - registers this app's {% may %} checks (mls.actions)
