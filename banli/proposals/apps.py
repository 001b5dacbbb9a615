from django.apps import AppConfig


class ProposalsConfig(AppConfig):
    name = "banli.proposals"
    verbose_name = "提案建议"
