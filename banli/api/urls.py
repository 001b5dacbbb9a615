"""The REST API under /api/v1/. To add an endpoint, append a path to `urlpatterns` (or register on `router`)."""
from django.urls import path
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from banli.api import integration, scores, subscriptions, views
from banli.api.auth import ApiDocsReader, docs_page
from banli.api.openapi import SchemaView

app_name = "api"

router = SimpleRouter(trailing_slash=False)
router.register("sessions", views.SessionViewSet, basename="session")
router.register("units", views.UnitViewSet, basename="unit")
router.register("proposals", views.ProposalViewSet, basename="proposal")
router.register("assignments", views.AssignmentViewSet, basename="assignment")
router.register("replies", views.ReplyViewSet, basename="reply")
router.register("events", views.EventViewSet, basename="event")
router.register("users", integration.UserViewSet, basename="user")
router.register("role-grants", integration.RoleGrantViewSet, basename="role-grant")
router.register("proposers", integration.ProposerViewSet, basename="proposer")
router.register("deadline-policies", integration.DeadlinePolicyViewSet, basename="deadline-policy")
router.register("commitments", integration.CommitmentViewSet, basename="commitment")
router.register("contacts", integration.ContactViewSet, basename="contact")
router.register("co-opinions", integration.CoOpinionViewSet, basename="co-opinion")
router.register("feedback", integration.FeedbackViewSet, basename="feedback")
router.register("rule-sets", integration.RuleSetViewSet, basename="rule-set")
router.register("score-entries", integration.ScoreEntryViewSet, basename="score-entry")
router.register("evaluations", integration.EvaluationViewSet, basename="evaluation")
router.register("subscriptions", subscriptions.SubscriptionViewSet, basename="subscription")

urlpatterns = [
    path("auth/token", views.TokenView.as_view(), name="token"),
    path("figures", views.FiguresView.as_view(), name="figures"),
    path("scores", scores.ScoreView.as_view(), name="scores"),
    path("proposals/<int:proposal_pk>/proposers",
         integration.CosignerViewSet.as_view({"get": "list", "post": "create"}), name="proposal-proposers"),
    path("proposals/<int:proposal_pk>/proposers/<int:pk>",
         integration.CosignerViewSet.as_view({"delete": "destroy"}), name="proposal-proposer"),
    *[
        path(f"assignments/<int:pk>/actions/{key}", view.as_view(), name=f"assignment-action-{key}")
        for key, view in views.action_views().items()
    ],
    # The API's description is for signed-in users unless BANLI_API_DOCS_PUBLIC opens it (access.may_read_api_docs).
    # The Swagger page's script is served as a file of its own (the split view), so its CSP needs no inline script.
    path("openapi.json", SchemaView.as_view(permission_classes=[ApiDocsReader]), name="schema"),
    path("docs", docs_page(SpectacularSwaggerSplitView.as_view(url_name="api:schema", permission_classes=[ApiDocsReader])),
         name="docs"),
    path("redoc", docs_page(SpectacularRedocView.as_view(url_name="api:schema", permission_classes=[ApiDocsReader])),
         name="redoc"),
    *router.urls,
]
