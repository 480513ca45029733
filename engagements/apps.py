from django.apps import AppConfig


class EngagementsConfig(AppConfig):
    name = "engagements"
    verbose_name = "Engagements and contracts"

    def ready(self) -> None:
        from . import actions  # noqa: F401, PLC0415 - registers this app's {% may %} checks (mls.actions)
