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
