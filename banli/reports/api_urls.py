"""Mounted by banli/api/urls.py at /api/v1/scores."""
from django.urls import path

from banli.reports.api import ScoreView

urlpatterns = [path("", ScoreView.as_view(), name="scores")]
