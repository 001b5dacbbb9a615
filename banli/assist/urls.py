"""智能辅助 URLs, mounted under /assist/."""
from django.urls import path

from banli.assist import views

app_name = "assist"

urlpatterns = [
    path("proposals/<int:proposal_id>/", views.proposal_assist, name="proposal"),
    path("proposals/<int:proposal_id>/category/", views.category_suggestion, name="category"),
    path("proposals/<int:proposal_id>/routing/", views.routing_suggestion, name="routing"),
    path("proposals/<int:proposal_id>/similar/", views.similar, name="similar"),
    path("proposals/<int:proposal_id>/draft-check/", views.draft_check, name="draft_check"),
    path("replies/<int:reply_id>/check/", views.reply_check, name="reply_check"),
    path("sessions/<int:session_id>/topics/", views.session_topics, name="topics"),
    path("office/", views.office_performance, name="office"),
]
