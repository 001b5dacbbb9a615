"""Units (a tree of assigning offices, handling units and sections), users and their roles."""
from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.crypto import salted_hmac

from banli.organizations.choices import Role, UnitKind


class Unit(models.Model):
    """A node of the unit tree: an assigning office, a handling unit or a section inside one."""

    name = models.CharField("名称", max_length=100)
    short_name = models.CharField("简称", max_length=50, blank=True)
    aliases = models.JSONField("别名", default=list, blank=True, help_text="导入时可识别的其他名称")
    kind = models.CharField("类型", max_length=20, choices=UnitKind.choices, default=UnitKind.HANDLING_UNIT)
    parent = models.ForeignKey(
        "self", verbose_name="上级", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    # Materialised path "/1/5/12/" so that "this unit and everything below it" is one indexed prefix query.
    path = models.CharField(max_length=255, db_index=True, editable=False, default="")
    code = models.CharField("代码", max_length=50, blank=True)
    is_active = models.BooleanField("启用", default=True)
    sort_order = models.IntegerField("排序", default=0)

    class Meta:
        verbose_name = "单位"
        verbose_name_plural = "单位"
        ordering = ["sort_order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="unit_unique_name_per_parent"),
            models.UniqueConstraint(
                fields=["name"], condition=Q(parent__isnull=True), name="unit_unique_root_name"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        path = (self.parent.path if self.parent_id else "/") + f"{self.pk}/"
        if path != self.path:
            self.path = path
            Unit.objects.filter(pk=self.pk).update(path=path)

    def is_within(self, other: "Unit") -> bool:
        """True when this unit is `other` or lies below it."""
        return self.path.startswith(other.path)

    @property
    def handling_unit(self) -> "Unit":
        """The handling unit a section belongs to (itself for a unit)."""
        unit = self
        while unit.kind == UnitKind.SECTION and unit.parent_id:
            unit = unit.parent
        return unit


class User(AbstractUser):
    """A person who signs in: office staff, handler, leader, proposer or administrator."""

    display_name = models.CharField("姓名", max_length=50, blank=True)
    phone = models.CharField("手机", max_length=30, blank=True)
    must_change_password = models.BooleanField("首次登录须改密码", default=False)
    # Bumped by "sign out on all devices": every session made before carries a stale auth hash.
    session_version = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"

    def get_session_auth_hash(self):
        return salted_hmac(
            "banli.organizations.User.get_session_auth_hash",
            f"{self.password}:{self.session_version}",
            algorithm="sha256",
        ).hexdigest()

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def label(self) -> str:
        return self.display_name or self.username


class RoleGrant(models.Model):
    """One role a user holds, scoped to a unit (except proposer and admin, which need none)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="grants", verbose_name="用户")
    role = models.CharField("角色", max_length=20, choices=Role.choices)
    unit = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="grants", verbose_name="单位"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "角色授权"
        verbose_name_plural = "角色授权"
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "unit"], name="rolegrant_unique_user_role_unit"),
            models.CheckConstraint(
                condition=Q(role__in=[Role.PROPOSER, Role.ADMIN]) | Q(unit__isnull=False),
                name="rolegrant_unit_required_for_scoped_roles",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()}" + (f" · {self.unit}" if self.unit_id else "")
