"""Privacy pages that gather every app's part: include with `path("", include("erhuo.web.urls_privacy"))`."""

from django.urls import path

from erhuo.web import views_privacy

app_name = "privacy"

urlpatterns = [
    path("accounts/privacy/", views_privacy.privacy_page, name="page"),
    path("accounts/privacy/download/", views_privacy.privacy_download, name="download"),
    path("accounts/privacy/deletion/", views_privacy.deletion_request_create, name="deletion_request"),
    path(
        "accounts/privacy/deletion/<int:request_id>/cancel/",
        views_privacy.deletion_request_cancel,
        name="deletion_cancel",
    ),
    path("ops/deletion-requests/", views_privacy.deletion_queue, name="deletion_queue"),
    path("ops/deletion-requests/<int:request_id>/", views_privacy.deletion_detail, name="deletion_detail"),
    path(
        "ops/deletion-requests/<int:request_id>/erase/",
        views_privacy.deletion_decide,
        {"decision": "erase"},
        name="deletion_erase",
    ),
    path(
        "ops/deletion-requests/<int:request_id>/refuse/",
        views_privacy.deletion_decide,
        {"decision": "refuse"},
        name="deletion_refuse",
    ),
]
