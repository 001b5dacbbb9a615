from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    name = "banli.exchange"
    verbose_name = "数据交换"
