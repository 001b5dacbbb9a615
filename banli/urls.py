"""URL configuration: each app mounts its own urls module under its prefix."""
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from banli.api import pages as api_pages

admin.site.site_header = "办理 Banli 管理后台"
admin.site.site_title = "办理 Banli"
admin.site.index_title = "数据管理"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("login/", auth_views.LoginView.as_view(template_name="registration/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("banli.core.urls")),
    path("account/tokens/", api_pages.tokens, name="api_tokens"),
    path("api/v1/", include("banli.api.urls")),
    path("replies/", include("banli.replies.urls")),
    path("supervision/", include("banli.supervision.urls")),
    path("reports/", include("banli.reports.urls")),
    path("exchange/", include("banli.exchange.urls")),
    path("public/", include("banli.portal.urls")),
    path("assist/", include("banli.assist.urls")),
    path("", include("banli.workbench.urls")),
]

handler400 = "banli.core.views.bad_request"
handler403 = "banli.core.views.permission_denied"
handler404 = "banli.core.views.page_not_found"
handler500 = "banli.core.views.server_error"
