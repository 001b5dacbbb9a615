from django.apps import AppConfig


class WorkbenchConfig(AppConfig):
    name = "banli.workbench"
    verbose_name = "工作台"
