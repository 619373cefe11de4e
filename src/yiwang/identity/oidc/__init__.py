"""The OpenID Connect provider's yiwang parts, on top of django-oauth-toolkit: claims (acr, amr,
sid, masked ID number, the company acted for), consent remembered per client, per-client scopes
and minimum assurance level, RP-initiated logout through the province session, and back-channel
logout tokens (OpenID Connect Back-Channel Logout 1.0). See docs/identity-oidc.md."""
