"""Applicant pages for e-certificates: 我的证照 (the certificates one holds, as a person or for a
company), the certificate's PDF, and 用证记录 (every use and read of them: which department or
office, masked name, which case, when, for what). Reads and the per-object check are
``exchange.selectors``' and ``exchange.services``'."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from yiwang.core.errors import NotPermitted
from yiwang.core.params import int_param, page_param
from yiwang.exchange import selectors, services

PER_PAGE = 20


@login_required
@require_GET
def my_certificates(request: HttpRequest) -> HttpResponse:
    holdings = selectors.held_certificates(request.user)
    return render(request, "portal/certificates/my_certificates.html", {"holdings": holdings})


@login_required
@require_GET
def certificate_log(request: HttpRequest) -> HttpResponse:
    """All the holder's records, or one certificate's (``?certificate=<id>``): a certificate that
    is not the user's is a 404, as another person's case is."""
    raw = request.GET.get("certificate")
    certificate_id = int_param(raw)
    if raw and certificate_id is None:
        raise Http404
    page = page_param(request.GET.get("page"))
    log = selectors.access_log(request.user, certificate_id=certificate_id, page=page, per_page=PER_PAGE)
    if log is None:
        raise Http404
    response = render(
        request,
        "portal/certificates/log.html",
        {"log": log, "query": f"certificate={certificate_id}&" if certificate_id else ""},
    )
    # Who read one's certificates is personal: no shared or browser cache keeps it.
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def certificate_file(request: HttpRequest, certificate_id: int) -> HttpResponse:
    """The certificate's PDF for its holder, a read in their own log; anyone else gets a 404, as
    for another person's case. The only way to a certificate's file: storage is never served."""
    cert = selectors.holder_certificate(request.user, certificate_id)
    if cert is None:
        raise Http404
    try:
        data = services.read_certificate(cert, user=request.user, purpose=_("下载电子证照"))
    except NotPermitted:
        raise Http404 from None
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(False, f"{cert.cert_type}.pdf")
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


VERIFY_LIMIT = 30  # verifications per client address a minute, as for notices


@require_GET
def verify_certificate(request: HttpRequest, number: str) -> HttpResponse:
    """/verify/certificate/<number>/?s=<signature>: what a certificate's QR code opens. 真实有效
    with its public record (holder masked) when the signature is the certificate's own and it is
    valid today; 已失效 for a revoked or expired one; 未找到 otherwise (404)."""
    from django.utils import timezone

    from yiwang.core import security
    from yiwang.core.middleware import client_ip

    cert = None
    status = 200
    error = ""
    if security.hit(f"document-verify:{client_ip(request) or 'unknown'}", VERIFY_LIMIT, 60):
        error, status = _("查询过于频繁，请一分钟后再试。"), 429
    else:
        cert = selectors.verify_certificate(number[:40], (request.GET.get("s") or "")[:100])
        if cert is None:
            error, status = _("未找到该证照，或核验码不正确。无法核验的证照请勿作为办理依据。"), 404
    valid = cert is not None and selectors.is_valid_on(cert, timezone.localdate())
    return render(
        request,
        "portal/certificates/verify.html",
        {"cert": cert, "valid": valid, "error": error},
        status=status,
    )
