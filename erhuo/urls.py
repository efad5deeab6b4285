from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve

from erhuo.api import api
from erhuo.web import views as web_views

admin.site.site_header = "二货 · 运营后台"
admin.site.site_title = "二货运营后台"
admin.site.index_title = "运营后台"

urlpatterns = [
    path("api/v1/", api.urls),
    # Anything else under /api/ is a JSON 404, in DEBUG too.
    re_path(r"^api/", web_views.api_not_found),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("erhuo.accounts.urls")),
    path("", include("erhuo.ledger.urls")),
    path("", include("erhuo.payments.urls")),
    path("", include("erhuo.trust.urls")),
    path("", include("erhuo.community.urls")),
    path("", include("erhuo.notifications.urls")),
    path("", include("erhuo.experts.urls")),
    path("", include("erhuo.market.urls")),
    path("", include("erhuo.consignment.urls")),
    path("", include("erhuo.web.urls_privacy")),
    path("", include("erhuo.web.urls")),
]

if settings.ERHUO_SERVE_MEDIA:
    # Development and `make demo` only; production serves media from storage or nginx.
    urlpatterns += [re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT})]

handler400 = web_views.bad_request
handler403 = web_views.permission_denied
handler404 = web_views.page_not_found
handler500 = web_views.server_error
