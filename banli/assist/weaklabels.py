"""Routing labels read from a published reply: the kinds of department it names, the first as the lead.

The citizen-message files have no unit field; about half the replies name a department, so a routing model
measured on these labels is measured on noisy labels (a lower bound of what a real assignment history gives).
"""
from __future__ import annotations

import re

DEPARTMENT_KINDS = [
    ("教育局", "教育"), ("住房和城乡建设|住建", "住建"), ("交通运输局|交通局|交通运输部门", "交通"),
    ("人力资源和社会保障|人社", "人社"), ("交警|公安", "公安"), ("城市管理|城管", "城管"),
    ("卫生健康|卫健|卫计|卫生局", "卫健"), ("生态环境|环境保护局|环保局", "生态环境"),
    ("自然资源|国土|规划局", "自然资源和规划"), ("市场监督管理|市场监管|工商局|食品药品", "市场监管"),
    ("民政局", "民政"), ("住房保障|房屋交易|房产局|住房公积金", "住房保障"), ("街道办事处|街道办", "街道"),
    ("镇人民政府|镇政府", "乡镇"), ("水利局|水务", "水务"), ("医保", "医保"), ("文化旅游|文旅|旅游局", "文旅"),
    ("发展和改革|发改", "发改"), ("税务", "税务"),
]


def reply_departments(reply: str) -> list[str]:
    """Kinds of department named in a reply, in order of first mention."""
    found = []
    for pattern, kind in DEPARTMENT_KINDS:
        m = re.search(pattern, reply)
        if m:
            found.append((m.start(), kind))
    return [kind for _, kind in sorted(found)]




def routing_rows(rows: list[dict]) -> list[dict]:
    """Rows {title, content, units} for the routing model: a row's own `units` (lead first) when it has them,
    else the departments its `reply` names; rows with neither are left out."""
    out = []
    for r in rows:
        units = r.get("units") or reply_departments(r.get("reply") or "")
        units = [u if isinstance(u, str) else u.get("name", "") for u in units]
        units = [u for u in dict.fromkeys(units) if u]
        if units:
            out.append({"title": r.get("title") or "", "content": r.get("content") or r.get("body") or "", "units": units})
    return out
