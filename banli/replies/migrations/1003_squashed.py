"""Squashed, without operations: the models' final state is created in replies 1001. This migration stands for the
replaced ones below, which depended on other apps' later steps; kept apart so that the squashed graph has no cycle
and a database that applied them takes this one as applied."""
from django.db import migrations


class Migration(migrations.Migration):

    replaces = [
        ('replies', '0006_review_and_unsatisfied_indexes'),
        ('replies', '0007_reply_returned_index'),
    ]

    dependencies = [
        ('replies', '1002_squashed'),
    ]

    operations = []
