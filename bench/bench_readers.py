"""Spreadsheet readers on a large hoc_sinh.xlsx: openpyxl (read-only, the previous path) against
python-calamine (the chosen one: it also reads .xls and .ods). Each reader runs in a child
process (bench/measure.py) so the peak memory is the process's max RSS.

    python -m bench.bench_readers --rows 200000 [--out DIR]

Prints rows/s and peak MB per reader. The file is written once with openpyxl's write-only mode
(text cells, as the education database exports them).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from bench.measure import run

HEADER = ["STT", "Mã định danh Bộ GD&ĐT", "Họ tên", "Ngày sinh", "Giới tính", "Dân tộc", "Trạng thái",
          "Tổ/thôn Hộ khẩu thường trú", "Nơi thường trú Xã (cũ)", "Nơi thường trú Huyện (cũ)",
          "Nơi thường trú Tỉnh (cũ)", "Số CMND", "Lớp học", "Khối học", "Số định danh cá nhân"]


def write_file(path: Path, rows: int) -> None:
    import openpyxl  # noqa: PLC0415

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("DS")
    ws.append(["SỞ GIÁO DỤC VÀ ĐÀO TẠO THÀNH PHỐ HỒ CHÍ MINH"])
    ws.append(["DANH SÁCH HỌC SINH", None, "Mã trường: 79760001"])
    ws.append([])
    ws.append(HEADER)
    for i in range(rows):
        ws.append([str(i + 1), str(7407000000 + i), f"Nguyễn Văn Học Sinh {i}", "15/02/2009",
                   "Nam" if i % 2 else "Nữ", "Kinh", "Đang học", f"{i % 500}/12 Đường Số {i % 40}",
                   "Phường Hiệp Phú", "Thành phố Thủ Đức", "Thành phố Hồ Chí Minh", f"0792090{i:05d}",
                   f"12A{i % 12}", "Khối 12", f"07920900{i:04d}"])
    wb.save(path)


def read_openpyxl(path: Path) -> int:
    import openpyxl  # noqa: PLC0415
    from data_access.readers import xlsx_text  # noqa: PLC0415

    wb = openpyxl.load_workbook(open(path, "rb"), read_only=True, data_only=True)
    ws = wb.worksheets[0]
    ws.reset_dimensions()
    n = 0
    for cells in ws.iter_rows(values_only=False):
        vals = [xlsx_text(c.value, getattr(c, "number_format", None)) for c in cells]
        n += any(v.strip() for v in vals)
    wb.close()
    return n


def read_calamine(path: Path) -> int:
    from python_calamine import CalamineWorkbook  # noqa: PLC0415
    from data_access.readers import xlsx_text  # noqa: PLC0415

    wb = CalamineWorkbook.from_filelike(open(path, "rb"))
    n = 0
    for row in wb.get_sheet_by_index(0).iter_rows():
        vals = [xlsx_text(v) for v in row]
        n += any(v.strip() for v in vals)
    wb.close()
    return n


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--child", choices=("openpyxl", "calamine"))
    ap.add_argument("--file", type=Path)
    a = ap.parse_args(argv)
    if a.child:
        n = (read_openpyxl if a.child == "openpyxl" else read_calamine)(a.file)
        print(n)
        return 0
    out = a.out or Path(tempfile.mkdtemp(prefix="bench-readers-"))
    out.mkdir(parents=True, exist_ok=True)
    f = out / "hoc_sinh.xlsx"
    if not f.exists():
        write_file(f, a.rows)
    print(f"{f}: {f.stat().st_size / 1e6:.1f} MB, {a.rows:,} rows")
    for reader in ("openpyxl", "calamine"):
        secs, peak, stdout = run([sys.executable, "-m", "bench.bench_readers", "--child", reader, "--file", str(f)])
        n = int(stdout.strip().splitlines()[-1])
        print(f"{reader:9s} {n:>9,} non-empty rows  {secs:6.1f} s  {n / secs:>9,.0f} rows/s  peak {peak:6.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
