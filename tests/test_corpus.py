"""The bad-input corpus (tests/corpus/cases.py): every hostile extract is either imported with
exactly the expected rows, values and findings, or refused with a bilingual message naming what
the case says — never a crash (any exception but ExtractError fails), never a half-written
snapshot (snapshots/ unchanged after a refusal), never leftovers in tmp/.

Each case imports into a copy of a store that already holds one snapshot, so "unchanged" is
tested against a non-empty store."""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from data_access import engine
from data_access.campaign import load_campaign
from data_access.errors import ExtractError
from data_access.ingest import ingest
from tests.corpus.cases import AS_OF, CASES, Imported, Refused, write_extract

VIETNAMESE = re.compile("[àáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ]", re.I)


@pytest.fixture(scope="module")
def template_store(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("corpus-template")
    ex = write_extract(base / "ex", manifest='as_of = 2022-04-20T17:00:00+07:00\n')
    ingest(ex, base / "store")
    return base / "store"


@pytest.fixture(scope="module")
def campaign():
    return load_campaign(None)


def listing(d: Path) -> list[str]:
    if not d.exists():
        return []
    return sorted(str(p.relative_to(d)) for p in d.rglob("*"))


def findings(path: str, campaign) -> set[tuple[str, str]]:
    con = engine.open_snapshot(path, campaign, upto="findings", threads=1)
    try:
        rows = con.execute("SELECT rule_id, record_key FROM findings "
                           "WHERE entity NOT IN ('score', 'term_summary')").fetchall()
    finally:
        con.close()
    return set(rows)


def value(path: str, table: str, key_col: str, key: str, column: str):
    con = duckdb.connect(path, read_only=True)
    try:
        rows = con.execute(f'SELECT "{column}" FROM "{table}" WHERE "{key_col}" = ?', [key]).fetchall()
    finally:
        con.close()
    assert len(rows) == 1, f"{table}.{key_col} = {key!r}: {len(rows)} rows"
    return rows[0][0]


def short(v) -> str:
    r = repr(v)
    return r if len(r) < 120 else r[:100] + f"... ({len(v)} chars)"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_corpus_case(case, tmp_path, template_store, campaign):
    store = tmp_path / "store"
    shutil.copytree(template_store, store)
    snaps_before, tmp_before = listing(store / "snapshots"), listing(store / "tmp")
    extract = case.build(tmp_path / "case")
    try:
        result, error = ingest(extract, store), None
    except ExtractError as e:   # anything else propagates: a crash fails the case
        result, error = None, e

    assert listing(store / "tmp") == tmp_before, "leftovers in tmp/"
    exp = case.expect
    if isinstance(exp, Refused):
        assert error is not None, f"expected a refusal, got snapshot {result and result.snapshot_id}"
        msg = str(error)
        assert listing(store / "snapshots") == snaps_before, "snapshots/ changed by a refused import"
        vi, sep, en = msg.partition(" [")
        assert sep and msg.endswith("]") and en, f"not 'Vietnamese [English]': {msg}"
        assert VIETNAMESE.search(vi), f"Vietnamese part has no Vietnamese: {msg}"
        assert "Hãy" in vi, f"the message does not say what to do: {msg}"
        for frag in exp.fragments:
            assert frag in msg, f"{frag!r} not in: {msg}"
        for attr in ("file", "row", "column"):
            want = getattr(exp, attr)
            if want is not None:
                assert getattr(error, attr) == want, f"{attr}: {getattr(error, attr)!r} != {want!r} ({msg})"
        return

    assert isinstance(exp, Imported)
    assert error is None, f"expected an import, refused: {error}"
    assert result.created
    assert listing(store / "snapshots") == sorted(snaps_before + [Path(result.path).name])
    for t, n in exp.rows.items():
        assert result.rows[t] == n, f"{t}: {result.rows[t]} rows, expected {n}"
    labels = {f[1]: f[2] for f in result.files}
    for f, label in exp.encodings.items():
        assert labels.get(f) == label, f"{f}: read as {labels.get(f)}, expected {label}"
    for table, key_col, key, column, want in exp.values:
        got = value(result.path, table, key_col, key, column)
        ok = want(got) if callable(want) else got == want
        assert ok, f"{table}[{key}].{column} = {short(got)}, expected {short(want)}"
    assert len(result.notes) == len(exp.notes), f"notes: {result.notes}"
    for note, frags in zip(result.notes, exp.notes):
        for frag in frags:
            assert frag in note, f"{frag!r} not in note: {note}"
    got_f = findings(result.path, campaign)
    assert got_f == set(exp.findings), (f"findings differ: missing {sorted(set(exp.findings) - got_f)}, "
                                        f"unexpected {sorted(got_f - set(exp.findings))}")


def test_corpus_size_and_mix():
    refused = sum(isinstance(c.expect, Refused) for c in CASES)
    assert len(CASES) >= 40 and refused >= 10 and len(CASES) - refused >= 20


def test_make_corpus_writes_every_case(tmp_path):
    from tests.corpus import make_corpus
    assert make_corpus.main([str(tmp_path)]) == 0
    assert (tmp_path / "INDEX.md").read_text(encoding="utf-8").count("\n| ") == len(CASES) + 1
    for c in CASES:
        assert (tmp_path / c.id / "EXPECTED.txt").is_file()
        assert any((tmp_path / c.id / "extract").parent.iterdir())
