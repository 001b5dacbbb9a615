"""The API request bodies of the actions. They clean to the shape the registry's call takes (the same shape
the page forms give): ids of units and users become the objects, `submit_reply` always submits."""
from __future__ import annotations

from rest_framework import serializers

from banli.core.errors import NotFound
from banli.handling.choices import ContactMethod, ContactPhase
from banli.organizations.models import Unit, User
from banli.replies.choices import Disclosure, Rating

ID = {"min_value": 1, "max_value": 2**63 - 1}


def _unit(pk, field):
    unit = Unit.objects.filter(pk=pk).first()
    if unit is None:
        raise NotFound(f"找不到编号为 {pk} 的单位。", field=field)
    return unit


def _user(pk, field):
    user = User.objects.filter(pk=pk, is_active=True).first()
    if user is None:
        raise NotFound(f"找不到编号为 {pk} 的用户。", field=field)
    return user


class EmptySerializer(serializers.Serializer):
    pass


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class RequestAdjustmentSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=5000)
    suggested_unit = serializers.IntegerField(required=False, allow_null=True, **ID)

    def validate(self, data):
        pk = data.get("suggested_unit")
        data["suggested_unit"] = _unit(pk, "suggested_unit") if pk else None
        return data


class DecideAdjustmentSerializer(serializers.Serializer):
    approve = serializers.BooleanField()
    new_unit = serializers.IntegerField(required=False, allow_null=True, help_text="同意时必填：新的承办单位", **ID)
    reason = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")

    def validate(self, data):
        pk = data.get("new_unit")
        data["new_unit"] = _unit(pk, "new_unit") if pk is not None else None
        return data


class AssignHandlerSerializer(serializers.Serializer):
    section = serializers.IntegerField(**ID)
    handler = serializers.IntegerField(required=False, allow_null=True, **ID)
    co_sections = serializers.ListField(child=serializers.IntegerField(**ID), required=False, default=list, max_length=50)

    def validate(self, data):
        data["section"] = _unit(data["section"], "section")
        data["handler"] = _user(data["handler"], "handler") if data.get("handler") is not None else None
        data["co_sections"] = [_unit(pk, "co_sections") for pk in data.get("co_sections") or []]
        return data


class LogContactSerializer(serializers.Serializer):
    phase = serializers.ChoiceField(choices=ContactPhase.choices)
    method = serializers.ChoiceField(choices=ContactMethod.choices)
    contacted_on = serializers.DateField()
    people = serializers.CharField(max_length=300)
    summary = serializers.CharField(max_length=20_000)


class CoOpinionSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=200_000)
    contact_person = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    contact_phone = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")


class SubmitReplySerializer(serializers.Serializer):
    """Submit the current draft; with `body`, save it as a new draft version first."""

    body = serializers.CharField(max_length=200_000, required=False)
    reply_class = serializers.CharField(max_length=4, required=False, allow_blank=True)
    disclosure = serializers.ChoiceField(choices=Disclosure.choices, required=False)
    disclosure_reason = serializers.CharField(max_length=200, required=False, allow_blank=True)
    public_summary = serializers.CharField(max_length=20_000, required=False, allow_blank=True)
    contact_person = serializers.CharField(max_length=50, required=False, allow_blank=True)
    contact_phone = serializers.CharField(max_length=30, required=False, allow_blank=True)

    def validate(self, data):
        data["submit"] = True
        return data


class ReviewReplySerializer(serializers.Serializer):
    approve = serializers.BooleanField()
    reason = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    checklist = serializers.DictField(required=False, default=dict)


class SignOffCoOpinionSerializer(serializers.Serializer):
    approve = serializers.BooleanField()
    reason = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class RateSerializer(serializers.Serializer):
    attitude = serializers.ChoiceField(choices=Rating.choices)
    result = serializers.ChoiceField(choices=Rating.choices)
    comment = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class RequestExtensionSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=5000)
    requested_due = serializers.DateField()


class DecideExtensionSerializer(serializers.Serializer):
    approve = serializers.BooleanField()
    approved_due = serializers.DateField(required=False, allow_null=True)
    note = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class AddCommitmentSerializer(serializers.Serializer):
    description = serializers.CharField(max_length=5000)
    target_date = serializers.DateField()


class CompleteCommitmentSerializer(serializers.Serializer):
    commitment = serializers.IntegerField(**ID)
    note = serializers.CharField(max_length=5000)
