"""Synthetic sample extracts of the HCMC education database for the 1254 campaign.

    python -m sample_data.generate --scale demo|hcmc|national --seed N --out DIR
                                   [--snapshots all|last:K|LIST] [--quiet]
                                   [--shape canonical|export [--export-format mixed|xlsx|xls|ods]]

Writes one folder per snapshot of the series (20/4 … 5/7/2022), e.g. DIR/2022-04-27T1700/ with
manifest.toml and truong.csv, hoc_sinh.csv, diem_mon_hoc.csv, tong_ket.csv, bao_cao.csv,
ban_giay.csv, phong_hoc.csv, lop.csv, can_bo.csv in the extract format of EXTRACT_FORMAT.md.
With --shape export the student list is written as the education database exports it
(sample_data/export_shape.py: hoc_sinh/<school>/<class>.xlsx|.xls|.ods, title rows, split
residence, "Khối 12"); .xls/.ods need LibreOffice. The same seed gives byte-identical files; any subset of snapshots equals the same folders of
the full series. See sample_data/README.md for what is generated and the defect rates.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .population import chunks_for
from .rand import DEFAULT_SEED
from .timeline import folder_name, select_snapshots
from .world import FILES, World
from .writer import SnapshotWriter

SHORT = {"truong": "trường", "hoc_sinh": "HS", "diem_mon_hoc": "điểm", "tong_ket": "tổng kết",
         "bao_cao": "báo cáo", "ban_giay": "bản giấy", "phong_hoc": "phòng", "lop": "lớp",
         "can_bo": "cán bộ", "so_lieu_bao_cao": "số liệu BC"}


def generate(scale: str, seed: int, out: Path, snapshots: str = "all", quiet: bool = False) -> dict:
    """Generate the extracts; returns {folder name: {file stem: rows}}."""
    times = select_snapshots(snapshots)
    chunks = chunks_for(scale)
    source = f"sample_data.generate scale={scale} seed={seed}"
    say = (lambda *a: None) if quiet else (lambda *a: print(*a, flush=True))
    writer = SnapshotWriter(out, times, source)
    t_start = time.perf_counter()
    per_snapshot_secs = {t: 0.0 for t in times}
    try:
        for k, ch in enumerate(chunks):
            t0 = time.perf_counter()
            world = World(ch, seed)
            built = time.perf_counter() - t0
            if len(chunks) == 1:
                say(f"{scale}: {len(world.inst):,} cơ sở, {world.students.n:,} học sinh "
                    f"({len(world.cohort.rows):,} lớp 12) — dựng dữ liệu {built:.1f} s")
            for t in times:
                t1 = time.perf_counter()
                for stem, table in world.tables_at(t).items():
                    writer.write(t, stem, table)
                dt = time.perf_counter() - t1
                per_snapshot_secs[t] += dt
                if len(chunks) == 1:
                    say(_line(folder_name(t), writer.rows[t], dt))
            if len(chunks) > 1:
                say(f"[{k + 1:2d}/{len(chunks)}] {ch.province_name}: {len(world.inst):,} cơ sở, "
                    f"{world.students.n:,} học sinh, {time.perf_counter() - t0:.1f} s")
            del world
        if len(chunks) > 1:
            for t in times:
                say(_line(folder_name(t), writer.rows[t], per_snapshot_secs[t]))
        say(f"Xong: {len(times)} snapshot trong {out} ({time.perf_counter() - t_start:.1f} s)")
    finally:
        writer.close()
    return {folder_name(t): writer.rows[t] for t in times}


def _line(name: str, rows: dict, secs: float) -> str:
    parts = ", ".join(f"{SHORT[s]} {rows.get(s, 0):,}" for s in FILES)
    return f"{name}  {parts}  ({secs:.1f} s)"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sample_data.generate",
                                 description="Tạo dữ liệu mẫu (trích xuất CSDL) cho Tiến độ CSDL.")
    ap.add_argument("--scale", choices=("demo", "hcmc", "national"), default="demo")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--out", type=Path, required=True, help="thư mục ghi các snapshot")
    ap.add_argument("--snapshots", default="all",
                    help="all | last:K | danh sách tên thư mục, ví dụ 2022-04-27T1700,2022-06-29T1700")
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--shape", choices=("canonical", "export"), default="canonical",
                    help="export: danh sách học sinh theo dạng CSDL ngành xuất (mỗi lớp một tệp bảng tính)")
    ap.add_argument("--export-format", dest="export_format", choices=("mixed", "xlsx", "xls", "ods"),
                    default="mixed")
    args = ap.parse_args(argv)
    try:
        done = generate(args.scale, args.seed, args.out, args.snapshots, args.quiet)
        if args.shape == "export":
            from .export_shape import write_export_shape  # noqa: PLC0415
            for name in done:
                folder = args.out / name
                tmp = args.out / f".{name}.export"
                write_export_shape(folder, tmp, args.export_format)
                import shutil  # noqa: PLC0415
                shutil.rmtree(folder)
                tmp.rename(folder)
    except ValueError as e:
        print(f"Lỗi: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
