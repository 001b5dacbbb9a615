"""Writes for units, users and role grants."""
from __future__ import annotations

from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, models, transaction

from banli.core import access
from banli.core.access import forget_grants
from banli.core.errors import ConflictError, DomainError, PermissionDenied
from banli.core.eventlog import write_event
from banli.organizations.choices import Role, UnitKind
from banli.organizations.models import RoleGrant, Unit, User
from banli.organizations.selectors import normalize_unit_name


@transaction.atomic
def unit_create(*, name: str, kind: str = UnitKind.HANDLING_UNIT, parent: Unit | None = None,
                short_name: str = "", aliases: list[str] | None = None, sort_order: int = 0) -> Unit:
    """Add a unit to the tree; a section must sit under a handling unit."""
    name = (name or "").strip()
    if not name:
        raise DomainError("单位名称不能为空。", field="name")
    if kind == UnitKind.SECTION and (parent is None or parent.kind == UnitKind.SECTION and False):
        raise DomainError("科室必须属于某个承办单位，请选择上级单位。", field="parent")
    if Unit.objects.filter(parent=parent, name=name).exists():
        raise DomainError(f"「{parent or '顶层'}」下已有名为「{name}」的单位。", field="name")
    try:
        unit = Unit.objects.create(
            name=name, kind=kind, parent=parent, short_name=short_name, aliases=aliases or [], sort_order=sort_order
        )
    except IntegrityError as exc:
        raise DomainError(f"单位「{name}」已存在。") from exc
    write_event(verb="unit_create", payload={"unit": unit.pk, "name": name, "kind": kind})
    return unit


USER_MANAGER_MESSAGE = "只有系统管理员才能管理用户账号和角色授权。"


def _require_user_manager(actor) -> None:
    if actor is not None and not access.can_manage_users(actor):
        raise PermissionDenied(USER_MANAGER_MESSAGE)


@transaction.atomic
def user_create(*, username: str, password: str | None, display_name: str = "", phone: str = "",
                email: str = "", must_change_password: bool = False, is_staff: bool = False,
                is_superuser: bool = False, actor=None) -> User:
    """Create an account; a None password creates an account that can only sign in by SSO."""
    _require_user_manager(actor)
    username = (username or "").strip()
    if not username:
        raise DomainError("用户名不能为空。", field="username")
    if User.objects.filter(username=username).exists():
        raise ConflictError(f"用户名「{username}」已被使用。", field="username")
    try:
        with transaction.atomic():
            user = User.objects.create(
                username=username,
                display_name=display_name,
                phone=phone,
                email=email,
                must_change_password=must_change_password,
                is_staff=is_staff or is_superuser,
                is_superuser=is_superuser,
                password=make_password(password) if password else make_password(None),
            )
    except IntegrityError as exc:
        raise ConflictError(f"用户名「{username}」已被使用。", field="username") from exc
    write_event(verb="user_create", actor=actor, payload={"user": user.pk, "username": username})
    return user


@transaction.atomic
def user_update(*, actor, user: User, **fields) -> User:
    """Change an account's name, phone or e-mail, or (de)activate it; a deactivated account signs in nowhere
    and its sessions and tokens stop working (a token is refused for an inactive user)."""
    _require_user_manager(actor)
    allowed = {"display_name", "phone", "email", "is_active"}
    unknown = set(fields) - allowed
    if unknown:
        raise DomainError(f"不能修改这些字段：{'、'.join(sorted(unknown))}。")
    if fields.get("is_active") is False and actor is not None and user.pk == actor.pk:
        raise DomainError("不能停用自己的账号。", field="is_active")
    locked = User.objects.select_for_update().get(pk=user.pk)
    changed = {k: v for k, v in fields.items() if getattr(locked, k) != v}
    if not changed:
        return locked
    before = {k: getattr(locked, k) for k in changed}
    if "is_active" in changed and not changed["is_active"]:
        changed["session_version"] = models.F("session_version") + 1  # end his sessions everywhere
    User.objects.filter(pk=user.pk).update(**changed)
    locked.refresh_from_db()
    verb = "security.user_deactivate" if before.get("is_active") is True else (
        "security.user_activate" if before.get("is_active") is False else "user_update")
    changed.pop("session_version", None)
    write_event(verb=verb, actor=actor, payload={"user": user.pk, "before": {k: str(v) for k, v in before.items()},
                                                  "after": {k: str(v) for k, v in changed.items()}})
    return locked


@transaction.atomic
def role_grant(*, user: User, role: str, unit: Unit | None = None, actor=None, exclusive: bool = False) -> RoleGrant:
    """Give a user a role (scoped to a unit unless proposer or admin); writes a security event.
    `exclusive`: a grant the user already holds is a conflict (the API's create), not quietly the same grant."""
    _require_user_manager(actor)
    if role not in Role.values:
        raise DomainError(f"未知角色「{role}」。")
    if role not in (Role.PROPOSER, Role.ADMIN) and unit is None:
        raise DomainError(f"角色「{Role(role).label}」必须指定所属单位。", field="unit")
    if role in (Role.PROPOSER, Role.ADMIN):
        unit = None
    if exclusive and RoleGrant.objects.filter(user=user, role=role, unit=unit).exists():
        raise ConflictError(f"该用户已有「{Role(role).label}」角色" + (f"（{unit.name}）" if unit else "") + "。",
                            field="role")
    try:
        with transaction.atomic():
            grant, created = RoleGrant.objects.get_or_create(user=user, role=role, unit=unit)
    except IntegrityError as exc:
        raise ConflictError(f"该用户已有「{Role(role).label}」角色。", field="role") from exc
    if exclusive and not created:
        raise ConflictError(f"该用户已有「{Role(role).label}」角色。", field="role")
    if created:
        write_event(verb="security.role_grant", actor=actor, payload={"user": user.pk, "role": role, "unit": unit.pk if unit else None})
    forget_grants(user)
    return grant


@transaction.atomic
def role_revoke(*, grant: RoleGrant, actor=None) -> None:
    """Take a role away; writes a security event."""
    _require_user_manager(actor)
    payload = {"user": grant.user_id, "role": grant.role, "unit": grant.unit_id}
    grant.delete()
    write_event(verb="security.role_revoke", actor=actor, payload=payload)
    forget_grants(grant.user)


@transaction.atomic
def user_password_changed(*, user: User) -> None:
    """The user chose his own password: the first-login obligation is met."""
    if user.must_change_password:
        User.objects.filter(pk=user.pk).update(must_change_password=False)
        user.must_change_password = False
    write_event(verb="security.password_change", actor=user)


@transaction.atomic
def user_sign_out_everywhere(*, user: User) -> User:
    """End every session of the user on every device (the current one must sign in again or be refreshed)."""
    User.objects.filter(pk=user.pk).update(session_version=models.F("session_version") + 1)
    user.refresh_from_db(fields=["session_version"])
    write_event(verb="security.sign_out_everywhere", actor=user)
    return user


@transaction.atomic
def unit_add_alias(*, unit: Unit, alias: str, actor=None) -> Unit:
    """Register another name under which files refer to the unit (e.g. 龙岗区教育局 for 区教育局)."""
    alias = (alias or "").strip()
    if not alias:
        raise DomainError("别名不能为空。", field="aliases")
    if normalize_unit_name(alias) in {normalize_unit_name(a) for a in [unit.name, unit.short_name, *unit.aliases] if a}:
        return unit
    aliases = [*unit.aliases, alias]
    Unit.objects.filter(pk=unit.pk).update(aliases=aliases)
    unit.aliases = aliases
    write_event(verb="unit_alias_add", actor=actor, payload={"unit": unit.pk, "alias": alias})
    return unit
