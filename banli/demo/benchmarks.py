"""Benchmarks of the demo data generator (`load_demo --scale N`)."""
from __future__ import annotations

import time

from banli.demo.scale import generate


def bench_load_demo_scale():
    """Generate 5,000 proposals and report the rate (proposals and events per second)."""
    started = time.perf_counter()
    result = generate(5000, batch_size=2500, seed=11)
    elapsed = time.perf_counter() - started
    yield "load_demo_scale_5000_seconds", elapsed, "s"
    yield "load_demo_scale_proposals_per_second", result.proposals / elapsed, "proposals/s"
    yield "load_demo_scale_events_per_second", result.events / elapsed, "events/s"
