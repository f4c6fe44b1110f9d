"""A canonical snapshot folder rewritten in the shape the education database exports student
lists: one spreadsheet per class under hoc_sinh/<school code>/, title rows above the header,
the export's headers (Mã định danh Bộ GD&ĐT, Họ tên, Khối học, ...), the permanent residence
split over four columns, the grade as "Khối 12", and no school-code column (the school code is
in a "Mã trường: X" title cell and in the folder name).

Why: a planning clerk tries these files first; the importer must give the same progress and
findings from them as from the canonical extract (tests/test_export_shape.py). Every value is
written as text, exactly as the canonical CSV holds it, so the only differences are of shape.
.xls and .ods are made from the .xlsx files by LibreOffice (``soffice --convert-to``): python
has no writer for Excel 97-2003.
"""
from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

EXPORT_HEADER = ["STT", "Mã định danh Bộ GD&ĐT", "Họ tên", "Ngày sinh", "Giới tính", "Dân tộc",
                 "Trạng thái", "SĐT liên hệ", "Tổ/thôn Hộ khẩu thường trú", "Nơi thường trú Xã (cũ)",
                 "Nơi thường trú Huyện (cũ)", "Nơi thường trú Tỉnh (cũ)", "Số CMND", "Lớp học",
                 "Khối học", "Số định danh cá nhân"]
CANON = {"student_id": "Mã học sinh", "school_code": "Mã trường", "grade": "Khối", "class_name": "Lớp",
         "full_name": "Họ và tên", "birth_date": "Ngày sinh", "gender": "Giới tính", "ethnicity": "Dân tộc",
         "id_number": "Số CMND/CCCD", "personal_id": "Số định danh cá nhân",
         "permanent_address": "Nơi thường trú", "status": "Trạng thái"}


def split_address(addr: str) -> list[str]:
    """'số nhà, phường, quận, tỉnh' → its four parts; any other shape stays whole in the first
    part, so that joining the non-empty parts with ', ' gives the address back."""
    parts = addr.split(", ") if addr else []
    if len(parts) == 4 and all(p.strip() == p and p for p in parts):
        return parts
    return [addr, "", "", ""]


def export_grade(grade: str) -> str:
    return f"Khối {grade}" if re.fullmatch(r"[0-9]{1,2}", grade or "") else (grade or "")


def _safe(name: str) -> str:
    return re.sub(r"[^0-9A-Za-z.\-]+", "_", name) or "_"


def _soffice(files: list[Path], fmt: str) -> None:
    """Convert .xlsx files to .xls / .ods beside them and remove the .xlsx: one LibreOffice run
    for all of them (each start costs ~1 s), through uniquely named copies in a temp folder
    (class files of different schools share names)."""
    tmp = Path(tempfile.mkdtemp(prefix="export-shape-"))
    try:
        src = tmp / "in"
        out = tmp / "out"
        src.mkdir()
        out.mkdir()
        copies = []
        for i, f in enumerate(files):
            c = src / f"f{i:06d}.xlsx"
            shutil.copyfile(f, c)
            copies.append(c)
        subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp}/lo-profile", "--headless",
                        "--convert-to", fmt, "--outdir", str(out), *map(str, copies)],
                       check=True, capture_output=True, timeout=1800)
        for f, c in zip(files, copies):
            made = out / (c.stem + "." + fmt)
            if not made.exists():
                raise RuntimeError(f"soffice did not convert {f}")
            shutil.move(str(made), str(f.with_suffix("." + fmt)))
            f.unlink()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write_export_shape(src: Path, dst: Path, fmt: str = "mixed") -> Path:
    """src: a canonical snapshot folder; dst: the folder written (other files copied as they
    are). fmt: 'xlsx', 'xls', 'ods' or 'mixed' (the schools' classes in turn as .xlsx, .xls, .ods)."""
    import openpyxl  # noqa: PLC0415

    src, dst = Path(src), Path(dst)
    if dst.exists():
        shutil.rmtree(dst)
    dst.mkdir(parents=True)
    for f in src.iterdir():
        if f.name != "hoc_sinh.csv":
            shutil.copy2(f, dst / f.name)
    with open(src / "hoc_sinh.csv", encoding="utf-8", newline="") as fh:
        r = csv.reader(fh)
        header = next(r)
        pos = {name: header.index(h) for name, h in CANON.items() if h in header}
        groups: dict[tuple[str, str], list[list[str]]] = {}
        for row in r:
            g = lambda n: row[pos[n]] if n in pos and pos[n] < len(row) else ""  # noqa: E731
            groups.setdefault((g("school_code"), g("class_name")), []).append(
                [g("student_id"), g("full_name"), g("birth_date"), g("gender"), g("ethnicity"), g("status"),
                 "", *split_address(g("permanent_address")), g("id_number"), g("class_name"),
                 export_grade(g("grade")), g("personal_id")])
    schools = sorted({s for s, _ in groups})
    convert: dict[str, list[Path]] = {"xls": [], "ods": []}
    for (school, klass), rows in sorted(groups.items()):
        folder = dst / "hoc_sinh" / _safe(school)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{_safe(klass or 'khong_lop')}.xlsx"
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.title = _safe(klass or "lop")[:31]
        ws.append(["SỞ GIÁO DỤC VÀ ĐÀO TẠO THÀNH PHỐ HỒ CHÍ MINH"])
        ws.append([f"DANH SÁCH HỌC SINH LỚP {klass}", None, None, f"Mã trường: {school}"])
        ws.append([])
        ws.append(EXPORT_HEADER)
        for i, row in enumerate(rows, 1):
            ws.append([str(i)] + [v if v != "" else None for v in row])
        for col in ws.iter_cols(min_row=5):
            for c in col:
                c.number_format = "@"
        wb.save(path)
        kind = fmt if fmt != "mixed" else ("xlsx", "xls", "ods")[schools.index(school) % 3]
        if kind in convert:
            convert[kind].append(path)
    for kind, files in convert.items():
        if files:
            _soffice(files, kind)
    return dst


def main(argv: list[str] | None = None) -> int:
    import argparse  # noqa: PLC0415

    ap = argparse.ArgumentParser(prog="python -m sample_data.export_shape")
    ap.add_argument("src", type=Path)
    ap.add_argument("dst", type=Path)
    ap.add_argument("--format", default="mixed", choices=("xlsx", "xls", "ods", "mixed"))
    a = ap.parse_args(argv)
    write_export_shape(a.src, a.dst, a.format)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
