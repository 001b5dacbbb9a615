"""URLs with OpenID Connect mounted, for the test that signs in through a local identity provider."""
from django.urls import include, path

from banli.urls import urlpatterns as banli_urlpatterns

urlpatterns = [path("oidc/", include("mozilla_django_oidc.urls")), *banli_urlpatterns]
