"""Admin for units, users and role grants (configuration: editable, role changes through the services)."""
from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from banli.organizations import services
from banli.organizations.models import RoleGrant, Unit, User


class ChildUnitInline(admin.TabularInline):
    model = Unit
    fk_name = "parent"
    fields = ("name", "short_name", "kind", "is_active", "sort_order")
    readonly_fields = ("name", "short_name", "kind", "is_active", "sort_order")
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name = "下级单位/科室"
    verbose_name_plural = "下级单位/科室"

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ("name", "short_name", "kind", "parent", "code", "is_active", "sort_order")
    list_filter = ("kind", "is_active")
    search_fields = ("name", "short_name", "code", "aliases")
    list_select_related = ("parent",)
    autocomplete_fields = ("parent",)
    inlines = [ChildUnitInline]
    ordering = ("path",)

    def get_readonly_fields(self, request, obj=None):
        # Moving a unit would leave the materialised paths of its subtree stale.
        return ("parent", "kind") if obj is not None else ()

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        created = services.unit_create(
            name=obj.name, kind=obj.kind, parent=obj.parent, short_name=obj.short_name,
            aliases=obj.aliases or [], sort_order=obj.sort_order,
        )
        obj.pk = created.pk
        obj.path = created.path

    def has_delete_permission(self, request, obj=None):
        return False  # deactivate instead: assignments and grants point here


class RoleGrantInline(admin.TabularInline):
    model = RoleGrant
    fields = ("role", "unit", "created_at")
    readonly_fields = ("role", "unit", "created_at")
    extra = 0
    can_delete = False
    verbose_name_plural = "角色（在“角色授权”中增删）"

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "display_name", "phone", "email", "roles", "is_active", "is_staff", "last_login")
    list_filter = ("is_active", "is_staff", "is_superuser", "grants__role")
    search_fields = ("username", "display_name", "phone", "email")
    ordering = ("username",)
    inlines = [RoleGrantInline]
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("个人信息", {"fields": ("display_name", "phone", "email", "must_change_password")}),
        ("权限", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("时间", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "display_name", "phone", "password1", "password2")}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("grants")

    @admin.display(description="角色")
    def roles(self, obj):
        return "、".join(sorted({g.get_role_display() for g in obj.grants.all()}))


@admin.register(RoleGrant)
class RoleGrantAdmin(admin.ModelAdmin):
    """Grants are added and revoked through the services, which write a security event; never edited."""

    list_display = ("user", "role", "unit", "created_at")
    list_filter = ("role",)
    search_fields = ("user__username", "user__display_name", "unit__name")
    list_select_related = ("user", "unit")
    autocomplete_fields = ("user", "unit")

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        grant = services.role_grant(user=obj.user, role=obj.role, unit=obj.unit, actor=request.user)
        obj.pk = grant.pk

    def delete_model(self, request, obj):
        services.role_revoke(grant=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for grant in queryset:
            services.role_revoke(grant=grant, actor=request.user)
