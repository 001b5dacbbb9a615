from django.urls import path

from banli.replies import views

app_name = "replies"

urlpatterns = [
    path("<int:reply_id>/docx/", views.reply_docx, name="reply_docx"),
    path("co-opinions/<int:opinion_id>/docx/", views.co_opinion_docx, name="co_opinion_docx"),
    path("templates/", views.templates, name="templates"),
    path("templates/default/<str:kind>.docx", views.default_template, name="default_template"),
]
