from django.apps import AppConfig


class AssistConfig(AppConfig):
    name = "banli.assist"
    verbose_name = "智能辅助"
