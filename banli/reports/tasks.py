"""统计与考核: tasks."""
from __future__ import annotations

from celery import shared_task


@shared_task(name="reports.refresh_figure_cells")
def refresh_figure_cells_task() -> dict:
    """Fold the new events into the figure cells (banli.reports.aggregates); idempotent."""
    from banli.reports.aggregates import refresh

    return refresh()
