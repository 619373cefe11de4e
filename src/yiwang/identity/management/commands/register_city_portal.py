"""Register the example relying party (examples/city_portal) as an OIDC client with a known id
and secret, for the demo and the single sign-on browser test."""

from __future__ import annotations

from urllib.parse import urlparse

from django.core.management.base import BaseCommand, CommandError

from yiwang.identity.oidc.registration import register_client

DEFAULT_CLIENT_ID = "city-portal-fuzhou"
DEFAULT_SECRET = "city-portal-demo-secret-change-me"


class Command(BaseCommand):
    help = "Register examples/city_portal (福州市 city portal) as an OpenID Connect client."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--base-url", default="http://127.0.0.1:8001", help="where the city portal runs")
        parser.add_argument("--client-id", default=DEFAULT_CLIENT_ID)
        parser.add_argument("--client-secret", default=DEFAULT_SECRET)
        parser.add_argument("--name", default="福州市网上办事大厅（示例）")
        parser.add_argument("--min-acr", type=int, default=1, choices=[1, 2, 3])

    def handle(
        self, *args, base_url: str, client_id: str, client_secret: str, name: str, min_acr: int, **kw
    ) -> None:
        base = base_url.rstrip("/")
        try:
            parsed = urlparse(base)
            # .port reads the port: "abc" or 99999 raise ValueError, as "http://[::1" does above.
            valid = parsed.scheme in ("http", "https") and bool(parsed.hostname) and parsed.port != 0
        except ValueError:
            valid = False
        if not valid or parsed.query or parsed.fragment:
            raise CommandError(
                f"--base-url must be an http(s) URL such as http://127.0.0.1:8001, not {base_url!r}"
            )
        try:
            app = register_client(
                client_id=client_id,
                client_secret=client_secret,
                name=name,
                redirect_uris=[f"{base}/callback"],
                post_logout_redirect_uris=[f"{base}/"],
                backchannel_logout_uri=f"{base}/backchannel-logout",
                allowed_scopes="openid profile phone company account",
                min_acr=min_acr,
                region_code="350100",
            )
        except ValueError as error:
            # A bad argument (a short secret, ...): one line, not a traceback.
            raise CommandError(str(error)) from error
        self.stdout.write(f"registered {app.name}: client_id={client_id} redirect={base}/callback")
