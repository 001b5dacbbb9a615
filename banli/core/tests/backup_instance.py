"""Run inside `manage.py shell` by test_backup: build or report an instance (not a test module)."""
import hashlib
import json
import os
import sys
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile

from banli.core import eventlog
from banli.core.testing import assign, build_world, make_proposal, walk_to
from banli.proposals.models import Proposer
from banli.replies.models import Reply
from banli.reports import figures


def build():
    world = build_world()
    for i, state in enumerate(["closed", "rated", "replied", "in_progress", "signed"]):
        lead, _ = assign(world, make_proposal(world, number=f"B{i}"))
        walk_to(world, lead, state)
    reply = Reply.objects.filter(state="sent").first()
    reply.document.save("reply.docx", ContentFile("答复函内容".encode() * 100), save=False)
    Reply.objects.filter(pk=reply.pk).update(document=reply.document.name)


def report():
    values = figures.compute(figures.Slice())
    media = {}
    root = Path(settings.MEDIA_ROOT)
    for path in sorted(root.rglob("*")) if root.exists() else []:
        if path.is_file():
            media[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    checked, broken = eventlog.verify()
    print("REPORT " + json.dumps({
        "figures": {k: str(v.value if hasattr(v, "value") else v) for k, v in values.items()},
        "media": media,
        "events": checked,
        "chain_ok": broken is None,
        "phones": sorted(p.phone or "" for p in Proposer.objects.all()),
    }, ensure_ascii=False, sort_keys=True))


{"build": build, "report": report}[os.environ["BANLI_BACKUP_STEP"]]()
sys.stdout.flush()
