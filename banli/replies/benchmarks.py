"""Benchmarks for reply documents (run by `make bench`)."""
from __future__ import annotations

import io
import time

from banli.core.testing import build_world
from banli.replies import documents, letters
from banli.replies.choices import DocumentKind
from banli.replies.tests.helpers import signed_off_reply


def bench_reply_docx():
    """Time to generate one reply letter .docx (built-in layout and an office template), median of 20."""
    world = build_world(year=2031)
    reply = signed_off_reply(world, number="20310001")
    reply.body = "\n".join(["经研究，现答复如下：", "一、总体情况"] + ["我局高度重视，逐条研究落实，取得阶段性成效。" * 4] * 20)
    ctx = letters.reply_context(reply)

    def median(fn, runs=20):
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            fn()
            times.append(time.perf_counter() - started)
        return sorted(times)[len(times) // 2]

    yield "replies.reply_docx_builtin", median(lambda: documents.to_bytes(documents.build_document(ctx))), "s"
    template = documents.default_template_bytes(DocumentKind.PROPOSAL_REPLY)

    yield "replies.reply_docx_template", median(lambda: documents.render_template(io.BytesIO(template), ctx)), "s"
    yield "replies.reply_docx_end_to_end", median(lambda: letters.render(letters.reply_context(reply), reply.assignment.unit,
                                                                         DocumentKind.PROPOSAL_REPLY)), "s"
