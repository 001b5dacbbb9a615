"""The OpenAPI document's view (apart from banli.api.schema, which drf-spectacular's views import as the schema
class: the view in that module would import them back)."""
from __future__ import annotations

from drf_spectacular.views import SpectacularJSONAPIView
from rest_framework.response import Response


_DOCUMENTS: dict = {}


class SchemaView(SpectacularJSONAPIView):
    """/api/v1/openapi.json, generated once per process and version. The document is served public (made from the
    code, the same for every reader), and generating it walks every view and serializer: about a second per
    request, paid by every opening of the docs page and every client that fetches it before each run."""

    def _get_schema_response(self, request):
        version = self.api_version or request.version or self._get_version_parameter(request)
        key = (version, self.urlconf, self.serve_public)
        if key not in _DOCUMENTS:
            _DOCUMENTS[key] = super()._get_schema_response(request).data
        return Response(data=_DOCUMENTS[key],
                        headers={"Content-Disposition": f'inline; filename="{self._get_filename(request, version)}"'})
