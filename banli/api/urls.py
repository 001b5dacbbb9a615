from django.urls import include, path  # noqa: F401

app_name = "api"

urlpatterns: list = [
    path("scores", include("banli.reports.api_urls")),
]
