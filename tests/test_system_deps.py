""".ci/install-system-deps, the one script `make test` and .ci/run call to install the Debian
packages the tests need (issue 14: `make test` on a fresh machine failed for lack of
LibreOffice). Run with a PATH holding only fake commands, so each case decides as on a machine
with exactly those commands and fonts: it installs exactly what is missing, with sudo when not
root, and stops with one clear line when it cannot."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / ".ci" / "install-system-deps"
BASH = shutil.which("bash")
ALL_FONTS = ("/usr/share/fonts/DejaVuSans.ttf: DejaVu Sans:style=Book\n"
             "/usr/share/fonts/Carlito-Regular.ttf: Carlito:style=Regular\n"
             "/usr/share/fonts/NotoColorEmoji.ttf: Noto Color Emoji:style=Regular\n")


def _fake(bindir: Path, name: str, body: str) -> None:
    p = bindir / name
    p.write_text("#!" + BASH + "\n" + body + "\n", encoding="utf-8")
    p.chmod(0o755)


def _run(tmp_path: Path, have: tuple[str, ...] = (), fonts: str = "", uid: int = 0,
         apt: bool = True, sudo: str | None = None, dry_run: bool = False, postgres: bool = True,
         nginx: bool = True):
    """Run the script on a machine with the commands ``have`` (chromium, soffice, pdftoppm),
    ``fonts`` (fc-list output), user ``uid``; ``sudo``: None (absent), "ok" (rights without
    password) or "denied"; ``postgres``: the PostgreSQL server binaries are there (Debian's
    /usr/lib/postgresql/<major>/bin, here a fake folder); ``nginx``: Debian's /usr/sbin/nginx is
    there (here a fake file named by TIENDO_NGINX: /usr/sbin is not on a user's PATH). Returns (status, stdout, stderr,
    apt-get calls)."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    log = tmp_path / "apt.log"
    for tool in ("grep", "cat", "env"):
        os.symlink(shutil.which(tool), bindir / tool)
    for name in have:
        _fake(bindir, name, "exit 0")
    (tmp_path / "fonts.txt").write_text(fonts, encoding="utf-8")
    _fake(bindir, "fc-list", f"cat {tmp_path / 'fonts.txt'}")
    _fake(bindir, "id", f"echo {uid}")
    if apt:
        _fake(bindir, "apt-get", f'echo "$*" >> {log}')
    if sudo == "ok":
        _fake(bindir, "sudo", f'[ "$1" = -n ] && shift; [ "$1" = true ] && exit 0; echo "sudo $*" >> {log}; exec "$@"')
    elif sudo == "denied":
        _fake(bindir, "sudo", "echo 'sudo: a password is required' >&2; exit 1")
    pglib = tmp_path / "pglib"
    if postgres:
        (pglib / "15" / "bin").mkdir(parents=True)
        _fake(pglib / "15" / "bin", "postgres", "exit 0")
    nginx_bin = tmp_path / "sbin" / "nginx"
    if nginx:
        nginx_bin.parent.mkdir()
        _fake(nginx_bin.parent, "nginx", "exit 0")
    env = {"PATH": str(bindir), "HOME": str(tmp_path), "TIENDO_PG_LIB": str(pglib),
           "TIENDO_NGINX": str(nginx_bin)}
    if dry_run:
        env["TIENDO_DEPS_DRY_RUN"] = "1"
    r = subprocess.run([BASH, str(SCRIPT)], env=env, stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=30)
    calls = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    return r.returncode, r.stdout, r.stderr, calls


def test_nothing_missing_installs_nothing(tmp_path):
    rc, out, err, calls = _run(tmp_path, have=("chromium", "soffice", "pdftoppm"), fonts=ALL_FONTS)
    assert (rc, out, err, calls) == (0, "", "", [])


def test_decides_exactly_the_missing_ones(tmp_path):
    rc, out, _, calls = _run(tmp_path, have=("chromium", "pdftoppm"),
                             fonts="/x/DejaVuSans.ttf: DejaVu Sans:style=Book\n", dry_run=True)
    assert rc == 0 and calls == []
    assert out.strip() == "would install: libreoffice-calc fonts-crosextra-carlito fonts-noto-color-emoji"


def test_fresh_machine_as_root_installs_all(tmp_path):
    rc, out, err, calls = _run(tmp_path, uid=0)
    assert rc == 0, err
    assert calls == ["update -qq",
                     "install -y -qq chromium",
                     "install -y -qq --no-install-recommends libreoffice-calc poppler-utils "
                     "fonts-dejavu-core fonts-crosextra-carlito fonts-noto-color-emoji"]
    assert "libreoffice-calc" in out


def test_not_root_uses_sudo(tmp_path):
    rc, _, err, calls = _run(tmp_path, have=("chromium", "pdftoppm"), fonts=ALL_FONTS, uid=1000, sudo="ok")
    assert rc == 0, err
    assert calls == ["sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq", "update -qq",
                     "sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "
                     "--no-install-recommends libreoffice-calc",
                     "install -y -qq --no-install-recommends libreoffice-calc"]


def test_no_apt_get_stops_with_one_line(tmp_path):
    rc, out, err, calls = _run(tmp_path, have=("chromium", "pdftoppm"), fonts=ALL_FONTS, apt=False)
    assert rc == 1 and out == "" and calls == []
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert "libreoffice-calc" in lines[0] and "apt-get" in lines[0]


def test_no_sudo_rights_stops_with_one_line(tmp_path):
    rc, out, err, calls = _run(tmp_path, have=("soffice", "pdftoppm"), fonts=ALL_FONTS, uid=1000,
                               sudo="denied")
    assert rc == 1 and out == "" and calls == []
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert "sudo apt-get install chromium" in lines[0]


def test_missing_postgresql_server_is_installed(tmp_path):
    """The operational store's tests start a PostgreSQL from the server package (issue 17)."""
    rc, out, _, calls = _run(tmp_path, have=("chromium", "soffice", "pdftoppm"), fonts=ALL_FONTS,
                             postgres=False, dry_run=True)
    assert (rc, calls) == (0, [])
    assert out.strip() == "would install: postgresql"
    (tmp_path / "again").mkdir()
    rc, out, err, calls = _run(tmp_path / "again", have=("chromium", "soffice", "pdftoppm"),
                               fonts=ALL_FONTS, postgres=False)
    assert rc == 0, err
    assert calls == ["update -qq", "install -y -qq --no-install-recommends postgresql"]


def test_missing_nginx_is_installed(tmp_path):
    """tests/test_replicas.py runs two replicas behind Debian's nginx (issue 17); nginx lives in
    /usr/sbin, off a user's PATH, so the script looks there too."""
    rc, out, _, calls = _run(tmp_path, have=("chromium", "soffice", "pdftoppm"), fonts=ALL_FONTS,
                             nginx=False, dry_run=True)
    assert (rc, calls) == (0, [])
    assert out.strip() == "would install: nginx"
    (tmp_path / "again").mkdir()
    rc, out, err, calls = _run(tmp_path / "again", have=("chromium", "soffice", "pdftoppm"),
                               fonts=ALL_FONTS, nginx=False, postgres=False)
    assert rc == 0, err
    assert calls == ["update -qq", "install -y -qq --no-install-recommends postgresql nginx"]
    (tmp_path / "onpath").mkdir()
    rc, out, err, calls = _run(tmp_path / "onpath", have=("chromium", "soffice", "pdftoppm", "nginx"),
                               fonts=ALL_FONTS, nginx=False)
    assert (rc, out, err, calls) == (0, "", "", [])
