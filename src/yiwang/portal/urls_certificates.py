"""Applicant pages for e-certificates (included in the portal namespace)."""

from django.urls import path

from . import views_certificates as v

urlpatterns = [
    path("my/certificates/", v.my_certificates, name="my_certificates"),
    path("my/certificates/log/", v.certificate_log, name="certificate_log"),
    path("my/certificates/<id:certificate_id>/file/", v.certificate_file, name="certificate_file"),
    path("verify/certificate/<str:number>/", v.verify_certificate, name="verify_certificate"),
]
