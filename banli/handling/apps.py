from django.apps import AppConfig


class HandlingConfig(AppConfig):
    name = "banli.handling"
    verbose_name = "办理流程"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from banli.handling.deadlines import forget_calendar
        from banli.handling.models import HolidayOverride

        # Cached working-day answers (the pages' warning window) go with any change to the entered days.
        post_save.connect(forget_calendar, sender=HolidayOverride, dispatch_uid="forget-calendar-save")
        post_delete.connect(forget_calendar, sender=HolidayOverride, dispatch_uid="forget-calendar-delete")
