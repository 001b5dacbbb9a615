from django.conf import settings
from django.urls import include, path

from banli.core import auth, views
from banli.ops import views as ops_views

urlpatterns = [
    path("healthz", ops_views.healthz, name="healthz"),
    path("livez", ops_views.livez, name="livez"),
    path("me/data.json", views.my_data, name="my_data"),
    path("proposals/<int:proposal_id>/proposers/<int:proposer_id>/contact/", views.proposer_contact,
         name="proposer_contact"),
    path("proposals/<int:proposal_id>/proposers/<int:proposer_id>/contact/<str:field>/", views.proposer_contact_reveal,
         name="proposer_contact_reveal"),
    path("login/otp/", auth.otp_verify, name="otp_verify"),
    path("account/2fa/setup/", auth.otp_setup, name="otp_setup"),
    path("account/security/", auth.account_security, name="account_security"),
    path("account/sign-out-everywhere/", auth.sign_out_everywhere, name="sign_out_everywhere"),
]

if settings.OIDC_ENABLED:
    urlpatterns.append(path("oidc/", include("mozilla_django_oidc.urls")))
