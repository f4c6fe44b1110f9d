"""Second outside review of issue 13, finding 5: an .xlsx is a zip itself, and nothing bounded it.
A 409 KB hoc_sinh.xlsx holding one 400 MB string passed the extract's zip check and made the
importer peak at 1.3 GB (an 816 KB one at 2.4 GB in python-calamine); a few MB would take the
server down. Now a workbook's parts are bounded from its zip directory (ratio and total, the
same rule as a .zip's entries) before calamine opens it, with the usual Vietnamese refusal."""
from __future__ import annotations

import shutil
import time
import zipfile

import pytest

from data_access import readers
from data_access.__main__ import main as cli
from data_access.errors import ExtractError
from tests.security.conftest import SAMPLE


def _xlsx_bomb(path, mb=24):
    """A workbook-shaped zip whose sheet part expands ~1000 times (what a bomb looks like)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/worksheets/sheet1.xml", b"<sheetData>" + b"0" * (mb * 1024 * 1024) + b"</sheetData>")
    return path


@pytest.mark.parametrize("suffix", [".xlsx", ".xlsm", ".ods"])
def test_a_workbook_bomb_is_refused_before_calamine_opens_it(tmp_path, monkeypatch, suffix):
    bomb = _xlsx_bomb(tmp_path / f"hoc_sinh{suffix}")
    import python_calamine
    opened = []
    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_filelike",
                        classmethod(lambda cls, f: opened.append(f) or (_ for _ in ()).throw(AssertionError)))
    t0 = time.perf_counter()
    with pytest.raises(ExtractError) as e:
        readers._open_book(bomb, bomb.name)
    assert time.perf_counter() - t0 < 2.0 and opened == []     # from the directory, nothing expanded
    msg = str(e.value)
    assert bomb.name in msg and "quá lớn" in msg and "xl/worksheets/sheet1.xml" in msg


def test_the_import_refuses_the_bomb_and_keeps_the_store(tmp_path, capsys):
    ext = tmp_path / "ext"
    shutil.copytree(SAMPLE, ext)
    (ext / "hoc_sinh.csv").unlink()
    _xlsx_bomb(ext / "hoc_sinh.xlsx")
    store = tmp_path / "store"
    assert cli(["ingest", str(ext), "--store", str(store)]) == 2
    err = capsys.readouterr().err
    assert "hoc_sinh.xlsx" in err and "quá lớn" in err
    from data_access.store import Store
    assert not store.exists() or Store(store).list_snapshots().empty   # nothing published


def test_a_real_workbook_still_opens(tmp_path):
    import openpyxl
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["STT", "Họ tên"])
    for i in range(20000):                 # repetitive rows compress far better than a real list
        ws.append([i + 1, "Nguyễn Văn An"])
    p = tmp_path / "hoc_sinh.xlsx"
    wb.save(p)
    book = readers._open_book(p, p.name)
    assert book.sheet_names
