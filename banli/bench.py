"""`make bench`: run every app's benchmarks and print `BENCH <name> <value> <unit>` lines.

Each app may have a `benchmarks.py` with functions named `bench_*`; each yields (name, value, unit)
tuples. Benchmarks run against a throw-away database (SQLite by default, DATABASE_URL if set), so
figures measured in one run can be compared as ratios.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
import traceback

import django
from django.apps import apps
from django.conf import settings
from django.db import connection
from django.test.utils import setup_databases, setup_test_environment, teardown_databases


class QueryCounter:
    """Counts the SQL statements the default connection runs while active (every statement of a request through
    the test client, its middleware and template included). Django's query log cannot be used across requests:
    each request empties it (reset_queries on request_started), and kept it stops growing at 9,000 entries."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)

    def __enter__(self):
        self._cm = connection.execute_wrapper(self)
        self._cm.__enter__()
        return self

    def __exit__(self, *exc):
        return self._cm.__exit__(*exc)


def count_queries(fn) -> int:
    """How many SQL statements one call of `fn` runs."""
    with QueryCounter() as counter:
        fn()
    return counter.count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Banli benchmarks")
    parser.add_argument("-k", dest="only", default="", help="run only benchmarks whose name contains this")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "banli.settings_test")
    os.environ.setdefault("BANLI_VAR_DIR", os.path.join(os.getcwd(), "var", "bench"))

    django.setup()

    setup_test_environment()
    # BANLI_BENCH_USE_DB=1 measures the configured database as it is (e.g. a million rows loaded once with
    # `load_demo --scale`), instead of a throw-away test database filled by the benchmarks themselves.
    use_db = os.environ.get("BANLI_BENCH_USE_DB") == "1"
    old = None if use_db else setup_databases(verbosity=0, interactive=False)
    failures = 0
    try:
        benches = []
        for config in apps.get_app_configs():
            if not config.name.startswith("banli."):
                continue
            try:
                module = importlib.import_module(f"{config.name}.benchmarks")
            except ModuleNotFoundError as exc:
                if exc.name == f"{config.name}.benchmarks":
                    continue
                raise
            for attr in sorted(dir(module)):
                if attr.startswith("bench_") and (not args.only or args.only in attr):
                    benches.append((config.label, attr, getattr(module, attr)))
        # All benchmarks share one database; one that fills it far beyond the others (`bench_order` > 0) runs
        # after them, so their small-scale figures are not measured over its rows.
        benches.sort(key=lambda bench: getattr(bench[2], "bench_order", 0))
        for label, attr, bench in benches:
            started = time.perf_counter()
            try:
                for name, value, unit in bench():
                    print(f"BENCH {name} {value:.6g} {unit}" if isinstance(value, float) else f"BENCH {name} {value} {unit}", flush=True)
            except Exception:  # report and go on: one broken benchmark must not hide the others
                failures += 1
                traceback.print_exc()
            print(f"# {label}.{attr} took {time.perf_counter() - started:.1f}s", file=sys.stderr)
    finally:
        if old is not None:
            teardown_databases(old, verbosity=0)
    _ = settings
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
