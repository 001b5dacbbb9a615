"""The segmented search words of each proposal (banli.proposals.search), filled for existing rows, and on
PostgreSQL the GIN index over their tsvector."""

from django.db import migrations, models

BATCH = 5000


def fill_search_text(apps, schema_editor):
    from banli.proposals.search import search_text_for

    Proposal = apps.get_model("proposals", "Proposal")
    ProposalProposer = apps.get_model("proposals", "ProposalProposer")
    last = 0
    while True:
        rows = list(Proposal.objects.filter(pk__gt=last).order_by("pk").values("pk", "number", "title", "body")[:BATCH])
        if not rows:
            break
        last = rows[-1]["pk"]
        names: dict[int, list[str]] = {}
        for pid, name in ProposalProposer.objects.filter(proposal_id__in=[r["pk"] for r in rows]).order_by(
                "proposal_id", "position").values_list("proposal_id", "proposer__name"):
            names.setdefault(pid, []).append(name)
        for r in rows:
            r["text"] = search_text_for(number=r["number"], title=r["title"], body=r["body"], names=names.get(r["pk"], []))
        if schema_editor.connection.vendor == "postgresql":
            with schema_editor.connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE proposals_proposal AS p SET search_text = v.t FROM unnest(%s::bigint[], %s::text[]) AS v(i, t) "
                    "WHERE p.id = v.i", [[r["pk"] for r in rows], [r["text"] for r in rows]])
        else:
            for r in rows:
                Proposal.objects.filter(pk=r["pk"]).update(search_text=r["text"])


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE INDEX IF NOT EXISTS proposal_search_gin ON proposals_proposal "
                              "USING gin (to_tsvector('simple'::regconfig, search_text))")


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS proposal_search_gin")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ('proposals', '0003_encrypt_personal_information'),
    ]

    operations = [
        migrations.AddField(
            model_name='proposal',
            name='search_text',
            field=models.TextField(blank=True, default='', editable=False),
        ),
        migrations.RunPython(fill_search_text, migrations.RunPython.noop),
        migrations.RunPython(create_index, drop_index),
    ]
