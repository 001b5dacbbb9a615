from django.urls import path

from banli.workbench import views

app_name = "workbench"

urlpatterns = [
    path("", views.home, name="home"),
    path("role/", views.switch_role, name="switch_role"),
    path("password/", views.password_change, name="password_change"),
    path("ledger/", views.ledger, name="ledger"),
    path("proposals/<int:pk>/", views.proposal_detail, name="proposal"),
    path("proposals/<int:pk>/assign/", views.assign, name="assign"),
    path("proposals/<int:pk>/key/", views.proposal_key, name="proposal_key"),
    path("proposals/<int:pk>/merge/", views.proposal_merge, name="proposal_merge"),
    path("proposals/<int:pk>/unmerge/", views.proposal_unmerge, name="proposal_unmerge"),
    path("assignments/<int:pk>/<slug:action>/", views.assignment_action, name="action"),
    path("register/", views.register, name="register"),
    path("register/suggest/", views.register_suggest, name="register_suggest"),
    path("units/search/", views.unit_search, name="unit_search"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/badge/", views.notification_badge, name="notification_badge"),
]
