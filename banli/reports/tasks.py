"""统计与考核: tasks."""
from __future__ import annotations

from celery import shared_task

from banli.reports.aggregates import refresh


@shared_task(name="reports.refresh_figure_cells")
def refresh_figure_cells_task() -> dict:
    """Fold the new events into the figure cells (banli.reports.aggregates); idempotent."""
    return refresh()
