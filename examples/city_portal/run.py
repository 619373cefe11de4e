"""Run the 福州市 city portal example relying party on its own port.

    python examples/city_portal/run.py --port 8001 --issuer http://127.0.0.1:8000/o

Register it at the province first: ``yiwang register_city_portal --base-url http://127.0.0.1:8001``.
"""

from __future__ import annotations

import argparse
import os
import sys
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import contextlib

from portal import CityPortal, Config  # noqa: E402

DEFAULT_CLIENT_ID = "city-portal-fuzhou"
DEFAULT_SECRET = "city-portal-demo-secret-change-me"


class ThreadingServer(ThreadingMixIn, WSGIServer):
    # A back-channel logout may arrive while a browser request is being served.
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args) -> None:  # noqa: A002
        if os.environ.get("CITY_PORTAL_LOG"):
            super().log_message(format, *args)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="福州市 city portal (example OIDC relying party)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--issuer", default="http://127.0.0.1:8000/o")
    parser.add_argument("--base-url", help="public URL of this portal (default http://HOST:PORT)")
    parser.add_argument("--client-id", default=os.environ.get("CITY_PORTAL_CLIENT_ID", DEFAULT_CLIENT_ID))
    parser.add_argument(
        "--client-secret", default=os.environ.get("CITY_PORTAL_CLIENT_SECRET", DEFAULT_SECRET)
    )
    parser.add_argument("--scope", default="openid profile")
    args = parser.parse_args(argv)
    cfg = Config(
        issuer=args.issuer,
        client_id=args.client_id,
        client_secret=args.client_secret,
        base_url=(args.base_url or f"http://{args.host}:{args.port}").rstrip("/"),
        scope=args.scope,
    )
    server = make_server(
        args.host, args.port, CityPortal(cfg), server_class=ThreadingServer, handler_class=QuietHandler
    )
    print(f"city portal on {cfg.base_url} (issuer {cfg.issuer})", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


if __name__ == "__main__":
    main()
