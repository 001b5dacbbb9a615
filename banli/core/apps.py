from django.apps import AppConfig, apps

# Third-party apps the administrator meets in the admin, named in Chinese (their packages ship no zh-hans
# names: the admin read "AXES / Access attempts" and "OTP_TOTP / TOTP devices").
THIRD_PARTY_NAMES = {
    "axes": ("登录失败锁定", {
        "AccessAttempt": ("登录失败记录", "登录失败记录"),
        "AccessFailureLog": ("登录失败日志", "登录失败日志"),
        "AccessLog": ("登录日志", "登录日志"),
        "AccessAttemptExpiration": ("登录锁定期限", "登录锁定期限"),
    }),
    "otp_totp": ("动态验证码", {"TOTPDevice": ("动态验证码设备", "动态验证码设备")}),
    "authtoken": ("接口令牌", {"Token": ("接口令牌", "接口令牌"), "TokenProxy": ("接口令牌", "接口令牌")}),
}


def name_third_party_apps_in_chinese() -> None:
    for label, (app_name, models) in THIRD_PARTY_NAMES.items():
        try:
            config = apps.get_app_config(label)
        except LookupError:
            continue
        config.verbose_name = app_name
        for model_name, (singular, plural) in models.items():
            try:
                model = config.get_model(model_name)
            except LookupError:
                continue
            model._meta.verbose_name = singular
            model._meta.verbose_name_plural = plural


class CoreConfig(AppConfig):
    name = "banli.core"
    verbose_name = "公共"

    def ready(self):
        from banli.core import security  # noqa: F401  (connects the security-event signal receivers)
        from banli.core import sessions  # noqa: F401  (a new session counts as saved at sign-in)

        name_third_party_apps_in_chinese()
