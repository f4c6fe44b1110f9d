"""A ~200 MB file through the importer: time and peak memory, to show it is streamed.

Usage: python -m bench.bench_big_file [--mb 200] [--variants utf8,utf16,blank] [--work DIR] [--keep]

Writes an extract whose hoc_sinh.csv and diem_mon_hoc.csv are each about --mb megabytes (the
writer streams too), then imports it with `python -m data_access ingest --no-precompute` in a
child process per variant and prints wall time and the child's peak RSS (wait4 ru_maxrss):
- utf8:  UTF-8 files (the fast path: DuckDB reads the file, row numbers from its scan);
- utf16: hoc_sinh.csv in UTF-16LE with BOM (transcoded to UTF-8 in chunks first);
- blank: UTF-8 with a blank line every 1000 records (the Python row-numbering path).
A peak RSS far below the files' size means no file is held in memory whole.

This is not part of `make test` (the corpus in tests/corpus/ covers the bad inputs in small)."""
from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
from pathlib import Path

from bench.measure import du_mb, run

PY = sys.executable
LAST = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ"]
MIDDLE = ["Văn", "Thị", "Minh", "Ngọc", "Thành", "Hoài", "Thanh", "Gia", "Bảo", "Quốc"]
FIRST = ["Anh", "Bình", "Châu", "Dũng", "Hà", "Hùng", "Khoa", "Linh", "Mai", "Nam", "Phúc", "Quân",
         "Tâm", "Thảo", "Trang", "Tuấn", "Uyên", "Vy", "Yến", "Đạt"]
SUBJECTS = ["Toán", "Vật lí", "Hóa học", "Sinh học", "Tin học", "Ngữ văn", "Lịch sử", "Địa lí",
            "Ngoại ngữ", "GDCD", "Công nghệ", "GDQP-AN", "Thể dục"]
N_SCHOOLS = 300


def write_extract(folder: Path, mb: int, variant: str, seed: int = 7) -> dict[str, int]:
    """Stream the files; returns rows per file."""
    rnd = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.toml").write_text("as_of = 2022-04-27T17:00:00+07:00\n", encoding="utf-8")
    schools = [f"79{i:06d}" for i in range(N_SCHOOLS)]
    with open(folder / "truong.csv", "w", encoding="utf-8", newline="") as f:
        f.write("Mã trường,Tên trường,Mã quận/huyện,Cấp học,Loại hình,Cấp quản lý\r\n")
        for i, s in enumerate(schools):
            f.write(f"{s},THPT Số {i},{760 + i % 28},THPT,Công lập,Sở\r\n")
    with open(folder / "bao_cao.csv", "w", encoding="utf-8", newline="") as f:
        f.write("Mã trường,Mã báo cáo,Trạng thái,Thời điểm gửi,Ghi chú\r\n")
        for s in schools:
            f.write(f"{s},EMIS,Đã gửi,26/04/2022 10:00,\r\n")

    encoding = "utf-16-le" if variant == "utf16" else "utf-8"
    blank_every = 1000 if variant == "blank" else 0
    target = mb * 1_000_000
    rows = {}
    ids: list[str] = []
    path = folder / "hoc_sinh.csv"
    with open(path, "wb") as raw:
        if encoding == "utf-16-le":
            raw.write(b"\xff\xfe")
        buf: list[str] = ["Mã học sinh,Mã trường,Khối,Lớp,Họ và tên,Ngày sinh,Giới tính,Dân tộc,"
                          "Số CMND/CCCD,Nơi thường trú,Trạng thái\r\n"]
        n = 0
        while raw.tell() < target:
            for _ in range(10_000):
                n += 1
                sid = f"79{n:011d}"
                ids.append(sid)
                female = rnd.random() < 0.5
                name = f"{rnd.choice(LAST)} {'Thị' if female else rnd.choice(MIDDLE)} {rnd.choice(FIRST)}"
                day, month = rnd.randint(1, 28), rnd.randint(1, 12)
                buf.append(f"{sid},{rnd.choice(schools)},12,12A{n % 9 + 1},{name},{day:02d}/{month:02d}/2004,"
                           f"{'Nữ' if female else 'Nam'},Kinh,079{3 if female else 2}04{n % 1_000_000:06d},"
                           f"\"{n % 300} Lê Lợi, Phường Bến Nghé, Quận 1, TP. Hồ Chí Minh\",Đang học\r\n")
                if blank_every and n % blank_every == 0:
                    buf.append("\r\n")
            raw.write("".join(buf).encode(encoding))
            buf = []
        rows["hoc_sinh.csv"] = n
    with open(folder / "diem_mon_hoc.csv", "wb") as raw:
        buf = ["Mã học sinh,Năm học,Khối,Học kỳ,Môn học,Điểm,Đánh giá\r\n"]
        n = 0
        i = 0
        while raw.tell() < target:
            for _ in range(20_000):
                sid = ids[i % len(ids)]
                grade = 10 + (i // len(ids)) % 3
                term = ("HK1", "HK2", "CN")[(i // (3 * len(ids))) % 3]
                for subj in SUBJECTS:
                    n += 1
                    if subj == "Thể dục":
                        buf.append(f"{sid},{2009 + grade}-{2010 + grade},{grade},{term},{subj},,Đ\r\n")
                    else:
                        buf.append(f"{sid},{2009 + grade}-{2010 + grade},{grade},{term},{subj},"
                                   f"{rnd.randint(30, 100) / 10},\r\n")
                    if blank_every and n % blank_every == 0:
                        buf.append("\r\n")
                i += 1
            raw.write("".join(buf).encode("utf-8"))
            buf = []
        rows["diem_mon_hoc.csv"] = n
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=200, help="size of hoc_sinh.csv and of diem_mon_hoc.csv")
    ap.add_argument("--variants", default="utf8,utf16,blank")
    ap.add_argument("--work", default=None)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    work = Path(args.work or tempfile.mkdtemp(prefix="tiendo-bigfile-"))
    print(f"# work folder {work}; each of hoc_sinh.csv and diem_mon_hoc.csv ~{args.mb} MB")
    print(f"{'variant':8} {'step':10} {'seconds':>8} {'peak MB':>8} {'files MB':>9}  detail")
    try:
        for variant in args.variants.split(","):
            ex, store = work / f"extract-{variant}", work / f"store-{variant}"
            shutil.rmtree(ex, ignore_errors=True)
            shutil.rmtree(store, ignore_errors=True)
            code = (f"from pathlib import Path; from bench.bench_big_file import write_extract; "
                    f"print(write_extract(Path({str(ex)!r}), {args.mb}, {variant!r}))")
            s, mb, out = run([PY, "-c", code])
            sizes = {p.name: os.path.getsize(p) / 1e6 for p in ex.iterdir()}
            print(f"{variant:8} {'write':10} {s:8.1f} {mb:8.0f} {du_mb(ex):9.0f}  {out.strip()}", flush=True)
            s, mb, out = run([PY, "-m", "data_access", "ingest", str(ex), "--store", str(store), "--no-precompute"])
            snap = next((store / "snapshots").glob("*.duckdb"))
            detail = (f"hoc_sinh {sizes['hoc_sinh.csv']:.0f} MB, diem_mon_hoc {sizes['diem_mon_hoc.csv']:.0f} MB; "
                      f"snapshot {os.path.getsize(snap) / 1e6:.0f} MB; tmp left: {sorted(os.listdir(store / 'tmp'))}")
            print(f"{variant:8} {'import':10} {s:8.1f} {mb:8.0f} {du_mb(ex):9.0f}  {detail}", flush=True)
            if not args.keep:
                shutil.rmtree(ex, ignore_errors=True)
                shutil.rmtree(store, ignore_errors=True)
    finally:
        if not args.keep and args.work is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
