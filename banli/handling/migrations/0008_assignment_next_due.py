"""The deadline of the step an assignment is at, stored (kept by AssignmentQuerySet.update and save)."""

from django.db import migrations, models


def fill(apps, schema_editor):
    from banli.handling.selectors import next_due_kind_sql_expression, next_due_sql_expression

    Assignment = apps.get_model("handling", "Assignment")
    Assignment.objects.update(next_due=next_due_sql_expression(), next_due_kind=next_due_kind_sql_expression())


class Migration(migrations.Migration):

    dependencies = [
        ('handling', '0007_ledger_columns'),
    ]

    operations = [
        migrations.AddField(
            model_name='assignment',
            name='next_due',
            field=models.DateField(blank=True, editable=False, null=True, verbose_name='当前期限'),
        ),
        migrations.AddField(
            model_name='assignment',
            name='next_due_kind',
            field=models.CharField(blank=True, default='', editable=False, max_length=12, verbose_name='当前期限类型'),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
