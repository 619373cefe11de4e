"""URLs of the identity accounts pages (mounted by identity/urls.py under /account/)."""

from django.urls import path

from . import views_accounts as views

urlpatterns = [
    path("", views.home, name="home"),
    path("register/person/", views.register_person, name="register_person"),
    path("register/person/code/", views.register_person_code, name="register_person_code"),
    path("phone/verify/", views.phone_verify_start, name="phone_verify"),
    path("phone/code/", views.phone_code, name="phone_code"),
    path("demo-sms/", views.demo_sms, name="demo_sms"),
    path("register/company/", views.register_company, name="register_company"),
    path("acting-as/", views.acting_as, name="acting_as"),
    path("mandates/grant/", views.grant_mandate, name="mandate_grant"),
    path("mandates/<id:mandate_id>/", views.mandate_detail, name="mandate"),
    path("mandates/<id:mandate_id>/revoke/", views.revoke_mandate, name="mandate_revoke"),
]
