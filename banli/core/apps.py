from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "banli.core"
    verbose_name = "公共"
