from django.apps import AppConfig


class HandlingConfig(AppConfig):
    name = "banli.handling"
    verbose_name = "办理流程"
