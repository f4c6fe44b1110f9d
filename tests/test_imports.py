"""Imports from the browser (data_access.imports and pages/import_data.py): an upload is checked
without publishing (refusal, or a preview equal to what the engine shows once published),
confirmed into exactly one snapshot, logged and audited; a wrong snapshot can be hidden (kept on
disk, out of every view and of the history) and shown again."""
from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from data_access import imports, ops, queries
from data_access.access import Viewer
from data_access.current_user import set_viewer
from data_access.evaluate import evaluate
from data_access.store import Store
from tests.markdown_text import shown

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data" / "extract" / "2022-04-27T1700"
ADMIN = Viewer("admin1", "quan_tri", display_name="Quản trị")
CLERK = Viewer("khtc1", "khtc")


def _files(folder: Path, drop_manifest: bool = False) -> list[tuple[str, bytes]]:
    return [(p.name, p.read_bytes()) for p in sorted(folder.iterdir())
            if p.is_file() and not (drop_manifest and p.name == "manifest.toml")]


def _zip(folder: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for p in sorted(folder.iterdir()):
            z.write(p, f"2022-04-27T1700/{p.name}")   # nested one level, as Windows zips a folder
    return buf.getvalue()


def _audit(store: Path, action: str) -> pd.DataFrame:
    return ops.list_audit(store, ADMIN, action=action)


@pytest.fixture(scope="module")
def base_store(tmp_path_factory) -> Path:
    """A store holding one older snapshot (20/04/2022, the last institution missing), imported
    by the command line."""
    base = tmp_path_factory.mktemp("imports")
    old = base / "old"
    shutil.copytree(SAMPLE, old)
    (old / "manifest.toml").write_text((old / "manifest.toml").read_text(encoding="utf-8")
                                       .replace("2022-04-27T17:00:00", "2022-04-20T17:00:00"), encoding="utf-8")
    lines = (old / "truong.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    (old / "truong.csv").write_text("".join(lines[:-1]), encoding="utf-8")
    store = base / "store"
    subprocess.run([sys.executable, "-m", "data_access", "ingest", str(old), "--store", str(store)],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return store


@pytest.fixture()
def store(base_store, tmp_path, ops_backend) -> Path:
    """A fresh copy; its operational store on SQLite or PostgreSQL (ops_backend, issue 17)."""
    s = tmp_path / "store"
    shutil.copytree(base_store, s)
    return s


def _snapshot_files(store: Path) -> list[str]:
    return sorted(os.listdir(store / "snapshots"))


def _last_school(folder: Path) -> str:
    return (folder / "truong.csv").read_text(encoding="utf-8").splitlines()[-1].split(",")[0]


def test_good_extract_previews_then_publishes_exactly_one_snapshot(store):
    before_files = _snapshot_files(store)
    old_id = Store(store).list_snapshots().iloc[-1]["snapshot_id"]
    up = imports.save_upload(store, ADMIN, _files(SAMPLE))
    assert up.manifest_as_of.isoformat() == "2022-04-27T17:00:00+07:00"
    seen = []
    v = imports.validate(store, ADMIN, up, progress=lambda f, m: seen.append(f))
    assert v.ok and not v.errors and v.already is None
    assert seen == sorted(seen) and seen[-1] == 1.0          # the progress bar only moves forward
    # Nothing published by the check.
    assert _snapshot_files(store) == before_files
    assert not (store / "derived" / v.snapshot_id).exists()

    p = v.preview
    assert p.current_id == old_id and p.new_id == v.snapshot_id and p.becomes_newest
    summary = p.summary.set_index("label")
    n_schools = len((SAMPLE / "truong.csv").read_text(encoding="utf-8").splitlines()) - 1
    n_students = len((SAMPLE / "hoc_sinh.csv").read_text(encoding="utf-8").splitlines()) - 1
    assert summary.loc["Số trường", "before"] == n_schools - 1
    assert summary.loc["Số trường", "after"] == n_schools
    assert summary.loc["Số học sinh", "after"] == n_students
    assert list(p.added_schools["school_code"]) == [_last_school(SAMPLE)]
    assert p.removed_schools.empty

    r = imports.publish(store, ADMIN, v)
    assert r.created and r.snapshot_id == v.snapshot_id
    after_files = _snapshot_files(store)
    assert len(after_files) == len(before_files) + 1 and f"{v.snapshot_id}.duckdb" in after_files
    assert not [e for e in os.listdir(store / "tmp") if e.startswith(imports.UPLOAD_PREFIX)]
    # The preview is what the engine shows once it is published.
    ev = evaluate(store)
    try:
        assert ev.snapshot_id == v.snapshot_id
        roll = ev.df("SELECT requirement_id, completion_rate, on_time_rate, records_expected FROM rollup "
                     "WHERE rollup_by = 'city'").set_index("requirement_id")
        sev = ev.df("SELECT severity, count(*) AS n FROM findings GROUP BY 1").set_index("severity")["n"]
    finally:
        ev.close()
    prog = p.progress.set_index("requirement_id")
    assert (prog["completion_after"] == roll.loc[prog.index, "completion_rate"]).all()
    assert (prog["on_time_after"] == roll.loc[prog.index, "on_time_rate"]).all()
    assert summary.loc["Học sinh lớp 12 đang học (đối tượng của các yêu cầu)", "after"] == \
        roll.loc["G12_INFO", "records_expected"]
    fnd = p.findings.set_index("severity")["after"]
    assert fnd.to_dict() == {k: int(n) for k, n in sev.items()}
    # Logged and audited, and listed with who imported it; the CLI import is listed too.
    log = imports.import_log(store)
    assert len(log) == 1 and log.iloc[0]["imported_by"] == "admin1" and log.iloc[0]["students"] == n_students
    pub = _audit(store, "import.publish")
    assert len(pub) == 1 and pub.iloc[0]["object"] == f"snapshot:{v.snapshot_id}"
    assert len(_audit(store, "import.validate")) == 1
    lst = imports.snapshot_list(store).set_index("snapshot_id")
    assert lst.loc[v.snapshot_id, "imported_by"] == "admin1" and lst.loc[v.snapshot_id, "newest"]
    assert lst.loc[old_id, "via"] == "dòng lệnh (CLI)" and pd.notna(lst.loc[old_id, "imported_at"])
    assert lst.loc[old_id, "schools"] == n_schools - 1

    # The same content again: recognised, nothing new.
    up2 = imports.save_upload(store, ADMIN, [("extract.zip", _zip(SAMPLE))])
    v2 = imports.validate(store, ADMIN, up2)
    assert v2.ok and v2.already == "visible" and v2.snapshot_id == v.snapshot_id
    imports.discard(up2)


def test_zip_and_files_give_the_snapshot_of_the_command_line(store, tmp_path):
    cli = tmp_path / "cli"
    subprocess.run([sys.executable, "-m", "data_access", "ingest", str(SAMPLE), "--store", str(cli)],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    cli_id = Store(cli).list_snapshots().iloc[-1]["snapshot_id"]
    up = imports.save_upload(store, ADMIN, [("trich-xuat.zip", _zip(SAMPLE))])
    v = imports.validate(store, ADMIN, up)
    assert v.ok and v.snapshot_id == cli_id
    imports.discard(up)
    assert not up.folder.exists()


def test_bad_extract_is_refused_and_nothing_is_written(store, tmp_path):
    bad = tmp_path / "bad"
    shutil.copytree(SAMPLE, bad)
    lines = (bad / "hoc_sinh.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    (bad / "hoc_sinh.csv").write_text("".join(lines + [lines[3]]), encoding="utf-8")   # a duplicate key
    before = _snapshot_files(store)
    up = imports.save_upload(store, ADMIN, _files(bad))
    v = imports.validate(store, ADMIN, up)
    assert not v.ok and v.preview is None
    f, row, col = v.error_at
    assert f == "hoc_sinh.csv" and row == len(lines) + 1 and col
    assert "hoc_sinh.csv" in v.errors[0] and f"dòng {len(lines) + 1}" in v.errors[0] and "trùng" in v.errors[0]
    assert _snapshot_files(store) == before
    with pytest.raises(imports.ImportRefused):
        imports.publish(store, ADMIN, v)
    assert _snapshot_files(store) == before and imports.import_log(store).empty
    refused = _audit(store, "import.refused")
    assert len(refused) == 1 and "hoc_sinh.csv" in refused.iloc[0]["detail"]
    imports.discard(up)


def test_as_of_typed_when_there_is_no_manifest(store):
    up = imports.save_upload(store, ADMIN, _files(SAMPLE, drop_manifest=True))
    assert up.manifest_as_of is None
    v = imports.validate(store, ADMIN, up)
    assert not v.ok and "Thời điểm dữ liệu" in v.errors[0]
    v = imports.validate(store, ADMIN, up, as_of="2022-04-27T17:00:00+07:00")
    assert v.ok and v.as_of.isoformat() == "2022-04-27T17:00:00+07:00"
    imports.discard(up)


def test_upload_shape_and_role_refusals(store):
    one = [("truong.csv", b"x")]
    with pytest.raises(imports.ImportRefused, match="Quản trị"):
        imports.save_upload(store, CLERK, one)
    with pytest.raises(imports.ImportRefused, match="một tệp .zip"):
        imports.save_upload(store, ADMIN, [("a.zip", b"PK"), ("truong.csv", b"x")])
    with pytest.raises(imports.ImportRefused, match="Không nhận loại tệp"):
        imports.save_upload(store, ADMIN, [("truong.pdf", b"x")])
    with pytest.raises(imports.ImportRefused, match="hai tệp cùng tên"):
        imports.save_upload(store, ADMIN, [("truong.csv", b"x"), ("truong.csv", b"y")])
    with pytest.raises(imports.ImportRefused):
        imports.hide_snapshot(store, CLERK, Store(store).list_snapshots().iloc[0]["snapshot_id"], "sai")
    assert not [e for e in os.listdir(store / "tmp") if e.startswith(imports.UPLOAD_PREFIX)]


def test_hide_excludes_a_snapshot_everywhere_and_unhide_restores_it(store):
    job = imports.wait(imports.start_validation(store, ADMIN, imports.save_upload(store, ADMIN, _files(SAMPLE))))
    assert job.status == "done" and job.fraction == 1.0 and job.result.ok
    job = imports.wait(imports.start_publish(store, ADMIN, job.result))
    assert job.status == "done" and job.result.created
    new_id = job.result.snapshot_id
    s = Store(store)
    old_id = s.list_snapshots().iloc[0]["snapshot_id"]
    assert list(s.list_snapshots()["snapshot_id"]) == [old_id, new_id]
    assert queries.evaluation(None, store).snapshot_id == new_id

    with pytest.raises(imports.ImportRefused, match="lý do"):
        imports.hide_snapshot(store, ADMIN, new_id, "  ")
    imports.hide_snapshot(store, ADMIN, new_id, "xuất thiếu dữ liệu")
    assert list(s.list_snapshots()["snapshot_id"]) == [old_id]
    full = s.list_snapshots(include_hidden=True)
    assert list(full["snapshot_id"]) == [old_id, new_id] and list(full["hidden"]) == [False, True]
    assert s.snapshot_at(None)["snapshot_id"] == old_id
    assert (store / "snapshots" / f"{new_id}.duckdb").is_file()          # kept on disk
    ev = evaluate(store)
    try:
        assert ev.snapshot_id == old_id
        assert list(ev.df("SELECT snapshot_id FROM hist_snapshots")["snapshot_id"]) == [old_id]
    finally:
        ev.close()
    assert queries.evaluation(None, store).snapshot_id == old_id
    with pytest.raises(imports.ImportRefused, match="duy nhất"):
        imports.hide_snapshot(store, ADMIN, old_id, "thử")
    with pytest.raises(imports.ImportRefused, match="ẩn rồi"):
        imports.hide_snapshot(store, ADMIN, new_id, "lần hai")
    lst = imports.snapshot_list(store).set_index("snapshot_id")
    assert lst.loc[new_id, "hidden"] and lst.loc[new_id, "hidden_reason"] == "xuất thiếu dữ liệu"
    assert lst.loc[old_id, "newest"] and not lst.loc[new_id, "newest"]
    # The same content uploaded again is recognised as the hidden snapshot.
    up = imports.save_upload(store, ADMIN, _files(SAMPLE))
    v = imports.validate(store, ADMIN, up)
    assert v.already == "hidden"
    imports.discard(up)

    imports.unhide_snapshot(store, ADMIN, new_id, "đã kiểm tra lại, số liệu đúng")
    assert list(s.list_snapshots()["snapshot_id"]) == [old_id, new_id]
    ev = evaluate(store)
    try:
        assert ev.snapshot_id == new_id
        assert sorted(ev.df("SELECT snapshot_id FROM hist_snapshots")["snapshot_id"]) == sorted([old_id, new_id])
    finally:
        ev.close()
    with pytest.raises(imports.ImportRefused, match="không bị ẩn"):
        imports.unhide_snapshot(store, ADMIN, new_id, "x")
    assert len(_audit(store, "snapshot.hide")) == 1 and len(_audit(store, "snapshot.unhide")) == 1
    hist = imports.hidden_history(store)
    assert len(hist) == 1 and hist.iloc[0]["unhidden_by"] == "admin1"


def test_hidden_set_absent_store_or_table_hides_nothing(store, tmp_path):
    assert Store(tmp_path / "none").hidden_snapshot_ids() == set()
    ops.audit(store, ADMIN, "test")                         # ops.sqlite without hidden_snapshots
    assert Store(store).hidden_snapshot_ids() == set()
    assert len(Store(store).list_snapshots()) == 1


# ---- the page -------------------------------------------------------------------------------
@pytest.fixture()
def page(store, monkeypatch):
    monkeypatch.setenv("TIENDO_STORE", str(store))
    yield lambda: AppTest.from_file(str(ROOT / "pages" / "import_data.py"), default_timeout=60)
    set_viewer(None)


@pytest.mark.parametrize("viewer", [CLERK, Viewer("q1", "phong_gd", district_code="760"),
                                    Viewer("lanhdao", "lanh_dao")])
def test_page_refuses_other_roles(page, viewer):
    set_viewer(viewer)
    at = page()
    at.run()
    assert not at.exception
    assert any("Quản trị" in e.value for e in at.error)
    assert not at.dataframe and not at.button


def _check_on_page(at) -> None:
    """Click «Kiểm tra» and run the page until the background validation has finished."""
    at.button(key="imp_check").click().run()
    for _ in range(120):
        if "imp_validation" in at.session_state:
            break
        imports.wait(imports.get_job(at.session_state["imp_job"]))
        at.run()


def test_page_checks_previews_and_imports(page, store):
    set_viewer(ADMIN)
    at = page()
    at.run()
    assert not at.exception and not at.error
    assert [t.value for t in at.title] == ["Nhập dữ liệu"]
    assert len(at.dataframe) == 1                      # the snapshot list
    assert at.button(key="imp_check").disabled         # nothing uploaded yet
    # AppTest cannot drive st.file_uploader: hand the page a saved upload (what it does itself).
    at.session_state["imp_upload"] = imports.save_upload(store, ADMIN, _files(SAMPLE))
    at.session_state["imp_sig"] = ()
    at.run()
    assert not at.button(key="imp_check").disabled
    assert at.date_input(key=f"imp_day_{at.session_state['imp_upload'].id}").value.isoformat() == "2022-04-27"
    _check_on_page(at)
    assert not at.exception, [e.message for e in at.exception]
    assert any(s.value == "2. Xem trước thay đổi" for s in at.subheader)
    assert len(at.dataframe) >= 4                      # summary, findings, progress, snapshots
    at.button(key="imp_confirm").click().run()
    for _ in range(120):
        if at.success:
            break
        imports.wait(imports.get_job(at.session_state["imp_job"]))
        at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.success and "Đã nhập snapshot" in at.success[0].value
    assert len(Store(store).list_snapshots()) == 2
    # Hide the new one from the page: a reason is required.
    new_id = Store(store).list_snapshots().iloc[-1]["snapshot_id"]
    at.selectbox(key="imp_pick").select(new_id).run()
    at.button(key="imp_hide").click().run()
    assert any("lý do" in e.value for e in at.error)
    at.text_input(key=f"imp_reason_{new_id}").input("bản thử").run()
    at.button(key="imp_hide").click().run()
    assert not at.exception
    assert list(Store(store).list_snapshots()["snapshot_id"]) != [] and \
        new_id not in set(Store(store).list_snapshots()["snapshot_id"])


def test_excel_habits_are_listed_in_the_preview(store, tmp_path, page):
    """A birth date typed as an Excel serial is imported as it is (a BIRTH_DATE_INVALID
    finding), and the preview lists the importer's note: file, row, column and the date."""
    src = tmp_path / "serial"
    shutil.copytree(SAMPLE, src)
    lines = (src / "hoc_sinh.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    lines[1] = lines[1].replace("30/03/2017", "42824")          # = 30/03/2017 in Excel
    (src / "hoc_sinh.csv").write_text("".join(lines), encoding="utf-8")
    up = imports.save_upload(store, ADMIN, _files(src))
    v = imports.validate(store, ADMIN, up)
    assert v.ok
    assert any("hoc_sinh.csv" in n and "42824" in n and "30/03/2017" in n for n in v.notes), v.notes
    imports.discard(up)
    # The page shows them above the preview.
    set_viewer(ADMIN)
    at = page()
    at.run()
    at.session_state["imp_upload"] = imports.save_upload(store, ADMIN, _files(src))
    at.session_state["imp_sig"] = ()
    at.run()
    _check_on_page(at)
    assert not at.exception, [e.message for e in at.exception]
    assert any(e.label.startswith("Lưu ý khi đọc tệp") for e in at.expander)
    assert any("42824" in m.value for m in at.markdown)


def _class_list_zip(tmp_path: Path) -> bytes:
    """The committed sample with its student list as one export-shape class list of two
    students of school 79760001 (tests/fixtures/export_shape) saved as hoc_sinh.xlsx with no
    school-code column, no "Mã trường: …" title cell and no school-code folder."""
    import openpyxl  # noqa: PLC0415

    from tests.fixtures.export_shape.make_fixture import CLASS_12_6, HEADER  # noqa: PLC0415

    src = tmp_path / "class_list"
    shutil.copytree(SAMPLE, src, ignore=shutil.ignore_patterns("hoc_sinh.csv"))
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["SỞ GIÁO DỤC VÀ ĐÀO TẠO THÀNH PHỐ HỒ CHÍ MINH"])
    ws.append(["DANH SÁCH HỌC SINH LỚP 12.6"])
    ws.append([])
    ws.append(HEADER)
    for r in CLASS_12_6[:2]:
        ws.append(r)
    wb.save(src / "hoc_sinh.xlsx")
    return _zip(src)


def test_page_school_picker_gives_a_class_list_its_school(page, store, tmp_path):
    """A student list without any school code is refused with the four ways to give one; the
    page's picker (the newest snapshot's schools) is one of them and the check then passes."""
    choices = imports.school_choices(store)
    n_schools = len((SAMPLE / "truong.csv").read_text(encoding="utf-8").splitlines()) - 1
    assert len(choices) == n_schools - 1                # the base snapshot lacks the last school
    assert choices[0][0] == "79760001" and choices[0][1]
    set_viewer(ADMIN)
    at = page()
    at.run()
    up = imports.save_upload(store, ADMIN, [("lop_12_6.zip", _class_list_zip(tmp_path))])
    at.session_state["imp_upload"] = up
    at.session_state["imp_sig"] = ()
    at.run()
    picker = at.selectbox(key=f"imp_school_{up.id}")
    assert picker.value == "" and "79760001" in picker.options[1]
    _check_on_page(at)
    assert not at.exception, [e.message for e in at.exception]
    text = shown(" ".join(e.value for e in at.error))
    assert "Bản trích xuất bị từ chối" in text
    for needed in ('cột "Mã trường"', '"Mã trường: <mã>"', "thư mục mang tên mã trường", "chọn trường"):
        assert needed in text, text
    at.selectbox(key=f"imp_school_{up.id}").select("79760001").run()
    _check_on_page(at)
    assert not at.exception, [e.message for e in at.exception]
    v = at.session_state["imp_validation"]
    assert v.ok, v.errors
    assert v.preview.summary.set_index("label").loc["Số học sinh", "after"] == 2
