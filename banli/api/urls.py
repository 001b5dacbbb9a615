"""The REST API under /api/v1/. To add an endpoint, append a path to `urlpatterns` (or register on `router`)."""
from django.urls import include, path
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny
from rest_framework.routers import SimpleRouter

from banli.api import views

app_name = "api"

router = SimpleRouter(trailing_slash=False)
router.register("sessions", views.SessionViewSet, basename="session")
router.register("units", views.UnitViewSet, basename="unit")
router.register("proposals", views.ProposalViewSet, basename="proposal")
router.register("assignments", views.AssignmentViewSet, basename="assignment")
router.register("replies", views.ReplyViewSet, basename="reply")
router.register("events", views.EventViewSet, basename="event")

urlpatterns = [
    path("auth/token", views.TokenView.as_view(), name="token"),
    path("figures", views.FiguresView.as_view(), name="figures"),
    path("scores", include("banli.reports.api_urls")),
    *[
        path(f"assignments/<int:pk>/actions/{key}", view.as_view(), name=f"assignment-action-{key}")
        for key, view in views.action_views().items()
    ],
    path("openapi.json", SpectacularJSONAPIView.as_view(permission_classes=[AllowAny], authentication_classes=[]),
         name="schema"),
    path("docs", SpectacularSwaggerView.as_view(url_name="api:schema", permission_classes=[AllowAny]), name="docs"),
    path("redoc", SpectacularRedocView.as_view(url_name="api:schema", permission_classes=[AllowAny]), name="redoc"),
    *router.urls,
]
