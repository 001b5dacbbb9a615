from django.urls import path

from banli.reports import views

app_name = "reports"

urlpatterns = [
    path("figures/", views.figures_page, name="figures"),
    path("figures/<slug:key>/items/", views.figure_items, name="items"),
]
