from django.urls import path

from banli.reports import views

app_name = "reports"

urlpatterns = [
    path("", views.dashboard, name="home"),
    path("", views.dashboard, name="dashboard"),
    path("dashboard.xlsx", views.dashboard_xlsx, name="dashboard_xlsx"),
    path("charts/<slug:key>.xlsx", views.chart_xlsx, name="chart_xlsx"),
    path("figures/", views.figures_page, name="figures"),
    path("compare/", views.compare_page, name="compare"),
    path("figures/<slug:key>/items/", views.figure_items, name="items"),
    path("score/", views.score_page, name="score"),
    path("score/self-evaluation.<str:fmt>", views.evaluation_export, name="evaluation_export"),
    path("rules/", views.rules_page, name="rules"),
    path("summary/", views.summary_page, name="summary"),
    path("summary/summary.docx", views.summary_docx, name="summary_docx"),
    path("area-summary/", views.area_summary_page, name="area_summary"),
    path("area-summary/summary.docx", views.area_summary_docx, name="area_summary_docx"),
]
