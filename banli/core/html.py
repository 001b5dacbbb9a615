"""HTML escaping for markup written in Python (the ledger's rows and filter menus): one page calls it a thousand
times, and django.utils.html.escape's lazy-string wrapper cost more than the escaping. Same output: the five
characters & < > " ' as Django writes them (it calls the same html.escape)."""
from __future__ import annotations

from html import escape as _escape


def escape(text) -> str:
    """django.utils.html.escape's result as a plain str (mark the whole fragment safe once, at the end)."""
    return _escape(str(text))
