"""Write the default .docx templates (built-in GB/T 9704 layout with docxtpl placeholders) into the repo."""
from pathlib import Path

from django.core.management.base import BaseCommand

from banli.replies.choices import DocumentKind
from banli.replies.documents import default_template_bytes

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "doc_templates"


class Command(BaseCommand):
    help = "生成默认文书模板（答复函、会办意见）到 banli/replies/doc_templates/"

    def add_arguments(self, parser):
        parser.add_argument("--out", default=str(TEMPLATE_DIR))

    def handle(self, *args, out, **options):
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        for kind in DocumentKind.values:
            path = folder / f"{kind}.docx"
            path.write_bytes(default_template_bytes(kind))
            self.stdout.write(f"{path}")
