"""Command line: `python -m data_access COMMAND ...` (documented in README.md).

The output columns of progress, findings and rollup are a stable contract: outside checks call
these commands. Errors are one clear line on stderr and a non-zero exit status.
"""
from __future__ import annotations

import argparse
import csv
import sys

import pandas as pd

from .campaign import TZ, CampaignError

PROGRESS_COLUMNS = ["school_code", "requirement_id", "expected", "done", "percent", "status",
                    "completed_at", "days_late", "at_risk", "timing_uncertain", "completed_after",
                    "changed_after_due"]
FINDINGS_COLUMNS = ["school_code", "rule_id", "severity", "entity", "record_key", "field", "message"]
ROLLUP_COLUMNS = ["group", "requirement_id", "units_expected", "units_done", "units_done_on_time",
                  "completion_rate", "on_time_rate", "records_expected", "records_done"]


def _cell(v) -> str:
    if v is None or (not isinstance(v, (list, tuple)) and pd.isna(v)):
        return ""
    if isinstance(v, (bool,)) or type(v).__name__ == "bool_":
        return "true" if v else "false"
    if isinstance(v, pd.Timestamp):
        return v.tz_convert(TZ).isoformat(timespec="seconds")
    if isinstance(v, float):
        return f"{v:.1f}"
    return str(v)


def write_table(df: pd.DataFrame, columns: list[str], fmt: str, out=sys.stdout) -> None:
    """``fmt`` csv: a text cell that Excel would read as a formula (=, +, -, @, tab, CR first:
    a school name from the city database) gets a leading apostrophe, as in the exports
    (exports/safety.csv_safe); numbers are not text and stay as they are. table: as it is."""
    if fmt == "csv":
        from exports.safety import csv_safe  # noqa: PLC0415
        rows = [[_cell(csv_safe(v)) for v in row] for row in df[columns].itertuples(index=False, name=None)]
    else:
        rows = [[_cell(v) for v in row] for row in df[columns].itertuples(index=False, name=None)]
    if fmt == "csv":
        w = csv.writer(out, lineterminator="\n")
        w.writerow(columns)
        w.writerows(rows)
        return
    widths = [max([len(c)] + [len(r[i]) for r in rows]) for i, c in enumerate(columns)]
    out.write("  ".join(c.ljust(widths[i]) for i, c in enumerate(columns)) + "\n")
    out.write("  ".join("-" * w for w in widths) + "\n")
    for r in rows:
        out.write("  ".join(v.ljust(widths[i]) for i, v in enumerate(r)) + "\n")
    out.write(f"({len(rows)} dòng)\n")


def _add_eval_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--store", required=True, help="thư mục kho dữ liệu (store)")
    p.add_argument("--as-of", dest="as_of", help="thời điểm, ISO 8601 (mặc định: snapshot mới nhất)")
    p.add_argument("--campaign", help="tệp chiến dịch .toml (mặc định: campaigns/2021-2022-cv1254.toml)")
    p.add_argument("--format", choices=("csv", "table"), default="table")


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m data_access",
                                 description="Tiến độ CSDL: nhập snapshot và tính tiến độ theo công văn.")
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("ingest", help="nhập bản trích xuất (thư mục hoặc .zip) thành snapshot")
    p.add_argument("path", nargs="+", help="một hoặc nhiều thư mục/.zip, nhập lần lượt")
    p.add_argument("--store", required=True)
    p.add_argument("--as-of", dest="as_of")
    p.add_argument("--school", dest="school", default=None,
                   help="mã trường của danh sách học sinh không có cột Mã trường (không có ô \"Mã trường: …\" hay thư mục mang mã trường)")
    p.add_argument("--campaign", help="chiến dịch để tính sẵn kết quả (mặc định: chiến dịch 1254)")
    p.add_argument("--no-precompute", action="store_true", help="không tính sẵn tiến độ sau khi nhập")
    for name, helptext in (("progress", "tiến độ từng trường × yêu cầu"),
                           ("findings", "các lỗi dữ liệu (bản ghi không hợp lệ)")):
        _add_eval_args(sub.add_parser(name, help=helptext))
    p = sub.add_parser("explain", help="vì sao một trường có trạng thái này ở một yêu cầu")
    _add_eval_args(p)
    p.add_argument("--school", required=True)
    p.add_argument("--requirement", required=True)
    p = sub.add_parser("rollup", help="tổng hợp theo thành phố, quận/huyện hoặc cấp học")
    _add_eval_args(p)
    p.add_argument("--by", choices=("city", "district", "level"), default="city")
    p = sub.add_parser("completeness", help="mức độ đầy đủ dữ liệu theo 8 lĩnh vực (trường, quận/huyện, thành phố)")
    _add_eval_args(p)
    p.add_argument("--by", choices=("institution", "district", "city"), default="city")
    p = sub.add_parser("export", help="bảng trạng thái XLSX/CSV (toàn thành phố, một quận hoặc một trường)")
    p.add_argument("--store", required=True)
    p.add_argument("--as-of", dest="as_of")
    p.add_argument("--campaign")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--district", help="mã quận/huyện (tệp cho Phòng GD&ĐT)")
    g.add_argument("--school", help="mã trường (danh mục yêu cầu của trường)")
    p.add_argument("--table", help="CSV: tong-hop | trang-thai | cham-tien-do | danh-muc | ban-ghi-can-sua")
    p.add_argument("--out", required=True, help="tệp .xlsx hoặc .csv")
    _add_users_parser(sub)
    return ap


def _add_users_parser(sub) -> None:
    """`users add|disable|enable|reset-password|trust-client|list|init-admin`: local accounts (ops.sqlite)."""
    p = sub.add_parser("users", help="tài khoản đăng nhập: add | disable | enable | reset-password | "
                                     "trust-client | list | init-admin")
    us = p.add_subparsers(dest="users_command", required=True)
    a = us.add_parser("add", help="tạo tài khoản (mật khẩu sinh ngẫu nhiên, in ra một lần)")
    a.add_argument("--username", required=True)
    a.add_argument("--role", required=True, help="lanh_dao | khtc | phong_gd | truong | quan_tri")
    a.add_argument("--district", help="mã quận/huyện (vai trò phong_gd)")
    a.add_argument("--school", help="mã trường (vai trò truong)")
    a.add_argument("--name", default="", help="họ tên hoặc tên đơn vị")
    a.add_argument("--email", help="e-mail dùng cho đăng nhập một lần (SSO)")
    for name, helptext in (("disable", "vô hiệu hóa (kết thúc mọi phiên)"), ("enable", "cho dùng lại"),
                           ("reset-password", "đặt mật khẩu mới (kết thúc mọi phiên)")):
        q = us.add_parser(name, help=helptext)
        q.add_argument("--username", required=True)
    t = us.add_parser("trust-client", help="cho một địa chỉ (máy mới của người dùng) đăng nhập ngay, "
                                           "dù tài khoản đang bị người ngoài dò mật khẩu")
    t.add_argument("--username", required=True)
    t.add_argument("--address", required=True, help="địa chỉ IP mà trang đăng nhập cho biết (IPv4 hoặc IPv6)")
    i = us.add_parser("init-admin", help="tài khoản quản trị đầu tiên của một kho thật")
    i.add_argument("--username", default="quantri")
    for q in (a, us.choices["reset-password"], i):
        q.add_argument("--prompt", action="store_true", help="nhập mật khẩu (không in ra) thay vì sinh ngẫu nhiên")
    us.add_parser("list", help="liệt kê tài khoản")
    for q in us.choices.values():
        q.add_argument("--store", required=True)
    p = sub.add_parser("ops", help="kho vận hành (tài khoản, nhật ký liên hệ, sổ bản giấy, nhật ký truy cập)")
    os_ = p.add_subparsers(dest="ops_command", required=True)
    m = os_.add_parser("migrate", help="chép một lần ops.sqlite sang PostgreSQL, kiểm tra từng dòng")
    m.add_argument("--from", dest="source", required=True, help="sqlite:ĐƯỜNG_DẪN (tệp ops.sqlite hoặc thư mục kho)")
    m.add_argument("--to", dest="target", required=True, help="postgresql://người_dùng@máy/tên_csdl")
    m.add_argument("--force", action="store_true", help="đích đã có dữ liệu: xóa rồi chép lại")


def _read_password() -> str:
    import getpass
    pw = getpass.getpass("Mật khẩu mới: ")
    if pw != getpass.getpass("Nhập lại mật khẩu: "):
        raise ValueError("Hai lần nhập mật khẩu không khớp.")
    return pw


def cmd_users(args) -> int:
    """The password is printed once (or read with getpass, never echoed) and never stored or
    logged in clear; each change is in the audit trail as the CLI's system user."""
    from . import accounts
    from .access import Viewer
    import getpass as _gp
    actor = Viewer(f"cli:{_cli_user(_gp)}", "quan_tri", display_name="Dòng lệnh")
    c = args.users_command
    pw = _read_password() if getattr(args, "prompt", False) else None
    if c == "list":
        df = accounts.list_accounts(args.store)
        cols = ["username", "role", "district_code", "school_code", "display_name", "email", "disabled",
                "is_demo", "locked_until"]
        write_table(df, cols, "table")
        return 0
    if c == "add":
        out = accounts.add(args.store, actor, args.username, args.role, args.district, args.school,
                           args.name, args.email, password=pw)
        print(f"Đã tạo tài khoản {args.username} ({args.role}).")
    elif c == "init-admin":
        out = accounts.init_admin(args.store, args.username, password=pw)
        print(f"Đã tạo tài khoản quản trị {args.username}.")
    elif c == "trust-client":
        key = accounts.trust_client(args.store, actor, args.username, args.address)
        print(f"Đã cho phép địa chỉ {key} đăng nhập tài khoản {args.username} ngay "
              f"(như một máy đã đăng nhập được; {accounts.KNOWN_CLIENT_DAYS} ngày).")
        return 0
    elif c == "reset-password":
        out = accounts.reset_password(args.store, actor, args.username, password=pw)
        print(f"Đã đặt lại mật khẩu cho {args.username}; mọi phiên đăng nhập của tài khoản đã kết thúc.")
    else:
        accounts.set_disabled(args.store, actor, args.username, c == "disable")
        print(f"Đã {'vô hiệu hóa' if c == 'disable' else 'cho dùng lại'} tài khoản {args.username}.")
        return 0
    if pw is None:
        print(f"Mật khẩu (chỉ hiện một lần, hãy chuyển cho người dùng ngay): {out}")
    return 0


def _cli_user(gp) -> str:
    try:
        return gp.getuser()
    except Exception:  # noqa: BLE001
        return "?"


def cmd_ingest(args) -> int:
    from .ingest import format_result, ingest
    from .evaluate import ensure_derived
    from .campaign import load_campaign
    from .store import Store
    from .evaluate import parse_as_of
    import time
    as_of = parse_as_of(args.as_of) if args.as_of else None
    if as_of is not None and len(args.path) > 1:
        raise ValueError("--as-of chỉ dùng khi nhập một bản trích xuất [--as-of needs a single PATH]")
    campaign = None if args.no_precompute else load_campaign(args.campaign)
    for path in args.path:
        result = ingest(path, args.store, as_of=as_of, progress=lambda m: print(m, flush=True),
                        school=args.school)
        print(format_result(result), flush=True)
        if campaign is not None:
            t0 = time.perf_counter()
            store = Store(args.store)
            row = store.list_snapshots(include_hidden=True).set_index("snapshot_id").loc[result.snapshot_id]
            ensure_derived(store, result.snapshot_id, row["path"], row["as_of"], campaign)
            # Issue 12 point 9: say how many student rows are outside the population, and why.
            from .population import exclusion_lines, exclusion_summary
            print("\n".join(exclusion_lines(exclusion_summary(row["path"], campaign))), flush=True)
            print(f"Đã tính sẵn tiến độ và lỗi dữ liệu cho snapshot này ({time.perf_counter() - t0:.1f} giây).",
                  flush=True)
    return 0


def cmd_eval(args) -> int:
    from .evaluate import evaluate
    ev = evaluate(args.store, args.as_of, args.campaign)
    try:
        if args.command == "explain":
            from . import explain
            from .access import Viewer
            try:
                e = explain.explain_at(ev, Viewer("system", "quan_tri"), args.school, args.requirement)
            except LookupError as err:
                raise ValueError(str(err)) from err
            print(explain.render(e))
        elif args.command == "progress":
            df = ev.df("SELECT * FROM progress ORDER BY school_code, sort_order")
            write_table(df, PROGRESS_COLUMNS, args.format)
        elif args.command == "findings":
            # the CLI reads the whole city: an ID_DUPLICATE names every other holder's institution
            from .access import SYSTEM, finding_message_sql
            msg, mparams = finding_message_sql(SYSTEM, "f")
            df = ev.df(f"SELECT f.* EXCLUDE (message), {msg} AS message FROM findings f "
                       "ORDER BY school_code, rule_id, record_key, field", mparams)
            write_table(df, FINDINGS_COLUMNS, args.format)
        else:
            df = ev.df('SELECT * FROM rollup WHERE rollup_by = ? ORDER BY "group", sort_order', [args.by])
            write_table(df, ROLLUP_COLUMNS, args.format)
    finally:
        ev.close()
    return 0


def cmd_completeness(args) -> int:
    """One row per unit (school code, district code or `city`), one column per domain and the
    index (percent, one decimal). A domain that is not measured is an empty CSV cell; the table
    says why («Chưa có nguồn dữ liệu», «Không áp dụng»)."""
    from . import completeness
    from .access import SYSTEM
    from .evaluate import evaluate
    ev = evaluate(args.store, args.as_of, args.campaign)
    try:
        df = completeness.table_at(ev, SYSTEM, args.by)
        no_source = completeness.no_source_at(ev)
    finally:
        ev.close()
    cols = list(df.columns)
    if args.format == "table":
        doms = [c for c in completeness.domain_table()["domain"]]
        df = df.astype({c: object for c in doms})
        for c in doms:
            text = completeness.NO_SOURCE_TEXT if c in no_source else completeness.NOT_APPLICABLE_TEXT
            df[c] = [text if pd.isna(v) else f"{v:.1f}" for v in df[c]]
    write_table(df, cols, args.format)
    return 0


def cmd_export(args) -> int:
    from exports.cli import run_export
    try:
        print(run_export(args.store, args.out, args.as_of, args.campaign, args.district, args.school,
                         args.table))
    except (LookupError, PermissionError) as e:
        raise ValueError(str(e)) from e
    return 0


def cmd_ops(args) -> int:
    """`ops migrate`: the copy and its row-for-row check (data_access.ops_migrate)."""
    from . import ops_db, ops_migrate
    import psycopg
    try:
        print(ops_migrate.report(ops_migrate.migrate(args.source, args.target, force=args.force)))
    except (psycopg.Error, ops_db.OpsStoreError) as e:   # one clear line, as for other errors
        raise ValueError(f"không chép được sang PostgreSQL ({ops_db._safe(args.target)}): "
                         f"{str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__}") from e
    finally:
        ops_db.close_pools()
    return 0


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    from .evaluate import NoSnapshotError
    try:
        errors_ok = (NoSnapshotError, CampaignError, ValueError, FileNotFoundError)
        try:
            from .errors import ExtractError
            errors_ok = errors_ok + (ExtractError,)
        except ImportError:
            pass
        if args.command == "ingest":
            return cmd_ingest(args)
        if args.command == "export":
            return cmd_export(args)
        if args.command == "users":
            return cmd_users(args)
        if args.command == "completeness":
            return cmd_completeness(args)
        if args.command == "ops":
            return cmd_ops(args)
        return cmd_eval(args)
    except errors_ok as e:  # one clear line, non-zero exit
        print(f"Lỗi: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
