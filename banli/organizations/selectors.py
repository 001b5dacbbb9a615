"""Reads for units and users."""
from __future__ import annotations

import re
import unicodedata

from banli.core import access
from banli.core.errors import DomainError
from banli.organizations.choices import UnitKind
from banli.organizations.models import Unit

_PUNCT = re.compile(r"[\s\u3000()（）\[\]【】<>《》\"'“”‘’,，.。、;；:：\-—_/]+")


def normalize_unit_name(name: str) -> str:
    """Fold full-width/half-width forms and drop punctuation and spaces, for matching names from files."""
    return _PUNCT.sub("", unicodedata.normalize("NFKC", name or "")).lower()


def handling_units():
    return Unit.objects.filter(kind=UnitKind.HANDLING_UNIT, is_active=True)


def unit_candidates(name: str, *, kinds=(UnitKind.HANDLING_UNIT, UnitKind.ASSIGNING_OFFICE)) -> list[Unit]:
    """Units whose name, short name or alias matches `name` after normalisation (exact first, then suffix)."""
    key = normalize_unit_name(name)
    if not key:
        return []
    units = list(Unit.objects.filter(kind__in=kinds, is_active=True))
    exact = [
        u for u in units
        if key in {normalize_unit_name(n) for n in [u.name, u.short_name, *(u.aliases or [])] if n}
    ]
    if exact:
        return exact
    # "教育局" for "龙岗区教育局": accept a unique unit whose name ends with the given text.
    return [u for u in units if normalize_unit_name(u.name).endswith(key) and len(key) >= 2]


def resolve_unit(name: str) -> Unit:
    """The one unit meant by `name`; a Chinese error when none or several match."""
    found = unit_candidates(name)
    if not found:
        raise DomainError(f"找不到单位「{name}」，请检查名称，或先在单位管理中添加该单位（也可为其登记别名）。")
    if len(found) > 1:
        names = "、".join(u.name for u in found)
        raise DomainError(f"单位「{name}」不能唯一确定，可能是：{names}。请写全称。")
    return found[0]


class UnitMatch:
    """How a name from a file matched the unit tree: `unit` when sure, else the `candidates` to ask about."""

    def __init__(self, name: str, unit=None, candidates=()):
        self.name = name
        self.unit = unit
        self.candidates = list(candidates)

    @property
    def sure(self) -> bool:
        return self.unit is not None


def unit_match(name: str, units=None, *, kinds=(UnitKind.HANDLING_UNIT,)) -> UnitMatch:
    """Match a unit name from a file: sure on an exact name, short name or alias (full/half-width and
    punctuation folded); otherwise the units whose name is contained in it or contains it, to ask about
    (e.g. 龙岗区教育局 → 区教育局 asks, unless 龙岗区教育局 is a registered alias)."""
    key = normalize_unit_name(name)
    if not key:
        return UnitMatch(name)
    if units is None:
        units = list(Unit.objects.filter(kind__in=kinds, is_active=True))
    exact = [u for u in units if key in _unit_keys(u)]
    if len(exact) == 1:
        return UnitMatch(name, unit=exact[0])
    if exact:
        return UnitMatch(name, candidates=exact)
    near = [
        u for u in units
        if any(len(k) >= 2 and (key.endswith(k) or k.endswith(key) or k in key) for k in _unit_keys(u))
    ]
    return UnitMatch(name, candidates=near)


def _unit_keys(unit) -> set[str]:
    return {normalize_unit_name(n) for n in [unit.name, unit.short_name, *(unit.aliases or [])] if n}


def sections_of(unit: Unit):
    return Unit.objects.filter(parent=unit, kind=UnitKind.SECTION, is_active=True)


def handlers_of(unit: Unit):
    """Users holding the handler role in the unit or one of its sections."""
    return access.handler_users(unit, active_only=True)
