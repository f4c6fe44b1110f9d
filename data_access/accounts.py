"""Local accounts, login sessions and demo accounts, in the operational store (ops.sqlite).

Why here, beside ops.py: accounts are user writes like follow-ups, and several dashboard
processes share them; SQLite in WAL mode with short ``BEGIN IMMEDIATE`` transactions (the same
connection rules as ops.py) serves that.

- Passwords are hashed with argon2id (argon2-cffi ``PasswordHasher``); a clear password is never
  written anywhere: ``add`` and ``reset_password`` return a generated one for the caller to show
  once. Audit lines for accounts carry the username, never the password.
- Login (``authenticate``): the argon2 check runs outside any write transaction; a client (IP) with
  ``CLIENT_MAX_FAILURES`` failures in ``CLIENT_WINDOW`` waits; after ``MAX_FAILURES`` (5) failures in a
  row a username gets one try per ``ACCOUNT_SLOW_STEP`` from clients that failed recently (slowed,
  never locked out; a clean address is not held back), and at most ``USERNAME_MAX_CHECKS``
  password checks per ``USERNAME_WINDOW`` from clients that are not *known clients* of it; a
  known client (one that logged in successfully as it within ``KNOWN_CLIENT_DAYS``, table
  ``known_clients``: a keyed hash, never the address) is bound by its own failures only; same
  message for unknown and known usernames. (Before issue 13 the account itself was locked ``LOCKOUT``,
  15 minutes, which anyone could renew.) A disabled account cannot log in, and
  disabling it ends its sessions.
- Sessions (``sessions`` table): a random token given to the browser session; only its SHA-256
  is stored. A session ends after ``idle_minutes()`` without activity (TIENDO_IDLE_MINUTES,
  default 30), on logout, on "logout everywhere", on a password reset and when the account is
  disabled.
- Demo accounts (``ensure_demo_accounts``): created only when every snapshot of the store is
  one of the generated demo series by its content hash (store_kind); they stop working as soon
  as the store holds anything else.
- The clock is ``now()``: tests replace ``accounts.clock`` to move time.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import heapq
import hmac
import ipaddress
import os
import secrets
import string
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from . import file_memo, ops, ops_db
from .access import ROLES, Viewer
from .store import TZ, Store

MAX_FAILURES = 5
LOCKOUT = dt.timedelta(minutes=15)
DEFAULT_IDLE_MINUTES = 30
TOUCH_EVERY = dt.timedelta(seconds=60)   # last_seen is written at most once a minute

_HASHER = PasswordHasher()
_DUMMY_HASH = _HASHER.hash("không-phải-mật-khẩu-" + secrets.token_hex(8))

# Demo accounts (README: "Tài khoản trình diễn"); only ever created on generated sample data.
DEMO_ACCOUNTS = [
    # username, role, district, school, display name, password
    ("demo_lanhdao", "lanh_dao", None, None, "Lãnh đạo Sở (demo)", "demo-lanhdao-2022"),
    ("demo_khtc", "khtc", None, None, "Phòng KH-TC (demo)", "demo-khtc-2022"),
    ("demo_phonggd", "phong_gd", "760", None, "Phòng GD&ĐT Quận 1 (demo)", "demo-phonggd-2022"),
    ("demo_truong", "truong", None, "79764007", "THPT Nguyễn Thị Minh Khai (demo)", "demo-truong-2022"),
    ("demo_quantri", "quan_tri", None, None, "Quản trị (demo)", "demo-quantri-2022"),
]

# Tables accounts, sessions and secret_keys: data_access/migrations (issue 17).

ACCOUNT_COLUMNS = ["username", "role", "district_code", "school_code", "display_name", "email",
                   "disabled", "is_demo", "failed_count", "locked_until", "created_at", "updated_at"]


class AccountError(ValueError):
    """A refused account operation; the message is Vietnamese, for the user."""


def _system_now() -> dt.datetime:
    return dt.datetime.now(TZ).replace(microsecond=0)


clock = _system_now   # tests replace it (fake clock)


def now() -> dt.datetime:
    return clock()


def idle_minutes() -> float:
    try:
        return max(1.0, float(os.environ.get("TIENDO_IDLE_MINUTES", DEFAULT_IDLE_MINUTES)))
    except ValueError:
        return float(DEFAULT_IDLE_MINUTES)


def _st(store) -> Store:
    return store if isinstance(store, Store) else Store(Path(store))


def _ensure(store) -> None:
    ops_db.ensure(_st(store))


@contextlib.contextmanager
def _tx(store):
    """One short write transaction on ops.sqlite, on our tables."""
    _ensure(store)
    with ops.transaction(store) as con:
        yield con


def _rows(store, sql, params=()) -> list[dict]:
    cols, data = ops_db.rows(_st(store), sql, params)
    return [dict(zip(cols, r)) for r in data]


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def generate_password(n: int = 16) -> str:
    """A random password of letters and digits (no look-alikes), for printing once."""
    alphabet = [c for c in string.ascii_letters + string.digits if c not in "Il1O0o"]
    return "".join(secrets.choice(alphabet) for _ in range(n))


def _check_password(pw: str) -> None:
    if len(pw or "") < 10:
        raise AccountError("Mật khẩu phải có ít nhất 10 ký tự.")


def _fmt_time(t: dt.datetime) -> str:
    return t.astimezone(TZ).strftime("%H:%M ngày %d/%m/%Y")


def viewer_of(acc: dict) -> Viewer:
    return Viewer(acc["username"], acc["role"], district_code=acc.get("district_code") or None,
                  school_code=acc.get("school_code") or None,
                  display_name=acc.get("display_name") or "")


def get(store, username: str) -> dict | None:
    r = _rows(store, f"SELECT {', '.join(ACCOUNT_COLUMNS)} FROM accounts WHERE username = ?",
              [username])
    return r[0] if r else None


def list_accounts(store) -> pd.DataFrame:
    """Every account (no password hash): ACCOUNT_COLUMNS, by username."""
    return pd.DataFrame(_rows(store, f"SELECT {', '.join(ACCOUNT_COLUMNS)} FROM accounts "
                                     f"ORDER BY username"), columns=ACCOUNT_COLUMNS)


def count(store) -> int:
    if not ops_db.exists(_st(store)):
        return 0
    return int(_rows(store, "SELECT count(*) AS n FROM accounts")[0]["n"])


# ---- account management -------------------------------------------------------------------

def add(store, actor: Viewer, username: str, role: str, district_code: str | None = None,
        school_code: str | None = None, display_name: str = "", email: str | None = None,
        password: str | None = None, is_demo: bool = False) -> str:
    """Create an account; returns its password (the one given, or a generated one) for the
    caller to show once. Refused: existing username, unknown role, missing scope."""
    username = (username or "").strip()
    if not username or any(c.isspace() for c in username):
        raise AccountError("Tên đăng nhập không được để trống hay chứa khoảng trắng.")
    if role not in ROLES:
        raise AccountError(f"Vai trò «{role}» không có; chọn một trong: {', '.join(ROLES)}.")
    try:
        Viewer(username, role, district_code=district_code or None, school_code=school_code or None)
    except ValueError as e:
        raise AccountError(str(e)) from None
    if role not in ("phong_gd",):
        district_code = None
    if role != "truong":
        school_code = None
    pw = password if password is not None else generate_password()
    if not is_demo:
        _check_password(pw)
    h = _HASHER.hash(pw)
    t = now().isoformat()
    with _tx(store) as con:
        if con.execute("SELECT 1 FROM accounts WHERE username = ?", [username]).fetchone():
            raise AccountError(f"Đã có tài khoản «{username}».")
        con.execute("INSERT INTO accounts (username, role, district_code, school_code, display_name, "
                    "email, password_hash, disabled, is_demo, failed_count, created_at, updated_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, 0, ?, ?)",
                    [username, role, district_code, school_code, display_name or "",
                     (email or "").strip().lower() or None, h, int(is_demo), t, t])
        ops._audit(con, actor, "account.add", f"account:{username}", None, 1,
                   {"role": role, "district_code": district_code, "school_code": school_code,
                    "demo": bool(is_demo)})
    return pw


def set_disabled(store, actor: Viewer, username: str, disabled: bool = True) -> None:
    """Disable (or enable again) an account; disabling ends all its sessions."""
    with _tx(store) as con:
        if not con.execute("SELECT 1 FROM accounts WHERE username = ?", [username]).fetchone():
            raise AccountError(f"Không có tài khoản «{username}».")
        con.execute("UPDATE accounts SET disabled = ?, updated_at = ? WHERE username = ?",
                    [int(disabled), now().isoformat(), username])
        if disabled:
            _end_sessions(con, username, "disabled")
        ops._audit(con, actor, "account.disable" if disabled else "account.enable",
                   f"account:{username}", None, 1, None)


def reset_password(store, actor: Viewer, username: str, password: str | None = None) -> str:
    """Set a new password (given or generated; returned to show once), clear the lockout and
    end the account's sessions."""
    pw = password if password is not None else generate_password()
    _check_password(pw)
    h = _HASHER.hash(pw)
    with _tx(store) as con:
        if not con.execute("SELECT 1 FROM accounts WHERE username = ?", [username]).fetchone():
            raise AccountError(f"Không có tài khoản «{username}».")
        con.execute("UPDATE accounts SET password_hash = ?, failed_count = 0, locked_until = NULL, "
                    "updated_at = ? WHERE username = ?", [h, now().isoformat(), username])
        # a reset often follows a leaked password: a client the thief logged in from keeps no
        # exemption from the throttle (known_clients)
        con.execute("DELETE FROM known_clients WHERE username = ?", [username])
        _end_sessions(con, username, "password_reset")
        ops._audit(con, actor, "account.reset_password", f"account:{username}", None, 1, None)
    return pw


def trust_client(store, actor: Viewer, username: str, address: str) -> str:
    """Make an address a known client of ``username`` (as a successful login from it would), so
    the username's spacing and ceiling no longer bind it; returns the client key trusted (the
    IPv4 address, or the IPv6 /64). Why: while an outsider keeps the username's ceiling full from
    enough addresses, a device that never logged in as it waits for as long as he goes on
    (fourth outside review of issue 13: with 60 addresses, 75 of 75 attempts of a new laptop
    refused in two hours). The operator, who has the server's shell, lets the owner in from
    the address the refusal shows. Only the address's own failure budget still binds it."""
    address = (address or "").strip()
    if "/" in address:                  # a network: only the /64 that IPv6 logins are counted by
        try:
            net = ipaddress.ip_network(address, strict=False)
            key = str(net) if net.version == 6 and net.prefixlen == 64 else None
        except ValueError:
            key = None
    else:
        key = _address_key(address)
    if key is not None:
        # Never an address no browser logs in from, or one that many share without being one
        # client: unspecified, loopback (the proxy itself), link-local (fe80::/64 is every
        # neighbour), multicast, and ::ffff:a.b.c.d/64 (= ::/64, not the IPv4 address meant).
        first = ipaddress.ip_network(key, strict=False).network_address
        if first.is_unspecified or first.is_loopback or first.is_link_local or first.is_multicast:
            key = None
    if key is None:
        raise AccountError(f"«{address[:100]}» không phải địa chỉ IP của một máy người dùng (một địa chỉ "
                           "IPv4 hoặc IPv6, hay dải IPv6 /64; không nhận 0.0.0.0, ::, 127.x.x.x, fe80::…, "
                           "địa chỉ multicast hay dải mạng khác): hãy ghi địa chỉ mà thông báo trên trang "
                           "đăng nhập cho biết, ví dụ 203.0.113.7.")
    tag = _client_tag(store, key)              # before the transaction: it may create the key
    with _tx(store) as con:
        if not con.execute("SELECT 1 FROM accounts WHERE username = ?", [username]).fetchone():
            raise AccountError(f"Không có tài khoản «{username}».")
        _remember_client(con, username, tag, now())
        ops._audit(con, actor, "account.trust_client", f"account:{username}", None, 1,
                   {"client": key})
    return key


def set_email(store, actor: Viewer, username: str, email: str | None) -> None:
    with _tx(store) as con:
        con.execute("UPDATE accounts SET email = ?, updated_at = ? WHERE username = ?",
                    [(email or "").strip().lower() or None, now().isoformat(), username])
        ops._audit(con, actor, "account.email", f"account:{username}", None, 1, None)


# ---- login and sessions ---------------------------------------------------------------------

@dataclass
class LoginResult:
    ok: bool
    message: str = ""
    viewer: Viewer | None = None
    token: str | None = None


def _actor(username: str, role: str | None = None) -> Viewer:
    """A viewer for audit lines written before anyone is logged in."""
    return Viewer(username or "?", role if role in ROLES and role not in ("phong_gd", "truong")
                  else "lanh_dao")


UNKNOWN_ACCOUNT = "(tài khoản không có)"

# Throttling (issue 13, findings 5 and 6). Kept in this process's memory (each dashboard process
# counts its own attempts); times come from now() so tests can move the clock.
CLIENT_MAX_FAILURES = 10                      # failures of one client (IP address) ...
CLIENT_WINDOW = dt.timedelta(minutes=15)      # ... within this window: the client waits
ACCOUNT_SLOW_STEP = dt.timedelta(seconds=30)  # after MAX_FAILURES in a row on a username: one try per step
# A client that logged in successfully as a username within this many days is a "known client"
# of it (table known_clients): the username's spacing does not bind it, only its own failure
# budget (third outside review of issue 13: one typo of the administrator's own made his address
# a failing client, and an outsider's failures then kept him out 3 to 10 times out of 19).
KNOWN_CLIENT_DAYS = 30
# The ceiling of one username: at most USERNAME_MAX_CHECKS password checks per USERNAME_WINDOW
# from clients that are not known clients of it; beyond it they get the throttled message
# without hashing (third outside review of issue 13: without it the checks an outsider got grew
# with his addresses, about 4N + 120 an hour). Known clients still get through.
USERNAME_MAX_CHECKS = 60
USERNAME_WINDOW = dt.timedelta(hours=1)
_THROTTLE_LOCK = threading.Lock()
# Ordered by last failure, oldest first. When a table holds more than _MAX_TRACKED keys, the
# oldest entries that throttle nothing go first, then the oldest of the rest (_evict). Before the
# outside review of issue 13 (finding 3) a full table was cleared ENTIRELY, so spraying 20 000
# client keys or usernames wiped every throttle, the attacked account's and the attacker's own.
_CLIENT_FAILS: OrderedDict[tuple, list] = OrderedDict()   # (store, client key) -> failure times in the window
_NAME_FAILS: OrderedDict[tuple, tuple] = OrderedDict()    # (store, username) -> (failures in a row, last failure)
# (store, username) -> times of the password checks from clients not known to it, in the window.
# In memory like the others, not in the operational store: a row written per bogus attempt is
# the write load finding 5 removed, and it works the same for unknown usernames (no enumeration).
# Its size is bounded by the hashing itself (2 slots, ~50 ms a check: ~150 000 times an hour at
# most) and by _MAX_TRACKED usernames. Each process has its own: K processes, K × the ceiling.
_NAME_CHECKS: OrderedDict[tuple, list] = OrderedDict()
_MAX_TRACKED = 20_000
_EVICT_TO = _MAX_TRACKED * 9 // 10            # one sweep frees a tenth, so sweeps stay rare
# At most two argon2 checks at once per process: a flood of attempts queues here, without
# holding any lock of ops.sqlite, instead of taking every core from the people at work.
_HASH_SLOTS = threading.BoundedSemaphore(2)


def _verify(password_hash: str, password: str) -> bool:
    """argon2id check of a password, outside any transaction (finding 5)."""
    with _HASH_SLOTS:
        try:
            return _HASHER.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False


def _throttled(skey: str, username: str, client: str, t: dt.datetime,
               known: bool = False) -> tuple[dt.datetime, str] | None:
    """Until when this attempt must wait and what binds it ("client": its own failures; "username":
    the username's spacing or ceiling, which only bind clients that are not known clients of it),
    or None. The client's own failures block the client;
    a username's failures in a row only space the attempts of clients that have themselves
    failed recently ACCOUNT_SLOW_STEP apart, so an outsider cannot keep an administrator who
    logs in from a clean address out at all (finding 6). A known client of the username
    (``known``: it logged in successfully as it within KNOWN_CLIENT_DAYS) is bound by its own
    failure budget only, so its owner's own typo does not hand the outsider the spacing."""
    with _THROTTLE_LOCK:
        ck = (skey, _client_key(client))
        fails = [x for x in _CLIENT_FAILS.get(ck, []) if t - x < CLIENT_WINDOW]
        if fails:
            _CLIENT_FAILS[ck] = fails           # keeps its place: ordered by last failure
        else:
            _CLIENT_FAILS.pop(ck, None)
        if len(fails) >= CLIENT_MAX_FAILURES:
            return fails[0] + CLIENT_WINDOW, "client"
        if known:
            return None
        n, last = _NAME_FAILS.get((skey, username), (0, None))
        # The spacing binds only a client that has failed recently: an outsider rotating a few
        # addresses took every slot and kept the administrator out for an hour (second outside
        # review of issue 13). A fresh address still gets one try before it is a failing client.
        if fails and n >= MAX_FAILURES and last is not None and t - last < ACCOUNT_SLOW_STEP:
            return last + ACCOUNT_SLOW_STEP, "username"
        # The ceiling: this attempt takes one of the username's checks of the window (taken
        # here, under the lock, so parallel attempts cannot overshoot it).
        nk = (skey, username)
        checks = [x for x in _NAME_CHECKS.pop(nk, []) if t - x < USERNAME_WINDOW]
        if len(checks) >= USERNAME_MAX_CHECKS:
            _NAME_CHECKS[nk] = checks
            return checks[0] + USERNAME_WINDOW, "username"
        checks.append(t)
        _NAME_CHECKS[nk] = checks               # (re)inserted last: ordered by last check
        _evict(_NAME_CHECKS, _checks_hold, len, t)
    return None


def _address_key(client: str) -> str | None:
    """The client key (_client_key) when the client is an IP address, else None: "?" (no
    address known) or any other text is shared by many people and can never be a known client."""
    k = _client_key(client)
    try:
        ipaddress.ip_network(k)
    except ValueError:
        return None
    return k


def _client_tag(store, client: str) -> str | None:
    """A keyed hash of the client key (HMAC with the store's own secret), what
    known_clients holds instead of the address; None for a client that is not an address."""
    k = _address_key(client)
    if k is None:
        return None
    return hmac.new(_audit_key(store).encode(), ("client:" + k).encode(), hashlib.sha256).hexdigest()[:32]


def _is_known_client(store, username: str, tag: str | None, t: dt.datetime) -> bool:
    """Whether this client logged in successfully as ``username`` within KNOWN_CLIENT_DAYS. One
    indexed read (the primary key), for unknown usernames too: the same work for both."""
    if tag is None or not username:
        return False
    since = (t - dt.timedelta(days=KNOWN_CLIENT_DAYS)).isoformat()
    return bool(_rows(store, "SELECT 1 AS k FROM known_clients WHERE username = ? AND client_tag = ? "
                             "AND last_success > ?", [username, tag, since]))


def _remember_client(con, username: str, tag: str | None, t: dt.datetime) -> None:
    """After a successful login: this client is a known client of the username (one row upsert),
    and the username's clients not seen for KNOWN_CLIENT_DAYS are forgotten (few rows)."""
    if tag is None:
        return
    ts = t.isoformat()
    con.execute("INSERT INTO known_clients (username, client_tag, first_success, last_success) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (username, client_tag) "
                "DO UPDATE SET last_success = excluded.last_success", [username, tag, ts, ts])
    con.execute("DELETE FROM known_clients WHERE username = ? AND last_success <= ?",
                [username, (t - dt.timedelta(days=KNOWN_CLIENT_DAYS)).isoformat()])


def _client_key(client: str) -> str:
    """The unit a client is throttled by: an IPv4 address itself (an IPv4-mapped IPv6 address is
    that IPv4 address), an IPv6 address its /64 (the smallest block a host or a home line gets:
    counting single IPv6 addresses would give one attacker 2^64 fresh budgets; outside review of
    issue 13, finding 3); anything that is not an address as written."""
    try:
        ip = ipaddress.ip_address(client.strip().split("%", 1)[0])
    except ValueError:
        return client
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.version == 4:
        return str(ip)
    return str(ipaddress.ip_network(f"{ip}/64", strict=False))


def _client_holds(fails: list, t: dt.datetime) -> bool:
    return sum(1 for x in fails if t - x < CLIENT_WINDOW) >= CLIENT_MAX_FAILURES


def _name_holds(entry: tuple, t: dt.datetime) -> bool:
    return entry[0] >= MAX_FAILURES


def _checks_hold(checks: list, t: dt.datetime) -> bool:
    return sum(1 for x in checks if t - x < USERNAME_WINDOW) >= USERNAME_MAX_CHECKS


def _evict(table: OrderedDict, holds, weight, t: dt.datetime) -> None:
    """Bring a full table down to _EVICT_TO keys: first the entries that throttle nothing now
    (a client under its limit, a username under MAX_FAILURES in a row), those with the fewest
    failures first and, among equals, the oldest; then, only if entries that throttle are all
    that is left, the oldest of them. So a spray of fresh keys (each with one failure) never
    frees a client or an account that is being throttled, nor a client that has failed several
    times on a slowed account (since the spacing binds only failing clients, such a client
    would otherwise come back clean; second outside review of issue 13)."""
    if len(table) <= _MAX_TRACKED:
        return
    excess = len(table) - _EVICT_TO
    idle = [(weight(v), i, k) for i, (k, v) in enumerate(table.items()) if not holds(v, t)]
    for _, _, k in heapq.nsmallest(excess, idle):
        del table[k]
    while len(table) > _EVICT_TO:
        table.popitem(last=False)


def _note_failure(skey: str, username: str, client: str, t: dt.datetime) -> None:
    with _THROTTLE_LOCK:
        ck = (skey, _client_key(client))
        fails = _CLIENT_FAILS.pop(ck, [])
        fails.append(t)
        _CLIENT_FAILS[ck] = fails              # (re)inserted last: the newest
        n, _ = _NAME_FAILS.pop((skey, username), (0, None))
        _NAME_FAILS[(skey, username)] = (n + 1, t)
        _evict(_CLIENT_FAILS, _client_holds, len, t)
        _evict(_NAME_FAILS, _name_holds, lambda e: e[0], t)


def _note_success(skey: str, username: str) -> None:
    with _THROTTLE_LOCK:
        _NAME_FAILS.pop((skey, username), None)


_AUDIT_KEYS: dict[str, str] = {}


def _audit_key(store) -> str:
    """The store's own key for the known clients' hashes (HMAC of a client key): made at random on
    first use and kept in ops.sqlite, never in the code. (It first keyed hashes of unknown
    usernames in the audit log, hence its row name; those are no longer written.)"""
    path = ops_db.key(_st(store))
    k = _AUDIT_KEYS.get(path)
    if k:
        return k
    with ops.transaction(store) as con:
        con.execute("INSERT INTO secret_keys (name, value) VALUES ('audit_username', ?) "
                    "ON CONFLICT DO NOTHING",
                    [secrets.token_hex(32)])
        k = con.execute("SELECT value FROM secret_keys WHERE name = 'audit_username'").fetchone()[0]
    _AUDIT_KEYS[path] = k
    return k


def _audit_login(con, username, acc, action, reason, extra=None):
    # Written with the account's own role and scope when it exists; never the password. An
    # unknown username may be a password typed in the wrong field: only the fixed
    # UNKNOWN_ACCOUNT entry is kept (finding 8), nothing derived from what was typed.
    detail = {"reason": reason} if reason else {}
    detail.update(extra or {})
    if acc is not None:
        try:
            v = viewer_of(acc)
        except ValueError:
            v = _actor(username)
        name, obj = v.username, f"account:{v.username}"
    else:
        v, name, obj = None, UNKNOWN_ACCOUNT, "account:?"
    con.execute("INSERT INTO audit_log (at, username, role, action, object, scope, rows, detail) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [now().isoformat(), name, acc["role"] if acc else None, action,
                 obj, ops._scope_text(v) if acc else None, None,
                 ops._clean_detail(detail or None)])


def authenticate(store, username: str, password: str, client: str | None = None) -> LoginResult:
    """Check a username and password; on success open a session (``token``). Every attempt is
    audited (login.success / login.failure with the reason). ``client``: the browser's address
    (st.context.ip_address), for throttling.

    Why in this order: the argon2 check (~50 ms of a core, by design) runs outside any write
    transaction on ops.sqlite, so a flood of bogus logins never holds the lock that every
    follow-up, receipt and audit line needs (finding 5); the transaction after it is short.
    Unknown and known usernames get the same message, the same hashing work and the same
    throttling (finding 6)."""
    username = (username or "").strip()
    password = password or ""
    client = (client or "?").strip() or "?"
    t = now()
    skey = str(_st(store).root.resolve())
    _ensure(store)
    tag = _client_tag(store, client)
    held = _throttled(skey, username, client, t, _is_known_client(store, username, tag, t))
    if held is not None:
        wait, why = held
        acc = get(store, username)
        with _tx(store) as con:
            _audit_login(con, username, acc, "login.failure", "throttled",
                         {"client": client} if acc is not None else None)
        msg = f"Đã đăng nhập sai nhiều lần: hãy thử lại sau {_fmt_clock(wait)}."
        key = _address_key(client)
        if why == "username" and key is not None:
            # A new device of the owner is held back by an outsider's attempts for as long as
            # they last (fourth outside review of issue 13): the way in is the operator's
            # `users trust-client`, which needs this client's address. The same words for
            # unknown usernames (the ceiling and spacing count them alike): nothing to enumerate.
            msg += (f" Nếu đây là máy mới của bạn: địa chỉ của máy này là {key}; người quản trị "
                    "máy chủ có thể cho phép địa chỉ này đăng nhập ngay (lệnh users trust-client).")
        return LoginResult(False, msg)
    rows = _rows(store, "SELECT * FROM accounts WHERE username = ?", [username])
    acc = rows[0] if rows else None
    ok = _verify((acc or {}).get("password_hash") or _DUMMY_HASH, password)
    if acc is None:
        ok = False
    demo_ok = store_is_sample(store) if ok and acc and acc["is_demo"] else True
    # An unknown username is audited as the fixed entry only: no hash of what was typed. A keyed
    # hash (finding 8's first fix) could be reversed offline by anyone with ops.sqlite, which
    # holds its key: a password typed as a username was found from a small word list (second
    # outside review of issue 13).
    extra = None
    with _tx(store) as con:
        if not ok:
            if acc is not None:
                con.execute("UPDATE accounts SET failed_count = failed_count + 1 WHERE username = ?", [username])
            _audit_login(con, username, acc, "login.failure",
                         "unknown_user" if acc is None else "wrong_password", extra)
            result = LoginResult(False, _WRONG)
        else:
            result = _finish_login(con, acc, username, password, t, demo_ok)
            if result.ok:
                _remember_client(con, username, tag, t)
    if result.ok:
        _note_success(skey, username)
    else:   # a refused right password counts like a wrong one: throttling tells nothing either
        _note_failure(skey, username, client, t)
    return result


_WRONG = "Tên đăng nhập hoặc mật khẩu không đúng."


def _fmt_clock(t: dt.datetime) -> str:
    return t.astimezone(TZ).strftime("%H:%M:%S ngày %d/%m/%Y")


def _finish_login(con, acc, username, password, t, demo_ok) -> LoginResult:
    """After a right password: disabled or demo-on-real-data refusals, else a new session.

    A refusal says exactly what a wrong password says (``_WRONG``): a message of its own
    («tài khoản đã bị vô hiệu hóa») told an outsider that the password was right (outside
    review of issue 13, finding 4). The audit log keeps the real reason for the administrator;
    the account's owner learns it from them."""
    if acc["disabled"]:
        _audit_login(con, username, acc, "login.failure", "disabled")
        return LoginResult(False, _WRONG)
    if acc["is_demo"] and not demo_ok:
        _audit_login(con, username, acc, "login.failure", "demo_on_real_data")
        return LoginResult(False, _WRONG)
    token = secrets.token_urlsafe(32)
    con.execute("UPDATE accounts SET failed_count = 0, locked_until = NULL WHERE username = ?", [username])
    con.execute("INSERT INTO sessions (token_hash, username, created_at, last_seen) VALUES (?, ?, ?, ?)",
                [_hash_token(token), username, t.isoformat(), t.isoformat()])
    _audit_login(con, username, acc, "login.success", None)
    return LoginResult(True, "", viewer_of(acc), token)


@dataclass
class SessionState:
    viewer: Viewer | None
    reason: str = ""      # "", "expired", "ended", "disabled", "unknown"


def open_session(store, username: str) -> str:
    """A new session for an account already authenticated elsewhere (single sign-on)."""
    token = secrets.token_urlsafe(32)
    t = now().isoformat()
    with _tx(store) as con:
        con.execute("INSERT INTO sessions (token_hash, username, created_at, last_seen) VALUES (?, ?, ?, ?)",
                    [_hash_token(token), username, t, t])
    return token


def check_session(store, token: str | None) -> SessionState:
    """The viewer of a live session (and its last_seen moved forward), or why there is none.
    A session is live when not ended, its account exists, is enabled (and, for a demo account,
    the store still holds only sample data) and it was active within ``idle_minutes()``."""
    if not token:
        return SessionState(None, "unknown")
    th = _hash_token(token)
    rows = _rows(store, "SELECT s.*, a.role, a.district_code, a.school_code, a.display_name, "
                        "a.disabled, a.is_demo FROM sessions s LEFT JOIN accounts a USING (username) "
                        "WHERE s.token_hash = ?", [th])
    if not rows:
        return SessionState(None, "unknown")
    s = rows[0]
    if s["ended_at"]:
        return SessionState(None, "disabled" if s["end_reason"] == "disabled" else "ended")
    if s["role"] is None or s["disabled"]:
        return SessionState(None, "disabled")
    t = now()
    last = dt.datetime.fromisoformat(s["last_seen"])
    if t - last > dt.timedelta(minutes=idle_minutes()):
        with _tx(store) as con:
            con.execute("UPDATE sessions SET ended_at = ?, end_reason = 'expired' "
                        "WHERE token_hash = ? AND ended_at IS NULL", [t.isoformat(), th])
        return SessionState(None, "expired")
    if s["is_demo"] and not store_is_sample(store):
        return SessionState(None, "disabled")
    if t - last >= TOUCH_EVERY:
        with _tx(store) as con:
            con.execute("UPDATE sessions SET last_seen = ? WHERE token_hash = ? AND ended_at IS NULL",
                        [t.isoformat(), th])
    return SessionState(viewer_of(s))


def _end_sessions(con, username: str, reason: str) -> int:
    return con.execute("UPDATE sessions SET ended_at = ?, end_reason = ? "
                       "WHERE username = ? AND ended_at IS NULL",
                       [now().isoformat(), reason, username]).rowcount


def logout(store, token: str | None, viewer: Viewer | None = None) -> None:
    if not token:
        return
    with _tx(store) as con:
        con.execute("UPDATE sessions SET ended_at = ?, end_reason = 'logout' "
                    "WHERE token_hash = ? AND ended_at IS NULL", [now().isoformat(), _hash_token(token)])
        if viewer is not None:
            ops._audit(con, viewer, "logout", f"account:{viewer.username}", None, None, None)


def logout_everywhere(store, viewer: Viewer) -> int:
    """End every session of the viewer's account (all devices); returns how many."""
    with _tx(store) as con:
        n = _end_sessions(con, viewer.username, "logout_everywhere")
        ops._audit(con, viewer, "logout.everywhere", f"account:{viewer.username}", None, n, None)
    return n


# ---- single sign-on -------------------------------------------------------------------------

def sso_account(store, email: str | None) -> LoginResult:
    """Map an identity's e-mail (st.user.email after st.login) to a local account: its role and
    scope. Unknown, disabled, or demo accounts are refused with a message."""
    e = (email or "").strip().lower()
    if not e:
        return LoginResult(False, "Tài khoản đăng nhập một lần không có địa chỉ e-mail.")
    rows = _rows(store, "SELECT * FROM accounts WHERE lower(email) = ?", [e])
    if not rows:
        return LoginResult(False, f"Địa chỉ {e} chưa được cấp quyền xem bảng theo dõi. "
                                  "Liên hệ quản trị hệ thống để được tạo tài khoản.")
    acc = rows[0]
    if acc["disabled"]:
        return LoginResult(False, "Tài khoản đã bị vô hiệu hóa. Liên hệ quản trị hệ thống.")
    if acc["is_demo"]:
        return LoginResult(False, "Tài khoản trình diễn không dùng đăng nhập một lần.")
    return LoginResult(True, "", viewer_of(acc))


# ---- demo accounts and the first administrator ---------------------------------------------

def store_is_sample(store) -> bool:
    """True when every snapshot of the store (hidden ones included) is one of the generated
    demo series, proven by its content hash (store_kind.is_demo_store), never by the
    manifest's self-declared ``source`` (issue 13, finding 4)."""
    from .store_kind import is_demo_store
    return is_demo_store(_st(store))


SYSTEM_ACTOR = Viewer("system", "quan_tri", display_name="Hệ thống")


def ensure_demo_accounts(store) -> bool:
    """Create the demo accounts (DEMO_ACCOUNTS) when the store holds only generated sample data
    and has no account yet. Returns True when demo accounts exist and may be used.
    (Called on every page view: remembered until the snapshot folder or ops.sqlite changes.)"""
    st = _st(store)
    return file_memo.remembered(("ensure_demo_accounts", st.key), st.state_files(),
                                lambda: _ensure_demo_accounts(st), ops_db.max_age())


def _ensure_demo_accounts(store) -> bool:
    if not store_is_sample(store):
        return False
    if count(store) == 0:
        for u, role, d, s, name, pw in DEMO_ACCOUNTS:
            try:
                add(store, SYSTEM_ACTOR, u, role, d, s, name, password=pw, is_demo=True)
            except AccountError:
                pass   # another process created it first
    return demo_in_use(store)


def demo_in_use(store) -> bool:
    if not ops_db.exists(_st(store)):
        return False
    n = _rows(store, "SELECT count(*) AS n FROM accounts WHERE is_demo = 1 AND disabled = 0")[0]["n"]
    return bool(n) and store_is_sample(store)


def init_admin(store, username: str = "quantri", display_name: str = "Quản trị hệ thống",
               password: str | None = None) -> str:
    """The first administrator of a real deployment: refused when a (non-demo) administrator
    already exists. Returns the password to print once."""
    rows = _rows(store, "SELECT username FROM accounts WHERE role = 'quan_tri' AND is_demo = 0 "
                        "AND disabled = 0")
    if rows:
        raise AccountError(f"Đã có tài khoản quản trị ({rows[0]['username']}); dùng "
                           "«users reset-password» nếu quên mật khẩu.")
    return add(store, SYSTEM_ACTOR, username, "quan_tri", display_name=display_name, password=password)


def needs_first_admin(store) -> bool:
    """A store with data but no usable account (and no demo accounts): the login page explains
    how to create the first administrator."""
    return count(store) == 0 or not _rows(
        store, "SELECT 1 FROM accounts WHERE disabled = 0 AND (is_demo = 0 OR ? = 1) LIMIT 1",
        [int(store_is_sample(store))])
