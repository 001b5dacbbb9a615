"""The OpenAPI document agrees with what the API does: every operation declares the error answers it may give
(all with the one error body), and ids, pages and page sizes carry their bounds."""
from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers

from banli.api.errors import ERROR_DESCRIPTIONS
from banli.api.serializers import NO_NUL_PATTERN, NOT_BLANK_PATTERN, ErrorSerializer

POSITIVE_ID = {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}


class BanliAutoSchema(AutoSchema):
    """drf-spectacular's schema plus the error answers every operation may give."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code, description in ERROR_DESCRIPTIONS.items():
            key = str(code)
            if key not in responses:
                responses[key] = self._get_response_for_code(ErrorSerializer, key, direction=direction)
                responses[key]["description"] = description
        return responses

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        result = super()._map_serializer_field(field, direction, bypass_extensions)
        if direction == "request" and isinstance(field, serializers.IntegerField) and isinstance(result, dict):
            # The database's integers: DRF refuses what does not fit.
            result.setdefault("maximum", field.max_value if field.max_value is not None else 2**63 - 1)
            result.setdefault("minimum", field.min_value if field.min_value is not None else -(2**63))
        # DRF refuses NUL characters (the database cannot keep them) and trims a text field before checking it
        # is not blank: all blanks is as empty as "".
        if (direction == "request" and isinstance(field, serializers.CharField) and isinstance(result, dict)
                and result.get("type") == "string" and "format" not in result):
            blank_ok = field.allow_blank or not field.trim_whitespace
            result.setdefault("pattern", NO_NUL_PATTERN if blank_ok else NOT_BLANK_PATTERN)
        return result

    def _get_pagination_parameters(self):
        parameters = super()._get_pagination_parameters()
        for parameter in parameters:
            if parameter.get("name") == "page":
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": 2**31}
            elif parameter.get("name") == "page_size":
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": 500}
        return parameters
