"""Errors of the import: one exception for "this extract is refused as a whole".

Why one class with file/row/column attributes: the CLI prints the message (Vietnamese first,
English in brackets) and exits non-zero; a page can show the same text and point at the cell.
The store is never changed when it is raised.
"""
from __future__ import annotations


class ExtractError(Exception):
    """The extract is refused. ``str(e)`` is the full bilingual message."""

    def __init__(self, message: str, file: str | None = None, row: int | None = None,
                 column: str | None = None):
        super().__init__(message)
        self.message = message
        self.file = file
        self.row = row
        self.column = column

    def __str__(self) -> str:  # the message only: it already names file, row and column
        return self.message
