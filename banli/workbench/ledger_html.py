"""The ledger table's rows (and the notification centre's entries) as HTML, made in Python: the same markup the
template wrote, at a fraction of the cost.

Fifty rows of a dozen template variables each (a URL reversed per row, filters, a choice label) were most of the
ledger page's Python time at a million assignments; the page now costs about what its queries cost. Every text is
escaped here (banli.core.html.escape, the same as django.utils.html.escape); the template receives one safe string.
"""
from __future__ import annotations

from django.urls import reverse
from banli.core.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator

_PLACEHOLDER = 987654321


def _proposal_url_parts() -> tuple[str, str]:
    """The item page's URL around its id, reversed once for all rows."""
    return tuple(reverse("workbench:proposal", args=[_PLACEHOLDER]).split(str(_PLACEHOLDER), 1))


def rows_html(rows) -> SafeString:
    """<tr> elements for decorated ledger rows (selectors.decorate), or the empty-list row."""
    if not rows:
        return mark_safe('<tr><td colspan="8" class="text-body-secondary p-3">没有符合条件的事项。</td></tr>')
    before, after = _proposal_url_parts()
    out = []
    for r in rows:
        proposal, unit, handler = r.proposal, r.unit, r.handler
        due = r.due.isoformat() if r.due else "—"
        badges = ' <span class="badge text-bg-danger" data-key-item>重点</span>' if r.key_item else ""
        if proposal.merged_with_id:
            badges += ' <span class="badge text-bg-warning" data-merged="item" title="并入件：与主件合并办理、分别答复">并案</span>'
        elif getattr(r, "merge_head", False):
            badges += ' <span class="badge text-bg-warning" data-merged="head" title="主件：有其他事项并入本件">并案</span>'
        unit_name, role = escape(unit.name), escape(r.get_role_display())
        reply_class = getattr(r, "reply_class", None)
        unsatisfied = ""
        if getattr(r, "unsatisfied_label", ""):
            unsatisfied = (f'<div class="small text-danger" data-unsatisfied-outcome="{escape(r.unsatisfied_outcome)}">'
                           f'首轮不满意 · {escape(r.unsatisfied_label)}</div>')
        out.append(
            f'<tr data-light="{r.light}">'
            f'<td class="text-nowrap"><span class="light light-{r.light}" title="{escape(r.light_label)}"></span> {due}</td>'
            f'<td class="text-nowrap"><a href="{before}{r.proposal_id}{after}#assignment-{r.pk}">{escape(proposal.number)}</a></td>'
            f'<td class="ledger-title">{escape(proposal.title)}{badges}'
            f'<div class="d-sm-none small text-body-secondary">{unit_name}（{role}）</div></td>'
            f'<td class="d-none d-md-table-cell small">{escape(proposal.session.name)}</td>'
            f'<td class="d-none d-sm-table-cell">{unit_name}<span class="text-body-secondary small">（{role}）</span></td>'
            f'<td class="d-none d-lg-table-cell small">{escape(handler.label) if handler else ""}</td>'
            f'<td><span class="badge text-bg-{r.state_css}">{escape(r.state_text)}</span>{unsatisfied}</td>'
            f'<td class="d-none d-md-table-cell">{escape(reply_class) if reply_class else ""}</td>'
            "</tr>")
    return mark_safe("\n".join(out))  # noqa: S308 - every value above is escaped


def assignment_rows_html(rows) -> SafeString:
    """<tr> elements for a workbench list (templates/workbench/_assignment_rows.html), made the same way as the
    ledger's: the home page shows up to seven lists of fifty rows, and as template variables they cost more than
    the lists' queries. A row's `next_step` (the handler's list) adds a column."""
    if not rows:
        return mark_safe('<tr><td colspan="5" class="text-body-secondary">暂无。</td></tr>')
    before, after = _proposal_url_parts()
    out = []
    for r in rows:
        proposal, handler = r.proposal, r.handler
        due = r.due.isoformat() if r.due else "—"
        light_label = escape(r.light_label)
        key = ' <span class="badge text-bg-danger" data-key-item>重点</span>' if r.key_item else ""
        handler_html = f'<div class="small text-body-secondary">{escape(handler.label)}</div>' if handler else ""
        round_html = f' <span class="small text-body-secondary">第{r.round}轮</span>' if r.round > 1 else ""
        next_step = getattr(r, "next_step", None)
        step_html = f'<td class="d-none d-md-table-cell small">{escape(next_step)}</td>' if next_step is not None else ""
        out.append(
            f'<tr data-light="{r.light}">'
            f'<td class="text-nowrap"><span class="light light-{r.light}" title="{light_label}"></span> {due}'
            f'<span class="visually-hidden">{light_label}</span></td>'
            f'<td><a href="{before}{r.proposal_id}{after}#assignment-{r.pk}">第{escape(proposal.number)}号</a> '
            f'{escape(proposal.title)}{key}</td>'
            f'<td class="d-none d-md-table-cell">{escape(r.unit.name)}<span class="text-body-secondary">'
            f'（{escape(r.get_role_display())}）</span>{handler_html}</td>'
            f'<td><span class="badge text-bg-{r.state_css}">{escape(r.state_text)}</span>{round_html}</td>'
            f'{step_html}</tr>')
    return mark_safe("\n".join(out))  # noqa: S308 - every value above is escaped


def notice_groups_html(groups) -> SafeString:
    """The notification centre's entries (selectors.NoticeGroup): one link per item and day with its events' lines
    (time, who and which unit, what and why), or the empty-list line. A centre of 100 groups and 500 events spent
    most of its template time here."""
    if not groups:
        return mark_safe('<div class="list-group-item text-body-secondary">暂无通知。</div>')
    before, after = _proposal_url_parts()
    out = []
    for g in groups:
        item = g.proposal
        href = f"{before}{item.pk}{after}" if item else "#"
        new = '<span class="badge text-bg-danger me-1">新</span>' if g.unread else ""
        title = f"第{escape(item.number)}号 {escape(item.title)}" if item else "系统"
        lines = []
        for e in g.events:
            unit = f"（{escape(e.unit_name)}）" if e.unit_id else ""
            reason = f"（{escape(Truncator(e.reason).chars(40))}）" if e.reason else ""
            lines.append(f"<li>{escape(e.time)} {escape(e.actor_label or '系统')}{unit}：{escape(e.verb_label)}{reason}</li>")
        out.append(
            f'<a class="list-group-item list-group-item-action{" fw-semibold" if g.unread else ""}" data-notice-group '
            f'href="{href}">\n  <div class="d-flex justify-content-between flex-wrap gap-2"><span>{new}{title}</span>'
            f'<span class="small text-body-secondary">{g.day.isoformat()}</span></div>\n'
            f'  <ul class="small text-body-secondary mb-0 ps-3">{"".join(lines)}</ul>\n</a>')
    return mark_safe("\n".join(out))  # noqa: S308 - every text escaped above
