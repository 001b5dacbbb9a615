from django.apps import AppConfig


class RepliesConfig(AppConfig):
    name = "banli.replies"
    verbose_name = "答复与测评"
