"""Write the bad-input corpus to a folder: one sub-folder per case holding the extract (a folder
or a .zip) and EXPECTED.txt, plus INDEX.md listing every case and its expected outcome.

    python -m tests.corpus.make_corpus OUT

The corpus is generated, never committed: the cases (tests/corpus/cases.py) are the source.
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

from tests.corpus.cases import CASES, Case, Imported, Refused


def describe(c: Case) -> str:
    e = c.expect
    if isinstance(e, Refused):
        where = ", ".join(f"{k}={v}" for k, v in (("file", e.file), ("row", e.row), ("column", e.column)) if v)
        return f"REFUSED ({where}) message contains: " + " | ".join(e.fragments)
    assert isinstance(e, Imported)
    rows = ", ".join(f"{k}={v}" for k, v in e.rows.items())
    fnd = ", ".join(f"{r}@{k}" for r, k in sorted(e.findings)) or "none"
    return f"IMPORTED rows {rows}; findings (student/report entities): {fnd}"


def build_case(c: Case, out: Path) -> Path:
    """The case's extract under out/<id>/; returns the path to give to the importer."""
    d = out / c.id
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    return c.build(d / "extract")


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m tests.corpus.make_corpus OUT", file=sys.stderr)
        return 2
    out = Path(argv[0])
    out.mkdir(parents=True, exist_ok=True)
    lines = ["# Bad-input corpus of the importer", "",
             "| case | group | extract | expected | description |", "|---|---|---|---|---|"]
    for c in CASES:
        path = build_case(c, out)
        rel = path.relative_to(out)
        (out / c.id / "EXPECTED.txt").write_text(f"{c.description}\n\n{describe(c)}\n", encoding="utf-8")
        lines.append(f"| {c.id} | {c.group} | `{rel}` | {describe(c).replace('|', '/')} | {c.description} |")
    (out / "INDEX.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    n_ref = sum(isinstance(c.expect, Refused) for c in CASES)
    print(f"{len(CASES)} cases written to {out} ({len(CASES) - n_ref} imported, {n_ref} refused)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
