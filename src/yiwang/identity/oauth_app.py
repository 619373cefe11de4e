"""Django OAuth Toolkit's app config under a Chinese section name, named in INSTALLED_APPS in
place of "oauth2_provider" (same label, models and migrations). Its models appear in the back
office through the proxies in identity.models, under the identity section."""

from django.utils.translation import gettext_lazy as _
from oauth2_provider.apps import DOTConfig


class OAuthProviderConfig(DOTConfig):
    verbose_name = _("OAuth 单点登录")
