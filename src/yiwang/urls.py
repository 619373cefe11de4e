from django.contrib import admin
from django.urls import include, path
from oauth2_provider.views import OAuthServerMetadataView

from yiwang.api.api import api
from yiwang.identity.oidc.views import root_discovery

admin.site.site_header = "一网 · 政务服务管理后台"
admin.site.site_title = "一网管理后台"
admin.site.index_title = "后台管理"
# A database outage raised before the view (in a middleware) is a 503 too (core/outage.py).
handler500 = "yiwang.core.outage.server_error"

urlpatterns = [
    # Before admin.site.urls, whose catch-all would otherwise swallow it.
    path("admin/catalog/spreadsheets/", include("yiwang.catalog.spreadsheets.urls")),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path(".well-known/openid-configuration", root_discovery),
    # RFC 8414 §3.1: the metadata of the issuer https://<host>/o, at the root with its path after.
    path(".well-known/oauth-authorization-server/o", OAuthServerMetadataView.as_view()),
    path("workbench/", include("yiwang.workbench.urls")),
    path("opendata/", include("yiwang.supervision.opendata.urls")),
    path("dashboard/", include("yiwang.supervision.dashboard_urls")),
    path("", include("yiwang.identity.urls")),
    path("", include("yiwang.portal.urls")),
]
# Uploaded files are never served from MEDIA_URL, not even with DEBUG: applicants' materials
# go out only through the permission-checked views of the portal and the workbench.
