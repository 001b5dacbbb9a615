from django.apps import AppConfig


class SupervisionConfig(AppConfig):
    name = "banli.supervision"
    verbose_name = "督办催办"
