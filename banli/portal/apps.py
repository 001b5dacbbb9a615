from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "banli.portal"
    verbose_name = "公开门户"
