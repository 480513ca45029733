from django.apps import AppConfig


class SlasConfig(AppConfig):
    name = "slas"
    verbose_name = "Service levels"

    def ready(self) -> None:
        from . import actions  # noqa: F401, PLC0415 - registers this app's {% may %} checks (mls.actions)
