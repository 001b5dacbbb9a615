from django.urls import path

from banli.core import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("me/data.json", views.my_data, name="my_data"),
]
