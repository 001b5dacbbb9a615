from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "banli.demo"
    label = "demo"
    verbose_name = "演示"
