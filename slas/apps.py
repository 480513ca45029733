from django.apps import AppConfig


class SlasConfig(AppConfig):
    name = "slas"
    verbose_name = "Service levels"
