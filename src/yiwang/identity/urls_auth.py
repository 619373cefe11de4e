"""URLs of the identity auth pages (mounted by identity/urls.py): login, second factor,
sessions, logout."""

from django.urls import path

from . import views_auth

urlpatterns = [
    path("login/", views_auth.login_view, name="login"),
    path("logout/", views_auth.logout_view, name="logout"),
    path("mfa/", views_auth.mfa_view, name="mfa"),
    path("mfa/verify/", views_auth.mfa_verify_view, name="mfa_verify"),
    path("sessions/", views_auth.sessions_view, name="sessions"),
    path("sessions/<id:session_id>/end/", views_auth.session_end_view, name="session_end"),
    path("sessions/end-all/", views_auth.sessions_end_all_view, name="sessions_end_all"),
]
