from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "banli.reports"
    verbose_name = "统计与考核"
