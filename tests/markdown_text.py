"""What a reader sees of a Markdown element's source: values from URLs, imports and users are
escaped (data_access.formatting.md, issue 13 finding 3), so a test that looks for a message's
words reads the element through ``shown``."""
from __future__ import annotations

import re


def shown(s: str) -> str:
    """The text as rendered: a backslash-escaped punctuation character shows as itself, the
    invisible word joiner (U+2060) shows as nothing."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", s).replace("\u2060", "")
