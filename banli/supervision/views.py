"""督办催办 pages: notification centre, channel settings, item reminders, key items, manual 催办, failed sends.

Views are thin: they read through selectors and access helpers, write through services, and show a
DomainError's message as it is. One view serves the full page and its htmx fragment.
"""
from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from banli.core import access
from banli.core.errors import DomainError
from banli.handling import holidays
from banli.handling import services as handling
from banli.handling.deadlines import Clock
from banli.handling.models import HolidayOverride
from banli.supervision import selectors, services
from banli.supervision.forms import (
    ChannelPreferenceForm,
    HolidayDayForm,
    HolidayNoticeForm,
    SubscriptionForm,
    SupervisionForm,
    SupervisionNoteForm,
    UrgeForm,
)
from banli.supervision.integration import subscribable_verbs
from banli.supervision.models import ChannelPreference, Notification, Supervision


@login_required
def notifications(request):
    page = Paginator(selectors.notifications_for(request.user), 30).get_page(request.GET.get("page"))
    template = "supervision/_notification_list.html" if request.htmx else "supervision/notifications.html"
    return render(request, template, {"page": page, "unread": selectors.unread_count(request.user)})


@login_required
def unread_badge(request):
    return render(request, "supervision/_unread_badge.html", {"unread": selectors.unread_count(request.user)})


@login_required
@require_POST
def notification_read(request, pk=None):
    if pk and not Notification.objects.filter(pk=pk, user=request.user).exists():
        raise Http404("没有这条通知。")  # someone else's notification: do not even confirm it exists
    services.notification_mark_read(user=request.user, notification_ids=[pk] if pk else None)
    if pk:
        note = Notification.objects.filter(pk=pk, user=request.user).first()
        if note and note.link and request.POST.get("go"):
            return redirect(note.link)
    return redirect("supervision:notifications")


@login_required
def preferences(request):
    pref = ChannelPreference.objects.filter(user=request.user).first()
    initial = {"email": pref.email if pref else True, "sms": pref.sms if pref else False,
               "digest": pref.digest if pref else "weekly"}
    form = ChannelPreferenceForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.channel_preference_set(user=request.user, **form.cleaned_data)
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, "通知设置已保存。")
            return redirect("supervision:preferences")
    return render(request, "supervision/preferences.html", {"form": form})


@login_required
def item(request, assignment_id):
    assignment = access.require_assignment(request.user, assignment_id)
    reminders = selectors.reminders_for_assignment(request.user, assignment)[:100]
    supervision = Supervision.objects.filter(proposal=assignment.proposal).first()
    return render(request, "supervision/item.html", {
        "assignment": assignment, "reminders": reminders, "supervision": supervision,
        "is_office": access.is_office_for(request.user, assignment.proposal),
    })


@login_required
def key_items(request):
    return render(request, "supervision/key_items.html", {"items": selectors.key_items(request.user)})


@login_required
def key_item(request, proposal_id):
    proposal = access.require_proposal(request.user, proposal_id)
    supervision = Supervision.objects.filter(proposal=proposal).select_related("leader").first()
    is_office = access.is_office_for(request.user, proposal)
    if supervision is None:
        form = SupervisionForm(request.POST or None) if is_office else None
        if form is not None and request.method == "POST" and form.is_valid():
            try:
                services.supervision_create(actor=request.user, proposal=proposal, **form.cleaned_data)
            except DomainError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(request, "已列为重点督办事项。")
                return redirect("supervision:key_item", proposal_id=proposal.pk)
        return render(request, "supervision/key_designate.html", {"proposal": proposal, "form": form})
    can_note = access.can_note_supervision(request.user, supervision)
    form = SupervisionNoteForm(request.POST or None) if can_note else None
    if form is not None and request.method == "POST" and form.is_valid():
        try:
            services.supervision_note_add(actor=request.user, supervision=supervision, **form.cleaned_data)
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, "督办记录已登记。")
            return redirect("supervision:key_item", proposal_id=proposal.pk)
    assignments = access.visible_assignments(request.user).filter(proposal=proposal).select_related("unit")
    return render(request, "supervision/key_item.html", {
        "proposal": proposal, "supervision": supervision, "notes": supervision.notes.select_related("written_by"),
        "form": form, "assignments": assignments,
    })


@login_required
def urge(request):
    if not access.can_urge(request.user):
        raise Http404("只有交办机构可以催办。")
    unit_id = request.GET.get("unit") or request.POST.get("unit")
    units = selectors.urge_units(request.user)
    choices = selectors.urgeable_assignments(request.user, unit_id) if unit_id else []
    form = UrgeForm(request.POST or None, assignments=choices)
    if request.method == "POST" and form.is_valid():
        try:
            reminders = services.urge_send(actor=request.user, assignments=form.cleaned_data["assignments"],
                                           message=form.cleaned_data["message"])
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, f"已向 {reminders[0].unit} 催办 {len(reminders)} 件事项。")
            return redirect(f"{request.path}?unit={unit_id}")
    template = "supervision/_urge_items.html" if request.htmx else "supervision/urge.html"
    context = {"units": units, "unit_id": str(unit_id or ""), "form": form}
    if not unit_id:
        clock = Clock.now()  # the workbench's clock: overdue and due soon as its lights say
        context.update(overview=selectors.urge_overview(request.user, today=clock.today, warn_until=clock.warn_until),
                       warn_until=clock.warn_until)
    return render(request, template, context)


@login_required
def failed_deliveries(request):
    if not access.can_watch_deliveries(request.user):
        raise Http404("只有交办机构可以查看。")
    page = Paginator(selectors.failed_deliveries(request.user), 50).get_page(request.GET.get("page"))
    return render(request, "supervision/failed_deliveries.html", {"page": page})


@login_required
@require_POST
def delivery_retry(request, pk):
    delivery = access.office_deliveries(request.user).filter(pk=pk).first()
    if delivery is None:
        raise Http404("找不到该消息。")
    try:
        services.delivery_retry(delivery=delivery, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已重新发送。")
    return redirect("supervision:failed_deliveries")


@login_required
def digest(request, pk):
    item = services.require_digest(request.user, pk)
    return render(request, "supervision/digest.html", {"digest": item, "data": item.data})


def _calendar_editor(user) -> None:
    if not access.can_keep_calendar(user):
        raise Http404("只有交办机构可以维护节假日安排。")


def _recount_message(summary: dict) -> str:
    n = summary["recounted"]
    return f"其中 {n} 件事项尚未到期的工作日期限已按新安排重新计算。" if n else "没有需要重新计算的期限。"


@login_required
def holiday_calendar(request):
    """工作日历: the years the calendar package does not know, entered from the State Council's notice."""

    _calendar_editor(request.user)
    today = timezone.localdate()
    missing = holidays.uncovered_years(today)
    try:
        year = int(request.POST.get("year") or request.GET.get("year") or (missing[0] if missing else today.year))
    except ValueError:
        year = today.year
    year = min(max(year, 2000), 2100)
    notice_form, day_form, preview = HolidayNoticeForm(initial={"year": year}), HolidayDayForm(), None
    action = request.POST.get("action") if request.method == "POST" else None
    try:
        if action in ("preview", "save"):
            notice_form = HolidayNoticeForm(request.POST)
            if notice_form.is_valid():
                year = notice_form.cleaned_data["year"]
                days = holidays.parse_notice(year, notice_form.cleaned_data["notice"])
                if action == "preview":
                    preview = days
                else:
                    summary = handling.holiday_year_set(year=year, days=days, actor=request.user)
                    messages.success(request, f"已保存{year}年节假日安排：放假 {summary['holidays']} 天，调休上班 "
                                              f"{summary['workdays']} 天。{_recount_message(summary)}")
                    return redirect(f"{request.path}?year={year}")
        elif action == "day":
            day_form = HolidayDayForm(request.POST)
            if day_form.is_valid():
                d = day_form.cleaned_data
                summary = handling.holiday_day_set(date=d["date"], is_workday=d["is_workday"], name=d["name"],
                                                   actor=request.user)
                messages.success(request, f"已录入 {d['date']:%Y年%-m月%-d日}（{'上班' if d['is_workday'] else '放假'}）。"
                                          f"{_recount_message(summary)}")
                return redirect(f"{request.path}?year={d['date'].year}")
        elif action == "delete":
            try:
                day = dt.date.fromisoformat(request.POST.get("date", ""))
            except ValueError:
                raise DomainError("日期格式不正确。") from None
            summary = handling.holiday_day_delete(date=day, actor=request.user)
            messages.success(request, f"已删除 {day:%Y年%-m月%-d日}。{_recount_message(summary)}")
            return redirect(f"{request.path}?year={day.year}")
    except DomainError as exc:
        if exc.field == "notice":
            notice_form.add_error("notice", exc.message)
        elif action == "day" and exc.field in day_form.fields:
            day_form.add_error(exc.field, exc.message)
        else:
            messages.error(request, exc.message)
    entered = list(HolidayOverride.objects.filter(date__year=year))
    return render(request, "supervision/holiday_calendar.html", {
        "year": year, "covered": holidays.package_covers(year), "missing": missing, "entered": entered,
        "package_days": holidays.package_days(year) if holidays.package_covers(year) else [],
        "notice_form": notice_form, "day_form": day_form, "preview": preview,
        "preview_holidays": sum(not d.is_workday for d in preview or ()),
        "preview_workdays": sum(d.is_workday for d in preview or ()),
    })


# --- integrators' event subscriptions (出站推送) ----------------------------------------------------


def _subscription_offices(user):
    offices = access.subscription_offices(user)
    if not offices:
        raise Http404("只有交办机构或系统管理员可以设置事件推送。")
    return offices


@login_required
def subscriptions(request):
    """The list of subscriptions and the form for a new one."""
    offices = _subscription_offices(request.user)
    form = SubscriptionForm(request.POST or None, offices=offices, verbs=subscribable_verbs())
    if request.method == "POST" and form.is_valid():
        by_key = {"" if o is None else str(o.pk): o for o in offices}
        try:
            subscription, secret = services.subscription_create(
                actor=request.user, office=by_key[form.cleaned_data["office"]], name=form.cleaned_data["name"],
                url=form.cleaned_data["url"], verbs=form.cleaned_data["verbs"], secret=form.cleaned_data["secret"],
            )
        except DomainError as exc:
            form.add_error(getattr(exc, "field", None) if getattr(exc, "field", None) in form.fields else None,
                           exc.message)
        else:
            messages.success(request, f"已添加推送订阅「{subscription.name}」。签名密钥（只显示这一次，请妥善保存）：{secret}")
            return redirect("supervision:subscription", pk=subscription.pk)
    return render(request, "supervision/subscriptions.html",
                  {"form": form, "rows": selectors.subscriptions(request.user)})


@login_required
def subscription(request, pk):
    """One subscription: change it, pause it, give it a new secret, and read its delivery log."""
    sub = access.require_subscription(request.user, pk)
    initial = {"name": sub.name, "url": sub.url, "verbs": sub.verbs}
    form = SubscriptionForm(request.POST or None, initial=initial, verbs=subscribable_verbs(), editing=True)
    if request.method == "POST":
        what = request.POST.get("do", "save")
        try:
            if what == "save":
                if not form.is_valid():
                    raise DomainError("请检查填写的内容。")
                sub, _ = services.subscription_update(subscription=sub, actor=request.user, **form.cleaned_data)
                messages.success(request, "已保存。")
            elif what in ("pause", "resume"):
                sub, _ = services.subscription_update(subscription=sub, actor=request.user, is_active=what == "resume")
                messages.success(request, "已启用。" if sub.is_active else "已停用，停用期间的事件不再推送。")
            elif what == "secret":
                sub, secret = services.subscription_update(subscription=sub, actor=request.user, new_secret=True)
                messages.success(request, f"已生成新的签名密钥（只显示这一次，请妥善保存）：{secret}")
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            return redirect("supervision:subscription", pk=sub.pk)
    page = Paginator(selectors.subscription_deliveries(sub), 50).get_page(request.GET.get("page"))
    labels = subscribable_verbs()
    return render(request, "supervision/subscription.html", {
        "sub": sub, "form": form, "page": page, "verb_labels": [labels.get(v, v) for v in sub.verbs],
    })
