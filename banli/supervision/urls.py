from django.urls import path

from banli.supervision import views

app_name = "supervision"

urlpatterns = [
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/unread/", views.unread_badge, name="unread_badge"),
    path("notifications/read/", views.notification_read, name="notifications_read_all"),
    path("notifications/<int:pk>/read/", views.notification_read, name="notification_read"),
    path("preferences/", views.preferences, name="preferences"),
    path("items/<int:assignment_id>/", views.item, name="item"),
    path("key/", views.key_items, name="key_items"),
    path("key/<int:proposal_id>/", views.key_item, name="key_item"),
    path("urge/", views.urge, name="urge"),
    path("deliveries/failed/", views.failed_deliveries, name="failed_deliveries"),
    path("deliveries/<int:pk>/retry/", views.delivery_retry, name="delivery_retry"),
    path("subscriptions/", views.subscriptions, name="subscriptions"),
    path("subscriptions/<int:pk>/", views.subscription, name="subscription"),
    path("digests/<int:pk>/", views.digest, name="digest"),
    path("calendar/", views.holiday_calendar, name="holiday_calendar"),
]
