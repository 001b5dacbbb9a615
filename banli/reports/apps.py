from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "banli.reports"
    verbose_name = "统计与考核"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from banli.organizations.models import Unit
        from banli.proposals.models import Session
        from banli.reports.aggregates import forget_paths

        # The cells are placed by unit path and session office: a moved unit or session is seen at once.
        for model in (Unit, Session):
            post_save.connect(forget_paths, sender=model, dispatch_uid=f"figure-paths-save-{model.__name__}")
            post_delete.connect(forget_paths, sender=model, dispatch_uid=f"figure-paths-delete-{model.__name__}")
