from django.urls import path

from banli.exchange import views

app_name = "exchange"

urlpatterns = [
    path("", views.index, name="index"),
    path("import/", views.import_upload, name="import_upload"),
    path("import/<int:pk>/columns/", views.import_mapping, name="import_mapping"),
    path("import/<int:pk>/", views.import_preview, name="import_preview"),
    path("import/<int:pk>/progress/", views.import_progress, name="import_progress"),
    path("bodies/", views.import_bodies, name="import_bodies"),
    path("ledger.xlsx", views.ledger_xlsx, name="ledger_xlsx"),
    path("ledger.csv", views.ledger_csv, name="ledger_csv"),
    path("notices/<int:session_id>/", views.notice_list, name="notices"),
    path("notices/<int:session_id>/<int:unit_id>.<str:fmt>", views.notice_download, name="notice"),
    path("archive/<int:session_id>.zip", views.archive_download, name="archive"),
]
