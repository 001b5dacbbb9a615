from django.urls import path

from banli.replies import views

app_name = "replies"

urlpatterns = [
    path("assignments/<int:assignment_id>/draft/", views.draft, name="draft"),
    path("assignments/<int:assignment_id>/co-opinion/", views.co_opinion, name="co_opinion"),
    path("assignments/<int:assignment_id>/feedback/", views.feedback, name="feedback"),
    path("<int:reply_id>/", views.review, name="review"),
    path("<int:reply_id>/docx/", views.reply_docx, name="reply_docx"),
    path("co-opinions/<int:opinion_id>/docx/", views.co_opinion_docx, name="co_opinion_docx"),
    path("co-opinions/attachments/<int:attachment_id>/", views.co_opinion_attachment, name="co_opinion_attachment"),
    path("mine/", views.my_copies, name="my_copies"),
    path("copies/<int:delivery_id>/", views.copy, name="copy"),
    path("commitments/", views.commitments, name="commitments"),
    path("chain/", views.chain, name="chain"),
    path("feedback/missing/", views.missing_feedback, name="missing_feedback"),
    path("templates/", views.templates, name="templates"),
    path("templates/default/<str:kind>.docx", views.default_template, name="default_template"),
    path("templates/<int:template_id>/file/", views.template_file, name="template_file"),
    path("feedback/<int:feedback_id>/scan/", views.feedback_scan, name="feedback_scan"),
]
