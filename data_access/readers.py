"""Reading an extract: find its files, detect encodings, match headers, load into DuckDB.

Why this shape:
- Big files (hundreds of MB) are never held in Python memory. One streamed pass hashes the raw
  bytes (the snapshot id), checks UTF-8 and looks for blank lines; DuckDB's CSV reader then does
  the heavy lifting on UTF-8 text. Other encodings (UTF-16, Windows-1258, and the legacy font
  encodings TCVN3 and VNI of old Windows tools) are first transcoded to a UTF-8 work file in
  chunks. A file that is not UTF-8 is Windows-1258 unless a bounded sample of its bytes (the
  first 4 MB and the chunk where UTF-8 failed) reads clearly better as TCVN3 or VNI
  (text_repair.detect_file_encoding).
- ``_row`` is the spreadsheet row of the record (header row counted, title rows above it too).
  For a CSV without blank lines between records it is ``row_number()`` over DuckDB's scan,
  which keeps file order (a streaming window). XLSX sheets, and CSV files with blank lines,
  go through a small Python pass that writes the row number as a first column.
- Headers are matched through the alias table of ``schema.py`` by a key that ignores accents
  (đ = d), case, spaces and punctuation.
- Every value stays text: trimmed, NFC, empty → NULL. Typing is the SQL layer's job.

All refusals raise ``ExtractError`` with a Vietnamese message and its English in brackets.
"""
from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import os
import re
import shutil
import stat
import tomllib
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Callable

from . import schema
from .errors import ExtractError
from .text_repair import SAMPLE_BYTES, LegacyDecoder, detect_file_encoding

CHUNK = 4 << 20
# Longest line (record) accepted: a cell of a system export can be megabytes (a pasted note);
# DuckDB's default (2 MB) and Python's csv field limit (128 KB) would refuse far smaller ones.
MAX_LINE_BYTES = 64 << 20
# DuckDB's CSV reader allocates, per scanning thread, a buffer of 16 × max_line_size (1 GiB
# with the above) for files larger than that: two threads on a 3.8 GB national hoc_sinh.csv
# then exceed the 2 GB memory limit. A buffer twice the longest line is enough.
CSV_BUFFER_BYTES = 2 * MAX_LINE_BYTES
csv.field_size_limit(MAX_LINE_BYTES)
HEADER_SCAN_BYTES = 1 << 20
HEADER_SCAN_RECORDS = 30
CSV_SUFFIXES = (".csv", ".txt", ".tsv")
# Spreadsheets, all read by python-calamine (one reader for the four formats the education
# database and office suites write; measured against openpyxl in bench/bench_readers.py).
XLSX_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
OLD_EXCEL_SUFFIXES = ()
XLSX_MAGIC = b"PK\x03\x04"                      # an .xlsx is a zip
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"    # Excel 97-2003 .xls
MANIFEST_NAME = "manifest.toml"
NAME_TABLES = ("students", "staff")            # tables whose full_name is repaired
NAME_EXTRAS = ("full_name_raw", "full_name_legacy")
TRIM_CHARS = " \t\r\n\u00a0\u200b\ufeff"
# Text made only of these characters is NFC already (ASCII, Latin-1, Latin Extended-A/B and the
# precomposed Vietnamese letters): DuckDB's nfc_normalize is costly on non-ASCII text (9 of 11 s
# for 1.7 million students), so it only runs on values holding anything else (e.g. a combining
# tone mark), and not at all on files that hold none.
_NFC_UNSAFE = re.compile("[^\\x00-\\u024f\\u1e00-\\u1eff]")
NFC_UNSAFE_RE2 = r"[^\x{0000}-\x{024F}\x{1E00}-\x{1EFF}]"   # the same class for DuckDB (RE2)

ENCODING_LABELS = {
    "utf-8": "UTF-8", "utf-8-sig": "UTF-8 (BOM)", "utf-16-le-bom": "UTF-16LE (BOM)",
    "utf-16-be-bom": "UTF-16BE (BOM)", "utf-16-le": "UTF-16LE", "utf-16-be": "UTF-16BE",
    "cp1258": "Windows-1258", "tcvn3": "TCVN3 (ABC)", "vni": "VNI-Windows", "xlsx": "XLSX",
}
LEGACY_ENCODINGS = ("tcvn3", "vni")   # whole files in a legacy Vietnamese font encoding


# ---- messages ------------------------------------------------------------------------------
def refuse(vi: str, en: str, file: str | None = None, row: int | None = None,
           column: str | None = None, locate: bool = True) -> ExtractError:
    """The bilingual refusal: 'Tệp F, dòng R, cột "C": vi [F row R, column "C": en]'.
    With locate=False the message is taken as is (it names the file itself)."""
    loc_vi, loc_en = [], []
    if locate and file:
        loc_vi.append(f"Tệp {file}")
        loc_en.append(file)
    if locate and row is not None:
        loc_vi.append(f"dòng {row}")
        loc_en.append(f"row {row}")
    if locate and column is not None:
        loc_vi.append(f'cột "{column}"')
        loc_en.append(f'column "{column}"')
    if loc_vi:
        text_vi = ", ".join(loc_vi) + ": " + vi
        text_en = loc_en[0] + (" " + ", ".join(loc_en[1:]) if len(loc_en) > 1 else "") + ": " + en
    else:
        text_vi, text_en = vi[:1].upper() + vi[1:], en[:1].upper() + en[1:]
    return ExtractError(f"{text_vi} [{text_en}]", file=file, row=row, column=column)


# ---- header keys ---------------------------------------------------------------------------
def strip_accents(text: str) -> str:
    text = text.replace("đ", "d").replace("Đ", "D")
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


def header_key(text: str) -> str:
    """'Mã trường', 'MA TRUONG', 'ma  truong', 'Ma_truong' → 'matruong'."""
    return re.sub(r"[\W_]+", "", strip_accents(str(text)).lower())


def snake_ascii(text: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", strip_accents(str(text)).lower()).strip("_")


_IGNORED_KEYS = {header_key(h) for h in schema.IGNORED_HEADERS}


def header_index(table: schema.Table) -> dict[str, set[str]]:
    """key → canonical column names it names (more than one = an ambiguous alias)."""
    idx: dict[str, set[str]] = {}
    for c in table.columns:
        for h in (c.header, c.name, *c.aliases):
            idx.setdefault(header_key(h), set()).add(c.name)
    return idx


@dataclass
class HeaderMap:
    headers: list[str]                              # the header fields as written
    header_row: int                                 # spreadsheet row of the header
    columns: dict[str, int] = field(default_factory=dict)   # canonical name → position
    extras: list[tuple[int, str]] = field(default_factory=list)  # (position, extra__name)

    def header_of(self, name: str) -> str:
        return self.headers[self.columns[name]].strip()


def map_headers(table: schema.Table, headers: list[str], file: str, header_row: int) -> HeaderMap:
    idx = header_index(table)
    hm = HeaderMap(headers=list(headers), header_row=header_row)
    seen_extra: set[str] = set()
    for pos, raw in enumerate(headers):
        text = (raw or "").strip()
        key = header_key(text)
        if key and key in _IGNORED_KEYS:
            continue  # STT: the export's row number, dropped
        names = idx.get(key) if key else None
        if names and len(names) > 1:
            a, b = sorted(names)
            raise refuse(
                f'tiêu đề này khớp với hai cột "{table.column(a).header}" và "{table.column(b).header}". '
                f"Hãy đổi tên tiêu đề cho rõ rồi nhập lại.",
                f'the header matches two columns, {a} and {b}; rename it and import again.',
                file, header_row, text)
        if names:
            name = next(iter(names))
            if name in hm.columns:
                first = hm.headers[hm.columns[name]].strip()
                col = table.column(name)
                raise refuse(
                    f'cột này và cột "{first}" (cột thứ {hm.columns[name] + 1}) cùng là '
                    f'"{col.header}". Hãy xóa hoặc đổi tên một trong hai cột rồi nhập lại.',
                    f'this column and column "{first}" (column {hm.columns[name] + 1}) both mean '
                    f'{name} ("{col.header}"); remove or rename one of them and import again.',
                    file, header_row, text)
            hm.columns[name] = pos
            continue
        base = "extra__" + (snake_ascii(text) or f"col{pos + 1}")
        name, n = base, 2
        while name in seen_extra:
            name, n = f"{base}_{n}", n + 1
        seen_extra.add(name)
        hm.extras.append((pos, name))

    found = ", ".join(f'"{h.strip()}"' for h in headers if h and h.strip()) or "(không có)"
    found_en = ", ".join(f'"{h.strip()}"' for h in headers if h and h.strip()) or "(none)"
    part_keys = {header_key(h) for h in schema.ADDRESS_PARTS}
    has_parts = any(header_key(hm.headers[pos]) in part_keys for pos, _ in hm.extras)
    for c in table.columns:
        if c.name == "permanent_address" and has_parts:
            continue   # assembled from the split residence columns (load_table)
        if c.required and c.name not in hm.columns:
            alias = (f' (hoặc {", ".join(chr(34) + a + chr(34) for a in c.aliases)})' if c.aliases else "")
            raise refuse(
                f'thiếu cột bắt buộc "{c.header}"{alias}. Các cột có trong tệp: {found}. '
                f'Hãy thêm cột "{c.header}" (hoặc sửa tiêu đề cho đúng) rồi nhập lại.',
                f'required column "{c.header}" ({c.name}) is missing; the file has {found_en}. '
                f'Add the column (or fix its header) and import again.',
                file, header_row, c.header)
    if table.name == "students" and not ({"id_number", "personal_id"} & set(hm.columns)):
        a, b = table.column("id_number").header, table.column("personal_id").header
        raise refuse(
            f'thiếu cột giấy tờ tùy thân: cần ít nhất một trong hai cột "{a}" hoặc "{b}". '
            f"Các cột có trong tệp: {found}. Hãy xuất lại danh sách học sinh có cột này rồi nhập lại.",
            f'no identity column: at least one of "{a}" (id_number) or "{b}" (personal_id) is '
            f"required; the file has {found_en}. Export the student list with it and import again.",
            file, header_row, a)
    return hm


def match_score(table: schema.Table, fields: list[str]) -> int:
    idx = header_index(table)
    return sum(1 for f in fields if f and header_key(f) in idx)


# ---- the extract: a folder or a zip -------------------------------------------------------
@dataclass
class Member:
    table: schema.Table
    name: str                    # file name as in the extract (for messages)
    kind: str                    # 'csv' | 'xlsx' (any spreadsheet)
    path: Path | None = None     # folder extract
    zip_name: str | None = None  # zip extract
    # A table given as several spreadsheets (a folder hoc_sinh/, files hoc_sinh*.xlsx): every
    # (name in the extract, ref) in order; ref is a Path (folder) or a zip entry name.
    parts: list = field(default_factory=list)

    @property
    def suffix(self) -> str:
        return Path(self.name).suffix.lower()


@dataclass
class Extract:
    source: Path
    is_zip: bool
    members: dict[str, Member]            # table name → member
    manifest: dict | None
    manifest_name: str | None
    _zip: zipfile.ZipFile | None = None

    def open(self, m: Member) -> BinaryIO:
        if m.path is not None:
            return open(m.path, "rb")
        assert self._zip is not None and m.zip_name is not None
        try:
            return self._zip.open(m.zip_name)
        except ZIP_READ_ERRORS as e:
            raise zip_entry_refusal(self.source.name, m.zip_name, e) from None

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()
            self._zip = None


# What reading a damaged or unusual zip entry raises: RuntimeError (encrypted entry),
# NotImplementedError (Deflate64 of Windows Explorer for big files, other methods), zlib.error
# and BadZipFile (damaged data, wrong CRC), EOFError/OSError (cut file).
ZIP_READ_ERRORS = (zipfile.BadZipFile, zlib.error, RuntimeError, NotImplementedError, EOFError, OSError)
# Bounds of a .zip, checked from its directory before anything is expanded (issue 13, finding 5:
# a zip bomb must be refused before it fills the disk). The whole city's extract is ~0.75 GB of
# CSV (estimated from the demo scale: hoc_sinh × 373, diem_mon_hoc × 159), its files compress
# 5-11 times; the bounds leave a wide margin above both. zipfile never expands an entry beyond
# the size its directory declares, so the declared sizes bound what is written.
MAX_ZIP_UNCOMPRESSED = 8 * 1024 ** 3
MAX_ZIP_RATIO = 200            # uncompressed / compressed, for entries above 1 MB
ZIP_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA)


def zip_entry_refusal(archive: str, entry: str, e: BaseException | None = None,
                      info: zipfile.ZipInfo | None = None) -> ExtractError:
    if (info is not None and info.flag_bits & 0x1) or (isinstance(e, RuntimeError) and "encrypted" in str(e)):
        return refuse(
            f'mục "{entry}" trong tệp nén có đặt mật khẩu, nên không đọc được. Hãy nén lại bản trích xuất '
            f"không đặt mật khẩu rồi nhập lại.",
            f'entry "{entry}" of the zip is password-protected and cannot be read; zip the extract again '
            f"without a password and import again.", archive)
    if (info is not None and info.compress_type not in ZIP_METHODS) or isinstance(e, NotImplementedError):
        how = f" (phương thức {info.compress_type})" if info is not None else ""
        how_en = f" (method {info.compress_type})" if info is not None else ""
        return refuse(
            f'mục "{entry}" được nén bằng phương thức không hỗ trợ{how}, thường do nén tệp rất lớn bằng '
            f'Windows. Hãy nén lại bằng 7-Zip với kiểu nén "Deflate" (hoặc gửi thư mục không nén) rồi nhập lại.',
            f'entry "{entry}" uses an unsupported compression method{how_en} (often Deflate64 of Windows '
            f'for very big files); zip it again with 7-Zip using "Deflate" (or send the folder) and import again.',
            archive)
    return refuse(
        f'mục "{entry}" trong tệp nén bị hỏng ({type(e).__name__}: {e}). Hãy nén lại bản trích xuất rồi nhập lại.',
        f'entry "{entry}" of the zip is damaged ({type(e).__name__}: {e}); zip the extract again and import again.',
        archive)


def _is_junk(part: str) -> bool:
    return part.startswith(".") or part.startswith("~$") or part == "__MACOSX"


def _unsafe_zip_name(name: str) -> bool:
    n = name.replace("\\", "/")
    if n.startswith("/") or re.match(r"^[A-Za-z]:", n):
        return True
    return any(p == ".." for p in n.split("/"))


def _choose_root(files: dict[tuple[str, ...], object], dirs: set[tuple[str, ...]]) -> tuple[str, ...]:
    """The folder holding the extract's files: the top, or a single nested top folder."""
    root: tuple[str, ...] = ()
    for _ in range(4):
        here = [p for p in files if p[:-1] == root and not _is_junk(p[-1])]
        if any(_recognise(p[-1]) or p[-1].lower() == MANIFEST_NAME for p in here):
            return root
        subs = {d for d in dirs if len(d) == len(root) + 1 and d[:-1] == root and not _is_junk(d[-1])}
        if len(subs) != 1:
            return root
        root = next(iter(subs))
    return root


def _recognise(filename: str) -> tuple[schema.Table, str] | None:
    p = Path(filename)
    stem, suffix = p.stem.lower(), p.suffix.lower()
    table = schema.TABLES_BY_FILE.get(stem) or schema.TABLES_BY_NAME.get(stem)
    if table is None and suffix in XLSX_SUFFIXES:
        # hoc_sinh_12A1.xlsx, hoc_sinh-truong1.xls: one of several files of the same table
        for t in schema.TABLES:
            if stem.startswith(t.file) and len(stem) > len(t.file) and stem[len(t.file)] in " _-.(":
                table = t
                break
    if table is None:
        return None
    if suffix in CSV_SUFFIXES:
        return table, "csv"
    if suffix in XLSX_SUFFIXES:
        return table, "xlsx"
    if suffix in OLD_EXCEL_SUFFIXES:
        return table, "old"
    return None


def open_extract(path: str | Path) -> Extract:
    src = Path(path)
    if not src.exists():
        raise refuse(f"không tìm thấy bản trích xuất {src}. Hãy kiểm tra đường dẫn rồi nhập lại.",
                     f"extract {src} not found; check the path and import again.")
    files: dict[tuple[str, ...], object] = {}
    dirs: set[tuple[str, ...]] = set()
    zf = None
    if src.is_dir():
        def walk(d: Path, rel: tuple[str, ...], depth: int) -> None:
            for e in sorted(os.scandir(d), key=lambda e: e.name):
                r = rel + (e.name,)
                if e.is_dir():
                    dirs.add(r)
                    if depth < 4:
                        walk(Path(e.path), r, depth + 1)
                elif e.is_file():
                    if e.is_symlink() and not Path(e.path).resolve().is_relative_to(base):
                        # like a zip entry outside the archive: never read files elsewhere
                        raise refuse(
                            f'tệp "{"/".join(r)}" là liên kết (symlink) trỏ ra ngoài thư mục bản trích xuất, '
                            f"nên không nhập gì. Hãy chép chính tệp đó vào thư mục rồi nhập lại.",
                            f'"{"/".join(r)}" is a symbolic link to a file outside the extract folder; nothing '
                            f"was imported. Copy the file itself into the folder and import again.", src.name)
                    files[r] = Path(e.path)
        base = src.resolve()
        walk(src, (), 0)
    elif src.suffix.lower() == ".zip" or zipfile.is_zipfile(src):
        try:
            zf = zipfile.ZipFile(src)
            infos = zf.infolist()
        except (zipfile.BadZipFile, OSError) as e:
            raise refuse(f"không mở được tệp nén ({e}). Hãy nén lại bản trích xuất rồi nhập lại.",
                         f"cannot open the zip file ({e}); zip the extract again and import again.",
                         src.name)
        total = 0
        for info in infos:
            total += info.file_size
            if (info.file_size > 1024 ** 2 and info.file_size > MAX_ZIP_RATIO * max(1, info.compress_size)) \
                    or total > MAX_ZIP_UNCOMPRESSED:
                zf.close()
                raise refuse(
                    f'mục "{info.filename}" của tệp nén khi giải nén quá lớn ({info.file_size:,} byte từ '
                    f"{info.compress_size:,} byte nén; tổng {total:,} byte, giới hạn {MAX_ZIP_UNCOMPRESSED:,} byte, "
                    f"tỉ lệ nén tối đa {MAX_ZIP_RATIO}): không giống một bản trích xuất, nên không nhập gì. "
                    f"Hãy nén lại đúng các tệp của bản trích xuất rồi nhập lại.",
                    f'entry "{info.filename}" would expand too far ({info.file_size} bytes from '
                    f"{info.compress_size}; total {total}): refused before expanding.", src.name)
            if _unsafe_zip_name(info.filename):
                zf.close()
                raise refuse(
                    f'mục "{info.filename}" có đường dẫn ra ngoài thư mục của tệp nén (không an toàn), '
                    f"nên không nhập gì. Hãy nén lại chỉ các tệp của bản trích xuất rồi nhập lại.",
                    f'entry "{info.filename}" points outside the archive folder (unsafe path); nothing '
                    f"was imported. Zip only the extract's files and import again.", src.name)
            parts = tuple(p for p in info.filename.replace("\\", "/").split("/") if p and p != ".")
            if not parts:
                continue
            for i in range(1, len(parts)):
                dirs.add(parts[:i])
            if info.is_dir():
                dirs.add(parts)
            elif not stat.S_ISLNK(info.external_attr >> 16):
                files[parts] = info.filename
    else:
        raise refuse(f"{src.name} không phải thư mục hay tệp .zip. Hãy chỉ định thư mục bản trích xuất "
                     f"hoặc tệp .zip rồi nhập lại.",
                     f"{src.name} is neither a folder nor a .zip file; give the extract folder or zip.")

    root = _choose_root(files, dirs)
    members: dict[str, Member] = {}
    manifest_ref = None
    # A folder named after a table (hoc_sinh/, sub-folders too): every spreadsheet in it is one
    # file of that table (one per class or per school, as the education database exports them).
    folder_parts: dict[str, list] = {}
    for parts, ref in sorted(files.items()):
        if len(parts) < len(root) + 2 or parts[:len(root)] != root or any(_is_junk(x) for x in parts):
            continue
        t = schema.TABLES_BY_FILE.get(parts[len(root)].lower())
        if t is not None and Path(parts[-1]).suffix.lower() in XLSX_SUFFIXES:
            folder_parts.setdefault(t.name, []).append(("/".join(parts[len(root):]), ref))
    for tname, plist in folder_parts.items():
        t = schema.TABLES_BY_NAME[tname]
        first_name, first_ref = plist[0]
        members[tname] = Member(t, t.file + "/", "xlsx",
                                path=first_ref if isinstance(first_ref, Path) else None,
                                zip_name=first_ref if isinstance(first_ref, str) else None,
                                parts=list(plist))
    for parts, ref in sorted(files.items()):
        if parts[:-1] != root or _is_junk(parts[-1]):
            continue
        fname = parts[-1]
        if fname.lower() == MANIFEST_NAME:
            manifest_ref = (fname, ref)
            continue
        rec = _recognise(fname)
        if rec is None:
            continue
        table, kind = rec
        if kind == "old":
            if zf:
                zf.close()
            raise refuse(
                f"định dạng {Path(fname).suffix} không được hỗ trợ. Hãy mở tệp bằng Excel, lưu thành "
                f'"Excel Workbook (.xlsx)" hoặc "CSV UTF-8" rồi nhập lại.',
                f"the {Path(fname).suffix} format is not supported; save the file as .xlsx or CSV UTF-8 "
                f"and import again.", fname)
        if table.name in members and kind == "xlsx" and members[table.name].kind == "xlsx":
            prev = members[table.name]
            if not prev.parts:
                prev.parts = [(prev.name, prev.path if prev.path is not None else prev.zip_name)]
            prev.parts.append((fname, ref))
            prev.name = f"{table.file}*"
            continue
        if table.name in members:
            other = members[table.name].name
            if zf:
                zf.close()
            raise refuse(
                f'có hai tệp cho cùng "{table.title}": {other} và {fname}. Hãy giữ lại một tệp rồi nhập lại.',
                f"two files for the same table ({table.name}): {other} and {fname}; keep one and "
                f"import again.", fname)
        members[table.name] = Member(table, fname, kind,
                                     path=ref if isinstance(ref, Path) else None,
                                     zip_name=ref if isinstance(ref, str) else None)

    if zf is not None:   # refuse encrypted / unsupported entries before any work
        refs = [r for m in members.values() for r in ([p[1] for p in m.parts] if m.parts else [m.zip_name])]
        for ref in refs + ([manifest_ref[1]] if manifest_ref else []):
            info = zf.getinfo(ref)
            if info.flag_bits & 0x1 or info.compress_type not in ZIP_METHODS:
                zf.close()
                raise zip_entry_refusal(src.name, ref, info=info)

    manifest = None
    manifest_name = None
    if manifest_ref is not None:
        manifest_name, ref = manifest_ref
        try:
            raw = ref.read_bytes() if isinstance(ref, Path) else zf.read(ref)
        except ZIP_READ_ERRORS as e:
            if zf:
                zf.close()
            raise zip_entry_refusal(src.name, ref, e) if not isinstance(ref, Path) else refuse(
                f"không đọc được tệp ({e}). Hãy kiểm tra tệp rồi nhập lại.",
                f"cannot read the file ({e}); check it and import again.", manifest_name) from None
        try:
            manifest = tomllib.loads(raw.decode("utf-8-sig"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
            if zf:
                zf.close()
            m = re.search(r"line ([0-9]+)", str(e))
            raise refuse(f"tệp manifest không hợp lệ ({e}). Hãy sửa theo dạng TOML, ví dụ "
                         f"as_of = 2022-04-27T17:00:00+07:00, rồi nhập lại.",
                         f"invalid manifest ({e}); fix it (TOML, e.g. as_of = 2022-04-27T17:00:00+07:00) "
                         f"and import again.", manifest_name, int(m.group(1)) if m else None)

    missing = [t for t in schema.TABLES if t.required and t.name not in members]
    if missing:
        t = missing[0]
        if zf:
            zf.close()
        where = f"tệp nén {src.name}" if zf else f"thư mục {src.name}"
        # The file may sit in other folders (two extracts zipped together): say where.
        elsewhere = sorted({"/".join(p[:-1]) or "." for p in files
                            if p[:-1] != root and not any(_is_junk(x) for x in p)
                            and (_recognise(p[-1]) or (None,))[0] is t})
        if elsewhere:
            dirs_txt = ", ".join(f'"{d}"' for d in elsewhere[:5])
            raise refuse(
                f"thiếu tệp bắt buộc {t.file}.csv (hoặc {t.file}.xlsx) — {t.title} — ở cấp thư mục của bản "
                f"trích xuất trong {where}; có tệp này trong các thư mục con {dirs_txt}. Mỗi lần chỉ nhập một "
                f"bản trích xuất. Hãy nén riêng từng thư mục rồi nhập lại.",
                f"required file {t.file}.csv ({t.name}) is not at the extract's level in {src.name}; it is "
                f"in the sub-folders {dirs_txt}. Import one extract at a time: zip each folder on its own "
                f"and import again.", f"{t.file}.csv", locate=False)
        raise refuse(
            f"thiếu tệp bắt buộc {t.file}.csv (hoặc {t.file}.xlsx) — {t.title} — trong {where}. "
            f"Hãy xuất tệp này từ hệ thống CSDL, đặt vào bản trích xuất rồi nhập lại.",
            f"required file {t.file}.csv (or {t.file}.xlsx, table {t.name}) is missing from "
            f"{src.name}; export it from the database, add it to the extract and import again.",
            f"{t.file}.csv", locate=False)
    return Extract(src, zf is not None, members, manifest, manifest_name, zf)


# ---- pass 1: hash, copy, encoding -----------------------------------------------------------
class BlankLineDetector:
    """Finds blank lines followed by more data (DuckDB skips blank lines, which would shift
    row numbers). Blank lines at the very end are harmless."""

    def __init__(self) -> None:
        self.tail = b""
        self.pending = False
        self.interior = False

    def feed(self, chunk: bytes) -> None:
        if self.interior or not chunk:
            return
        buf = self.tail + chunk
        if self.pending and buf.strip(b"\r\n"):
            self.interior = True
            return
        hits = [i for i in (buf.find(b"\n\n"), buf.find(b"\n\r\n")) if i >= 0]
        if hits:
            if buf[min(hits):].strip(b"\r\n"):
                self.interior = True
            else:
                self.pending = True
        self.tail = buf[-2:]


@dataclass
class Scanned:
    member: Member
    path: Path            # local file holding the raw bytes
    encoding: str         # key of ENCODING_LABELS
    bom: int = 0
    interior_blank: bool = False
    size: int = 0
    nfc_safe: bool = False  # no character that NFC could change: skip normalisation
    detection: object | None = None   # text_repair.Detection when the file was not UTF-8
    parts: list = field(default_factory=list)   # (name in the extract, local path) of a multi-file table

    @property
    def label(self) -> str:
        return ENCODING_LABELS[self.encoding]


def _nul_pattern(sample: bytes) -> str | None:
    """UTF-16 without BOM: ASCII-heavy text has NUL in every other byte."""
    if len(sample) < 4:
        return None
    even = sample[0::2].count(0)
    odd = sample[1::2].count(0)
    half = len(sample) // 2
    if odd > 0.3 * half and even < 0.05 * half:
        return "utf-16-le"
    if even > 0.3 * half and odd < 0.05 * half:
        return "utf-16-be"
    return None


def _decode_refusal(file: str, line: int | None, byte: int | None, what: str) -> ExtractError:
    b = f" (byte 0x{byte:02X})" if byte is not None else ""
    return refuse(
        f"không đọc được nội dung: {what}{b}. Hãy mở tệp bằng Excel và lưu lại dưới dạng "
        f'"CSV UTF-8 (Comma delimited)" hoặc .xlsx rồi nhập lại.',
        f"cannot decode the file: {what_en(what)}{b}; save it as CSV UTF-8 or .xlsx and import again.",
        file, line)


def what_en(what: str) -> str:
    return {
        "tệp không phải UTF-8, UTF-16 hay Windows-1258": "it is neither UTF-8, UTF-16 nor Windows-1258",
        "tệp UTF-8 có byte không hợp lệ": "the UTF-8 file has an invalid byte",
        "tệp UTF-16 bị hỏng": "the UTF-16 file is damaged",
    }.get(what, what)


def scan_member(ext: Extract, m: Member, hasher, work: Path) -> Scanned:
    """One streamed pass: feed the hash, copy a zip member to the work folder, detect the
    encoding (BOM → that; NUL pattern → UTF-16; valid UTF-8 → UTF-8; else TCVN3 or VNI when a
    bounded sample reads clearly as one of them, else Windows-1258)."""
    if m.parts:
        return _scan_parts(ext, m, hasher, work)
    copy_to = None if m.path is not None else work / f"src-{m.table.name}{m.suffix}"
    out = open(copy_to, "wb") if copy_to else None
    size = 0
    enc: str | None = "xlsx" if m.kind == "xlsx" else None
    bom = 0
    utf8_ok = True
    multibyte = False
    nfc_safe = True
    bad: tuple[int, int] | None = None   # (line, byte) of the first invalid UTF-8 byte
    newlines = 0
    dec = codecs.getincrementaldecoder("utf-8")("strict")
    blank = BlankLineDetector()
    # Evidence for a legacy encoding: the head of the file and the chunk where UTF-8 failed
    # (bounded: never the whole file).
    head = bytearray()        # the first SAMPLE_BYTES of the file
    at_fault = b""            # bytes around the first invalid UTF-8 byte, when beyond the head
    try:
        with ext.open(m) as f:
            first = True
            while True:
                try:
                    chunk = f.read(CHUNK)
                except ZIP_READ_ERRORS as e:
                    raise refuse(f"không đọc được tệp ({type(e).__name__}: {e}). Hãy xuất lại tệp rồi nhập lại.",
                                 f"cannot read the file ({e}); export it again and import again.", m.name)
                if not chunk:
                    break
                size += len(chunk)
                hasher.update(chunk)
                if out:
                    out.write(chunk)
                if enc == "xlsx":
                    continue
                if first:
                    first = False
                    if chunk.startswith(XLSX_MAGIC):
                        # An Excel workbook saved (or renamed) with a .csv/.txt name: read it as XLSX.
                        enc = "xlsx"
                        continue
                    if chunk.startswith(OLE_MAGIC):
                        # An Excel 97-2003 workbook under a .csv/.txt name: read it as a spreadsheet.
                        enc = "xlsx"
                        continue
                    if chunk.startswith(codecs.BOM_UTF8):
                        enc, bom = "utf-8-sig", 3
                    elif chunk.startswith(codecs.BOM_UTF16_LE):
                        enc, bom = "utf-16-le-bom", 2
                    elif chunk.startswith(codecs.BOM_UTF16_BE):
                        enc, bom = "utf-16-be-bom", 2
                    else:
                        enc = _nul_pattern(chunk[:4096])
                if enc in (None, "utf-8-sig"):
                    in_head = len(head) + len(chunk) <= SAMPLE_BYTES
                    if len(head) < SAMPLE_BYTES:
                        head += chunk[:SAMPLE_BYTES - len(head)]
                    if utf8_ok:
                        try:
                            text = dec.decode(chunk)
                            if not text.isascii():
                                multibyte = True
                                if nfc_safe and _NFC_UNSAFE.search(text):
                                    nfc_safe = False
                        except UnicodeDecodeError as e:
                            utf8_ok = False
                            pos = max(0, min(e.start, len(chunk) - 1))
                            if not chunk[:pos].isascii():
                                multibyte = True  # valid multi-byte UTF-8 before the bad byte
                            bad = (newlines + chunk[:pos].count(b"\n") + 1, chunk[pos])
                            if not in_head:
                                at_fault = chunk[max(0, pos - SAMPLE_BYTES // 2):pos + SAMPLE_BYTES // 2]
                    newlines += chunk.count(b"\n")
                    blank.feed(chunk)
            if enc in (None, "utf-8-sig") and utf8_ok:
                try:
                    dec.decode(b"", final=True)
                except UnicodeDecodeError:
                    utf8_ok = False
                    bad = (newlines + 1, None)
    finally:
        if out:
            out.close()
    if size == 0:
        raise refuse("tệp rỗng (không có cả dòng tiêu đề). Hãy xuất lại tệp rồi nhập lại.",
                     "the file is empty (not even a header row); export it again and import again.",
                     m.name)
    detection = None
    if enc is None:
        enc = "utf-8" if utf8_ok else None
    if enc is None:
        # Not UTF-8: which 8-bit Vietnamese encoding, on evidence (never on one name).
        detection = detect_file_encoding(bytes(head) + b"\n" + at_fault)
        if detection.encoding in LEGACY_ENCODINGS:
            enc = detection.encoding
    if enc is None:
        if multibyte:
            # Real UTF-8 text with a damaged byte: decoding it all as Windows-1258 would garble
            # every Vietnamese letter, so refuse and point at the byte.
            raise _decode_refusal(m.name, bad[0] if bad else None, bad[1] if bad else None,
                                  "tệp UTF-8 có byte không hợp lệ")
        enc = "cp1258"
    elif enc == "utf-8-sig" and not utf8_ok:
        raise _decode_refusal(m.name, bad[0] if bad else None, bad[1] if bad else None,
                              "tệp UTF-8 có byte không hợp lệ")
    utf8 = enc.startswith("utf-8")
    return Scanned(m, copy_to or m.path, enc, bom, blank.interior if utf8 else False, size,
                   nfc_safe and utf8, detection)


def _scan_parts(ext: Extract, m: Member, hasher, work: Path) -> Scanned:
    """A table of several spreadsheets: hash every file (name and bytes, so renaming or moving
    a class file is a new snapshot) and copy zip entries to the work folder."""
    local: list[tuple[str, Path]] = []
    size = 0
    for i, (name, ref) in enumerate(m.parts):
        hasher.update(name.encode("utf-8"))
        if isinstance(ref, Path):
            src, dst = open(ref, "rb"), None
            path = ref
        else:
            try:
                src = ext._zip.open(ref)
            except ZIP_READ_ERRORS as e:
                raise zip_entry_refusal(ext.source.name, ref, e) from None
            path = work / f"src-{m.table.name}-{i}{Path(name).suffix.lower()}"
            dst = open(path, "wb")
        try:
            with src:
                while True:
                    try:
                        chunk = src.read(CHUNK)
                    except ZIP_READ_ERRORS as e:
                        raise refuse(f"không đọc được tệp ({type(e).__name__}: {e}). Hãy xuất lại tệp rồi "
                                     f"nhập lại.", f"cannot read the file ({e}); export it again and import "
                                     f"again.", name)
                    if not chunk:
                        break
                    size += len(chunk)
                    hasher.update(chunk)
                    if dst:
                        dst.write(chunk)
        finally:
            if dst:
                dst.close()
        local.append((name, path))
    return Scanned(m, local[0][1], "xlsx", size=size, parts=local)


def transcode(sc: Scanned, work: Path) -> tuple[Path, bool, bool]:
    """UTF-16 / Windows-1258 / TCVN3 / VNI → a UTF-8 work file (streamed). Windows-1258 text is
    decomposed by nature (tone marks are separate bytes), so it is NFC-composed here, line by
    line: its decomposition is the encoding's, not the data's (VNI likewise: a letter and its
    mark bytes; LegacyDecoder returns NFC text). Returns (path, interior blank lines,
    NFC-safe)."""
    codec = {"utf-16-le-bom": "utf-16-le", "utf-16-be-bom": "utf-16-be"}.get(sc.encoding, sc.encoding)
    dst = work / f"utf8-{sc.member.table.name}.csv"
    legacy = sc.encoding in LEGACY_ENCODINGS
    dec = LegacyDecoder(sc.encoding) if legacy else codecs.getincrementaldecoder(codec)("strict")
    blank = BlankLineDetector()
    nfc = sc.encoding == "cp1258"
    carry = ""
    lines = 0
    nfc_safe = True
    with open(sc.path, "rb") as f, open(dst, "wb") as out:
        f.seek(sc.bom)
        while True:
            chunk = f.read(CHUNK)
            final = not chunk
            try:
                text = dec.decode(chunk, final=final)
            except UnicodeDecodeError as e:
                if codec == "cp1258":
                    pos = max(0, min(e.start, len(chunk) - 1))
                    raise _decode_refusal(sc.member.name, lines + chunk[:pos].count(b"\n") + 1,
                                          chunk[pos], "tệp không phải UTF-8, UTF-16 hay Windows-1258")
                raise _decode_refusal(sc.member.name, lines + 1, None, "tệp UTF-16 bị hỏng")
            if codec == "cp1258":
                lines += chunk.count(b"\n")
            else:
                lines += text.count("\n")
            if nfc:
                text = carry + text
                if final:
                    carry = ""
                else:
                    cut = text.rfind("\n") + 1
                    text, carry = text[:cut], text[cut:]
                text = unicodedata.normalize("NFC", text)
            elif not legacy and nfc_safe and not text.isascii() and _NFC_UNSAFE.search(text):
                nfc_safe = False
            data = text.encode("utf-8")
            out.write(data)
            blank.feed(data)
            if final:
                break
    return dst, blank.interior, nfc_safe


# ---- pass 2: header, delimiter, row numbers --------------------------------------------------
@dataclass
class Prepared:
    """A UTF-8 CSV ready for DuckDB, and how to read it."""
    path: Path
    delimiter: str
    skip: int                     # physical lines before the header line
    header: list[str]
    header_row: int               # spreadsheet row of the header
    row_column: bool              # first column of the file is _row (written by us)
    encoding: str
    nfc_safe: bool = False        # the text needs no NFC normalisation


def _head_text(path: Path, bom: int) -> str:
    with open(path, "rb") as f:
        f.seek(bom)
        raw = f.read(HEADER_SCAN_BYTES)
    text = codecs.getincrementaldecoder("utf-8")("replace").decode(raw, final=False)
    return text.lstrip("\ufeff")


def _records(text: str, delim: str, limit: int = HEADER_SCAN_RECORDS) -> list[tuple[list[str], int]]:
    """(fields, physical lines consumed so far) for the first records of the text."""
    out = []
    r = csv.reader(io.StringIO(text, newline=""), delimiter=delim, quotechar='"', doublequote=True)
    try:
        for fields in r:
            out.append((fields, r.line_num))
            if len(out) >= limit:
                break
    except csv.Error:
        pass
    return out


def find_header_csv(table: schema.Table, text: str, file: str) -> tuple[str, int, list[str]]:
    """(delimiter, physical lines before the header, header fields). The header is the first
    record (of the first few) naming at least two known columns; comma, semicolon or tab,
    whichever names the most."""
    best = None
    for delim in (",", ";", "\t"):
        recs = _records(text, delim)
        for i, (fields, _) in enumerate(recs):
            score = match_score(table, fields)
            if score >= 2:
                cand = (score, len(fields), delim, recs[i - 1][1] if i else 0, fields)
                if best is None or cand[:2] > best[:2]:
                    best = cand
                break
    if best is not None:
        return best[2], best[3], best[4]
    # Nothing recognisable: take the first non-empty line; the column check then says what is missing.
    for line_no, line in enumerate(text.splitlines()):
        if line.strip():
            delim = max((",", ";", "\t"), key=lambda d: line.count(d))
            recs = _records("\n".join(text.splitlines()[line_no:]), delim, 1)
            return delim, line_no, (recs[0][0] if recs else [line])
    raise refuse("không có dòng tiêu đề. Hãy xuất lại tệp rồi nhập lại.",
                 "no header row; export the file again and import again.", file)


def prepare_csv(sc: Scanned, work: Path) -> Prepared:
    table, file = sc.member.table, sc.member.name
    path, bom, interior, nfc_safe = sc.path, sc.bom, sc.interior_blank, sc.nfc_safe
    if not sc.encoding.startswith("utf-8"):
        path, interior, nfc_safe = transcode(sc, work)
        bom = 0
    text = _head_text(path, bom)
    delim, skip, header = find_header_csv(table, text, file)
    if not interior:
        return Prepared(path, delim, skip, header, skip + 1, False, sc.encoding, nfc_safe)
    return _csv_with_row_numbers(path, bom, delim, skip, header, work, sc, nfc_safe)


def _ragged(file: str, row: int, n: int, header: list[str]) -> ExtractError:
    col = header[n].strip() if n < len(header) else None
    return refuse(
        f"dòng có {n} ô nhưng dòng tiêu đề có {len(header)} cột (thường do dấu phẩy hoặc dấu chấm phẩy "
        f"trong một ô mà không đặt trong ngoặc kép, hoặc dòng bị cắt). Hãy sửa dòng này rồi nhập lại.",
        f"the line has {n} fields but the header has {len(header)} columns (often a comma inside a "
        f"value without quotes, or a cut line); fix the line and import again.",
        file, row, col)


def _csv_with_row_numbers(path: Path, bom: int, delim: str, skip: int, header: list[str],
                          work: Path, sc: Scanned, nfc_safe: bool) -> Prepared:
    """Slow path for CSV files with blank lines between records: Python's csv module counts
    rows exactly as a spreadsheet shows them and writes them with their row number."""
    file = sc.member.name
    dst = work / f"rows-{sc.member.table.name}.csv"
    width = len(header)
    with open(path, "r", encoding="utf-8", newline="") as f, \
            open(dst, "w", encoding="utf-8", newline="") as out:
        if bom:
            f.read(1)
        r = csv.reader(f, delimiter=delim, quotechar='"', doublequote=True, strict=True)
        w = csv.writer(out, lineterminator="\n")
        w.writerow(["_row"] + [f"c{i}" for i in range(width)])
        row = 0
        header_seen = False
        try:
            for fields in r:
                row += 1
                if not header_seen:
                    if r.line_num > skip:
                        header_seen = True
                        header_row = row
                    continue
                if not fields:
                    continue
                if len(fields) != width:
                    raise _ragged(file, row, len(fields), header)
                w.writerow([row] + fields)
        except csv.Error as e:
            raise refuse(f"dòng không đọc được theo định dạng CSV ({e}). Hãy sửa dòng này rồi nhập lại.",
                         f"malformed CSV line ({e}); fix the line and import again.", file, row + 1)
    return Prepared(dst, ",", 0, header, header_row, True, sc.encoding, nfc_safe)


# ---- XLSX ----------------------------------------------------------------------------------
def xlsx_text(v, number_format: str | None = None) -> str:
    """A cell as the text a user reads: dates dd/mm/yyyy[ HH:MM:SS], integers without .0."""
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if v.is_integer() and abs(v) < 1e16:
            return str(int(v))
        return format(v, ".15g")
    if isinstance(v, dt.datetime):
        has_time = v.time() != dt.time() or (number_format is not None and "h" in number_format.lower())
        return v.strftime("%d/%m/%Y %H:%M:%S" if has_time else "%d/%m/%Y")
    if isinstance(v, dt.date):
        return v.strftime("%d/%m/%Y")
    if isinstance(v, dt.time):
        return v.strftime("%H:%M:%S")
    return str(v)


SCHOOL_CELL = re.compile(r"\bma\s*truong\s*[:\-]?\s*([0-9A-Za-z]{4,})", re.IGNORECASE)
SOURCE_HEADER = "Nguồn (tệp/trang tính)"     # extra__nguon_tep_trang_tinh of a multi-sheet table


def _school_in_titles(rows: list[list[str]]) -> str | None:
    """'Mã trường: 79760001' in a title row above the header (any cell)."""
    for vals in rows:
        for v in vals:
            m = SCHOOL_CELL.search(strip_accents(v)) if v else None
            if m:
                return m.group(1)   # codes are ASCII: the accent-free text keeps them as written
    return None


# .xlsx, .xlsm and .ods are zip files themselves: a workbook's parts are bounded like a .zip's
# entries, from its directory, before python-calamine expands anything (second outside review of
# issue 13, finding 5: a 409 KB hoc_sinh.xlsx holding one 400 MB string passed the extract's zip
# check and made the importer peak at 1.3 GB; an 816 KB one at 2.4 GB in calamine). A real sheet
# compresses 5-20 times; the city's largest list (1,048,576 rows, Excel's limit) is under 1 GB.
SHEET_ZIP_SUFFIXES = (".xlsx", ".xlsm", ".ods")
MAX_SHEET_UNCOMPRESSED = 2 * 1024 ** 3


def _check_sheet_zip(path: Path, file: str) -> None:
    if path.suffix.lower() not in SHEET_ZIP_SUFFIXES:
        return
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        return                          # not a zip: calamine refuses it with its own message
    with zf:
        total = 0
        for info in zf.infolist():
            total += info.file_size
            if (info.file_size > 1024 ** 2 and info.file_size > MAX_ZIP_RATIO * max(1, info.compress_size)) \
                    or total > MAX_SHEET_UNCOMPRESSED:
                vi_n = lambda n: f"{n:,}".replace(",", ".")   # noqa: E731
                raise refuse(
                    f'tệp bảng tính khi mở ra quá lớn (phần "{info.filename}": {vi_n(info.file_size)} byte từ '
                    f"{vi_n(info.compress_size)} byte nén; tổng {vi_n(total)} byte, giới hạn "
                    f"{vi_n(MAX_SHEET_UNCOMPRESSED)} byte, tỉ lệ nén tối đa {MAX_ZIP_RATIO}): không giống một "
                    f"danh sách thật, nên không nhập gì. Hãy mở tệp bằng Excel hoặc LibreOffice, kiểm tra nội dung, "
                    f"lưu lại rồi nhập lại.",
                    f'the spreadsheet would expand too far (part "{info.filename}": {info.file_size} bytes from '
                    f"{info.compress_size}; total {total}): refused before opening it.", file)


def _open_book(path: Path, file: str):
    from python_calamine import CalamineWorkbook  # noqa: PLC0415 (only for spreadsheets)

    _check_sheet_zip(path, file)
    try:
        return CalamineWorkbook.from_filelike(open(path, "rb"))
    except Exception as e:  # noqa: BLE001 - any parse failure means "cannot open"
        raise refuse(f"không mở được tệp bảng tính ({type(e).__name__}: {e}). Hãy mở bằng Excel hoặc "
                     f"LibreOffice, lưu lại (.xlsx, .xls hoặc .ods) rồi nhập lại.",
                     f"cannot open the spreadsheet ({type(e).__name__}: {e}); save it again (.xlsx, .xls or "
                     f".ods) and import again.", file)


def sheet_text(v) -> str:
    """A cell read by python-calamine as text: calamine gives a ``datetime`` only for cells whose
    number format shows the time (a date-only format gives a ``date``), so a datetime at
    midnight keeps its 00:00:00."""
    if isinstance(v, dt.datetime):
        return v.strftime("%d/%m/%Y %H:%M:%S")
    return xlsx_text(v)


def prepare_xlsx(sc: Scanned, work: Path, school: str | None = None,
                 known_schools: Callable[[], set[str]] | None = None) -> Prepared:
    """Every sheet of every file of the table whose header row is recognised → one UTF-8 CSV
    with the sheet's row numbers. Header: the first row (of the first non-empty ones) naming at
    least two known columns; title rows above it are read for a 'Mã trường: X' cell. Sheets of
    different column orders are aligned by the column they mean. When no sheet has a
    recognised header, the first non-empty row of the first sheet is taken so that the column
    check says what is missing.

    A student list without a school-code column takes its school code from, in order: the
    title rows, the folder holding the file when it is a known school code, ``school``
    (--school / the import page); never guessed."""
    table = sc.member.table
    parts = sc.parts or [(sc.member.name, sc.path)]
    multi = len(parts) > 1
    dst = work / f"rows-{table.name}.csv"
    labels: list[str] = []        # unified header (canonical headers and extras as written)
    keys: list[str] = []          # canonical column name or extra name, per unified position
    sheets: list[tuple[str, int, list[list], list[int]]] = []   # (where, header row, data rows, positions)
    fallback = None
    for name, path in parts:
        wb = _open_book(path, name)
        try:
            names = wb.sheet_names
            for si, sname in enumerate(names):
                try:
                    data = wb.get_sheet_by_index(si).to_python(skip_empty_area=False)
                except Exception as e:  # noqa: BLE001
                    raise refuse(f"không đọc được trang tính \"{sname}\" ({type(e).__name__}: {e}). Hãy mở "
                                 f"bằng Excel, lưu lại rồi nhập lại.",
                                 f"cannot read sheet \"{sname}\" ({type(e).__name__}: {e}); save the file again "
                                 f"and import again.", name)
                header_at = None
                seen = 0
                for i, row in enumerate(data):
                    vals = [sheet_text(v) for v in row]
                    if not any(v.strip() for v in vals):
                        continue
                    seen += 1
                    if fallback is None:
                        fallback = (name, i, vals)
                    if match_score(table, vals) >= 2:
                        header_at = i
                        break
                    if seen >= HEADER_SCAN_RECORDS:
                        break
                if header_at is None:
                    continue
                where = name if len(names) == 1 else f'{name} (trang tính "{sname}")'
                header = [sheet_text(v).strip() for v in data[header_at]]
                titles = [[sheet_text(v) for v in r] for r in data[:header_at]]
                hdr = list(header)
                idx = header_index(table)
                fill = None
                if table.name == "students" and not any(idx.get(header_key(h)) == {"school_code"} for h in hdr):
                    fill = _school_in_titles(titles)
                    if fill is None:
                        folder = PurePosixPath(name).parent.name
                        if folder and folder in (known_schools() if known_schools else set()):
                            fill = folder
                    if fill is None and school:
                        fill = school
                    if fill is None:
                        raise refuse(
                            'danh sách học sinh không có cột "Mã trường", không có ô "Mã trường: …" ở các dòng '
                            "tiêu đề phía trên, và thư mục chứa tệp không mang tên một mã trường có trong danh "
                            "sách trường. Hãy cho biết mã trường bằng một trong các cách: thêm cột \"Mã trường\"; "
                            'hoặc ghi "Mã trường: <mã>" ở dòng tiêu đề; hoặc đặt tệp vào thư mục mang tên mã '
                            "trường (ví dụ hoc_sinh/79760001/12A1.xls); hoặc chọn trường ở trang Nhập dữ liệu "
                            "(dòng lệnh: --school <mã>), rồi nhập lại.",
                            'the student list has no "Mã trường" column, no "Mã trường: …" cell in its title '
                            "rows, and its folder is not named after a known school code; give the school code "
                            "by one of: a \"Mã trường\" column, a \"Mã trường: <code>\" title cell, a folder named "
                            "after the code (hoc_sinh/79760001/12A1.xls), or the school picker of the import page "
                            "(command line: --school <code>), and import again.", where, header_at + 1)
                    hdr.append("Mã trường")
                hm = map_headers(table, hdr, where, header_at + 1)
                pos_of = {}
                for cname, pos in hm.columns.items():
                    pos_of[cname] = pos
                for pos, ename in hm.extras:
                    pos_of[ename] = pos
                for key in list(hm.columns) + [e for _, e in hm.extras]:
                    if key not in keys:
                        keys.append(key)
                        labels.append(hdr[pos_of[key]] if key.startswith("extra__") else table.column(key).header)
                rows_out = []
                for i in range(header_at + 1, len(data)):
                    vals = [sheet_text(v) for v in data[i]]
                    if not any(v.strip() for v in vals):
                        continue
                    if fill is not None:
                        vals = (vals + [""] * (len(header) - len(vals)))[:len(header)] + [fill]
                    rows_out.append((i + 1, vals))
                sheets.append((where, header_at + 1, rows_out, pos_of))
        finally:
            wb.close()
    if not sheets:
        if fallback is None:
            raise refuse("trang tính đầu tiên trống (không có dòng tiêu đề). Hãy kiểm tra tệp rồi nhập lại.",
                         "the first sheet is empty (no header row); check the file and import again.",
                         parts[0][0])
        name, i, vals = fallback
        nonempty = [j for j, v in enumerate(vals) if v.strip()]
        header = [v.strip() for v in vals[nonempty[0]:nonempty[-1] + 1]]
        with open(dst, "w", encoding="utf-8", newline="") as out:
            csv.writer(out, lineterminator="\n").writerow(["_row"] + [f"c{j}" for j in range(len(header))])
        return Prepared(dst, ",", 0, header, i + 1, True, "xlsx")
    if multi or len(sheets) > 1:
        keys.append("__source")
        labels.append(SOURCE_HEADER)
    width = len(keys)
    with open(dst, "w", encoding="utf-8", newline="") as out:
        w = csv.writer(out, lineterminator="\n")
        w.writerow(["_row"] + [f"c{j}" for j in range(width)])
        for where, _, rows_out, pos_of in sheets:
            order = [pos_of.get(k) for k in keys]
            for n, vals in rows_out:
                line = [n]
                for k, p in zip(keys, order):
                    if k == "__source":
                        line.append(where)
                    else:
                        line.append(vals[p] if p is not None and p < len(vals) else "")
                w.writerow(line)
    return Prepared(dst, ",", 0, labels, sheets[0][1], True, "xlsx")


def prepare(sc: Scanned, work: Path, school: str | None = None,
            known_schools: Callable[[], set[str]] | None = None) -> Prepared:
    if sc.encoding == "xlsx":
        return prepare_xlsx(sc, work, school, known_schools)
    return prepare_csv(sc, work)


# ---- loading into DuckDB -------------------------------------------------------------------
def _sql_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _ident(s: str) -> str:
    return '"' + s.replace('"', '""') + '"'


def table_columns(table: schema.Table, extras: list[str] = ()) -> list[str]:
    """Column order of a snapshot table."""
    cols = ["_row"] + [c.name for c in table.columns]
    if table.name in NAME_TABLES:
        cols += list(NAME_EXTRAS)
    return cols + list(extras)


def create_empty(con, table: schema.Table) -> None:
    defs = ", ".join(f"{_ident(c)} {'BIGINT' if c == '_row' else 'VARCHAR'}" for c in table_columns(table))
    con.execute(f"CREATE TABLE {_ident(table.name)} ({defs})")


# The split residence columns say the level of their value (schema.ADDRESS_PARTS: house or
# hamlet, ward, district, province). A bare value gets its level word only when it is certain,
# so that ADDRESS_INCOMPLETE (checks_10_students.sql, addr_ok) recognises it: a value already
# prefixed is kept; a number is a Phường (ward column) or a Quận (district column); a name the
# HCMC reference lists under one level type only takes it (`Hiệp Phú` -> Phường, `Thủ Đức` ->
# Thành phố, `Bình Chánh` -> Huyện). Anything else stays bare (and ADDRESS_INCOMPLETE says which
# part was not recognised): `Phường/Xã` would be a guess (outside review of issue 12, point 3).
_LEVEL_SHAPES = {1: "((phuong|xa|thi tran|tt) |(p|x|tt)\\. ?)\\S.*",
                 2: "((quan|huyen|thi xa|thanh pho|tp|tx) |(q|h|tp|tx)\\. ?)\\S.*"}
_LEVEL_NUMBER = {1: "Phường", 2: "Quận"}


@lru_cache(maxsize=1)
def _address_levels() -> str:
    """SQL VALUES list (level, key, word): folded bare name -> the one level word the HCMC
    reference gives it (level 1 ward, 2 district); names under two types are left out."""
    import pandas as pd  # noqa: PLC0415

    from . import reference  # noqa: PLC0415
    t = reference.tables()
    rows = []
    for level, names, types in ((1, t["ref_wards"]["ward_name"], t["ref_wards"]["ward_type"]),
                                (2, t["ref_districts"]["district_name"], t["ref_districts"]["district_type"])):
        for name, typ in zip(names, types):
            if name.startswith(typ + " "):
                rows.append((level, reference.fold(name[len(typ) + 1:]), typ))
    df = pd.DataFrame(rows, columns=["level", "key", "word"]).drop_duplicates()
    df = df[~df.duplicated(["level", "key"], keep=False)]
    return ", ".join(f"({lv}, {_sql_str(k)}, {_sql_str(w)})" for lv, k, w in df.itertuples(index=False))


def _with_level(level: int, e: str) -> str:
    """SQL: the part `e` of the given level with its level word added when certain (above)."""
    if level not in _LEVEL_SHAPES:
        return e
    key = f"trim(regexp_replace(replace(strip_accents(lower({e})), 'đ', 'd'), '\\s+', ' ', 'g'))"
    return (f"CASE WHEN {e} IS NULL OR regexp_full_match({key}, '{_LEVEL_SHAPES[level]}') THEN {e} "
            f"WHEN regexp_full_match({e}, '[0-9]{{1,3}}') THEN '{_LEVEL_NUMBER[level]} ' || {e} "
            f"ELSE coalesce((SELECT a.word FROM (VALUES {_address_levels()}) a(level, key, word) "
            f"WHERE a.level = {level} AND a.key = {key}) || ' ' || {e}, {e}) END")


def load_table(con, table: schema.Table, prep: Prepared, hm: HeaderMap, file: str) -> int:
    """CREATE TABLE <table> from the prepared CSV; returns its row count. Malformed lines
    (wrong number of fields, unclosed quote) refuse the file, naming the first one."""
    import duckdb  # noqa: PLC0415

    width = len(prep.header)
    cols = {f"c{i}": "VARCHAR" for i in range(width)}
    if prep.row_column:
        cols = {"_row": "BIGINT", **cols}
    col_spec = "{" + ", ".join(f"{_sql_str(k)}: {_sql_str(v)}" for k, v in cols.items()) + "}"
    rej = f"rej_{table.name}"
    src = (f"read_csv({_sql_str(str(prep.path))}, skip={prep.skip}, header=true, columns={col_spec}, "
           f"auto_detect=false, delim={_sql_str(prep.delimiter)}, quote='\"', escape='\"', "
           f"strict_mode=true, null_padding=false, max_line_size={MAX_LINE_BYTES}, "
           f"buffer_size={CSV_BUFFER_BYTES}, "
           f"store_rejects=true, rejects_table={_sql_str(rej)}, rejects_scan={_sql_str(rej + '_scan')})")
    trim = _sql_str(TRIM_CHARS)

    unsafe = _sql_str(NFC_UNSAFE_RE2)

    def val(pos: int, nfc: bool = True) -> str:
        # trim(x) only strips spaces and is fast; trim(x, chars) is ~2x slower, so it runs only
        # on values holding a tab, a no-break space or a zero-width space / stray BOM (copied
        # from the web or Word).
        c = f"c{pos}"
        if nfc and not prep.nfc_safe:
            inner = f"CASE WHEN regexp_matches({c}, {unsafe}) THEN nfc_normalize({c}) ELSE {c} END"
        else:
            inner = c
        return (f"nullif(CASE WHEN contains({c}, chr(160)) OR contains({c}, chr(9)) "
                f"OR contains({c}, chr(8203)) OR contains({c}, chr(65279)) "
                f"THEN trim({inner}, {trim}) ELSE trim({inner}) END, '')")

    sel = [("_row" if prep.row_column else f"row_number() OVER () + {prep.header_row}") + " AS _row"]
    # Split residence columns (house or hamlet, ward, district, province) → one address.
    part_pos = {header_key(hm.headers[pos]): pos for pos, _ in hm.extras}
    parts = [(lv, part_pos[k]) for lv, k in enumerate(header_key(h) for h in schema.ADDRESS_PARTS)
             if k in part_pos]
    for c in table.columns:
        if c.name == "permanent_address" and c.name not in hm.columns and parts:
            sel.append(f"nullif(concat_ws(', ', {', '.join(_with_level(lv, val(p)) for lv, p in parts)}), '') "
                       f"AS {_ident(c.name)}")
        elif c.name in hm.columns:
            raw_name = table.name in NAME_TABLES and c.name == "full_name"
            sel.append(f"{val(hm.columns[c.name], nfc=not raw_name)} AS {_ident(c.name)}")
        else:
            sel.append(f"CAST(NULL AS VARCHAR) AS {_ident(c.name)}")
    if table.name in NAME_TABLES:
        sel += [f"CAST(NULL AS VARCHAR) AS {_ident(n)}" for n in NAME_EXTRAS]
    extra_names = []
    for pos, name in hm.extras:
        sel.append(f"{val(pos)} AS {_ident(name)}")
        extra_names.append(name)
    value_cols = [c.name for c in table.columns if c.name in hm.columns] + extra_names
    nonempty = (f"coalesce({', '.join(_ident(c) for c in value_cols)}) IS NOT NULL"
                if value_cols else "true")
    out_cols = ", ".join(_ident(c) for c in table_columns(table, extra_names))
    sql = (f"CREATE TABLE {_ident(table.name)} AS SELECT {out_cols} FROM "
           f"(SELECT {', '.join(sel)} FROM {src}) WHERE {nonempty}")
    try:
        con.execute(sql)
    except duckdb.Error as e:
        msg = str(e).splitlines()[0][:300]
        raise refuse(f"không đọc được tệp CSV ({msg}). Hãy kiểm tra tệp, lưu lại dạng CSV UTF-8 rồi nhập lại.",
                     f"cannot read the CSV file ({msg}); check it, save it as CSV UTF-8 and import again.",
                     file)
    bad = con.execute(f"SELECT line, error_type, csv_line, error_message FROM {rej} "
                      f"ORDER BY line LIMIT 1").fetchone()
    if bad:
        line, etype, csv_line, emsg = bad
        row = int(line) if line is not None else None
        if etype in ("MISSING COLUMNS", "TOO MANY COLUMNS"):
            # One reject row per extra field (Found: width+1, width+2, ...) or per missing one
            # (Found: n, n+1, ...): the largest, resp. smallest, is the line's number of fields.
            counts = [int(x) for (m,) in con.execute(
                f"SELECT error_message FROM {rej} WHERE line = ? AND error_type = ?", [line, etype]).fetchall()
                for x in re.findall(r"Found:\s*([0-9]+)", m or "")]
            n = (max if etype == "TOO MANY COLUMNS" else min)(counts) if counts else None
            if n is None:
                n = len(next(csv.reader([(csv_line or "").strip("\r\n")], delimiter=prep.delimiter), []))
            if prep.row_column:
                n -= 1
            raise _ragged(file, row, n, prep.header)
        if etype == "UNQUOTED VALUE":
            raise refuse('có dấu ngoặc kép (") mở mà không đóng, hoặc đặt sai chỗ trong ô. Hãy sửa dòng '
                         'này (mỗi " trong một ô phải viết thành "") rồi nhập lại.',
                         'a double quote (") is opened and not closed, or misplaced inside a value; fix '
                         'the line (write " inside a value as "") and import again.', file, row)
        if etype == "LINE SIZE OVER MAXIMUM":
            mb = MAX_LINE_BYTES >> 20
            raise refuse(f"dòng dài hơn {mb} MB (thường do một dấu ngoặc kép mở mà không đóng, làm cả phần "
                         f"sau của tệp thành một ô). Hãy kiểm tra dòng này rồi nhập lại.",
                         f"the line is longer than {mb} MB (often an opened and never closed double quote "
                         f"that turns the rest of the file into one value); check the line and import again.",
                         file, row)
        if etype == "INVALID UNICODE":
            raise _decode_refusal(file, row, None, "tệp UTF-8 có byte không hợp lệ")
        raise refuse(f"dòng không đọc được ({etype}: {emsg}). Hãy sửa dòng này rồi nhập lại.",
                     f"cannot read the line ({etype}: {emsg}); fix it and import again.", file, row)
    return con.execute(f"SELECT count(*) FROM {_ident(table.name)}").fetchone()[0]
