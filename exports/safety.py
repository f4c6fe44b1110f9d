"""Spreadsheet (CSV/formula) injection guard.

A text that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return can be read by
Excel or LibreOffice as a formula (OWASP "CSV injection"). School names, notes and findings come
from outside (the city database, users), so every text cell goes through here:
- XLSX: the value is stored as a string cell (never a formula) with the "quote prefix" style,
  so even editing the cell in Excel does not turn it into a formula;
- CSV: there is no cell type, so such a text gets a leading apostrophe (what Excel itself shows
  for a quote-prefixed cell).
"""
from __future__ import annotations

DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def is_dangerous(text) -> bool:
    return isinstance(text, str) and text.startswith(DANGEROUS_PREFIXES)


def csv_safe(value):
    """The value to write in a CSV field."""
    if is_dangerous(value):
        return "'" + value
    return value
