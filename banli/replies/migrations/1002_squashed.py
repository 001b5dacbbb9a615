"""Squashed, without operations: the models' final state is created in replies 1001. This migration stands for the
replaced ones below, which depended on other apps' later steps; kept apart so that the squashed graph has no cycle
and a database that applied them takes this one as applied."""
from django.db import migrations


class Migration(migrations.Migration):

    replaces = [
        ('replies', '0002_letters_review_delivery'),
        ('replies', '0003_private_upload_names'),
        ('replies', '0004_review_chain_people'),
        ('replies', '0005_co_opinion_leader_sign_off'),
    ]

    dependencies = [
        ('replies', '1001_squashed'),
    ]

    operations = []
