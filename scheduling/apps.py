from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "scheduling"
    verbose_name = "Delivery and scheduling"

    def ready(self) -> None:
        from . import actions  # noqa: F401, PLC0415 - registers this app's {% may %} checks (mls.actions)
