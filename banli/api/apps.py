from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "banli.api"
    verbose_name = "接口"
