"""The event chain becomes keyed (HMAC with BANLI_EVENT_KEY): a nullable `scheme` column (empty = the plain SHA-256 of
the rows already written, which keep verifying), and, on an instance that has such rows, one keyed marker event that
names the last of them, so that no plain row written later (by someone without the key) is accepted.

The column is added nullable and without a default so that SQLite adds it in place (a table rebuild would drop the
append-only trigger of 0005)."""
from django.db import migrations, models
from django.utils import timezone


def mark_legacy_rows(apps, schema_editor):
    from banli.core import eventlog

    Event = apps.get_model("handling", "Event")
    last = Event.objects.order_by("-id").values_list("id", flat=True).first()
    if last is None:
        return
    prev = Event.objects.filter(stream="security").order_by("-id").values_list("hash", flat=True).first()
    marker = Event(verb=eventlog.MARKER_VERB, stream="security", prev_hash=prev or eventlog.GENESIS,
                   payload={"legacy_last_id": last}, created_at=timezone.now(), scheme=eventlog.KEYED,
                   actor_role="", from_state="", to_state="", reason="", client_ip="")
    marker.hash = eventlog.digest(marker.prev_hash, marker)
    marker.save(force_insert=True)


class Migration(migrations.Migration):
    dependencies = [("handling", "0006_event_proposal_merge_index")]
    operations = [
        migrations.AddField(model_name="event", name="scheme", field=models.PositiveSmallIntegerField(blank=True, null=True)),
        migrations.RunPython(mark_legacy_rows, migrations.RunPython.noop),
    ]
