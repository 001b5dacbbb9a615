from django.urls import path

from banli.portal import views

app_name = "portal"

urlpatterns = [
    path("", views.index, name="home"),
    path("replies/", views.index, name="index"),
    path("replies/<int:public_id>/", views.detail, name="detail"),
    path("replies/<int:public_id>/withdraw/", views.withdraw, name="withdraw"),
]
