"""deploy/ (issue 17): the nginx configuration and the systemd unit agree with the app.

- nginx: `nginx -t` accepts deploy/nginx/tiendo.conf (as tests/nginx_proxy.py renders it);
  the body limit equals server.maxUploadSize of .streamlit/config.toml (a smaller one cuts a
  whole-city upload at the proxy with an English nginx page); the WebSocket path upgrades and
  waits long; X-Forwarded-For is set; the upstream is sticky.
- systemd: tiendo@.service starts what `make run` starts (serve.py and the same Streamlit
  options), on the instance's port, with TIENDO_STORE/TIENDO_OPS_URL from an EnvironmentFile
  and TIENDO_VIEWER (the login bypass) removed.
"""
from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path

from tests import nginx_proxy

ROOT = Path(__file__).resolve().parent.parent
UNIT = ROOT / "deploy" / "systemd" / "tiendo@.service"


def _conf() -> str:
    return nginx_proxy.DEPLOY_CONF.read_text(encoding="utf-8")


def _block(text: str, head: str) -> str:
    """The body of the first ``head { ... }`` block (no nested braces in ours)."""
    m = re.search(re.escape(head) + r"\s*\{([^}]*)\}", text)
    assert m, f"no block {head!r}"
    return m.group(1)


def test_nginx_accepts_the_configuration(tmp_path):
    conf = tmp_path / "nginx.conf"
    conf.write_text(nginx_proxy.render(["127.0.0.1:1", "127.0.0.1:2"], 9, tmp_path), encoding="utf-8")
    r = nginx_proxy.check(conf, tmp_path)
    assert r.returncode == 0, r.stderr
    assert "test is successful" in r.stderr


def test_body_limit_matches_max_upload_size():
    mb = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))["server"]["maxUploadSize"]
    assert re.findall(r"^\s*client_max_body_size (\S+);", _conf(), flags=re.M) == [f"{mb}m"]


def test_websocket_upgrade_and_timeouts():
    ws = _block(_conf(), "location /_stcore/stream")
    assert "proxy_set_header Upgrade $http_upgrade;" in ws
    assert "proxy_set_header Connection $connection_upgrade;" in ws
    secs = int(re.search(r"proxy_read_timeout (\d+)s;", ws).group(1))
    assert secs >= 3600, "an idle tab's WebSocket must not be cut after nginx's default 60 s"
    text = _conf()
    assert "proxy_http_version 1.1;" in text
    for loc in ("location /_stcore/stream", "location /"):   # sent: see the test below
        assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in _block(text, loc)
        # Host with its port: Streamlit compares the WebSocket's Origin with it
        assert "proxy_set_header Host $http_host;" in _block(text, loc)


def test_upstream_is_sticky_by_cookie():
    up = _block(_conf(), "upstream tiendo")
    assert re.search(r"^\s*hash \$tiendo_route consistent;", up, flags=re.M)
    assert len(re.findall(r"^\s*server 127\.0\.0\.1:\d+ ", up, flags=re.M)) == 2
    assert "add_header Set-Cookie $tiendo_route_cookie;" in _conf()


def _unit() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in UNIT.read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.lstrip().startswith(("#", "[")):
            k, v = line.split("=", 1)
            out.setdefault(k.strip(), []).append(v.strip())
    return out


def _make_run_options() -> list[str]:
    """The Streamlit options of `make run` (Makefile), with $(PORT) as %i."""
    mk = (ROOT / "Makefile").read_text(encoding="utf-8")
    m = re.search(r"^run:.*\n((?:\t.*\n)+)", mk, flags=re.M)
    cmd = m.group(1).replace("\\\n", " ").replace("\t", " ")
    words = shlex.split(cmd)
    i = words.index("serve.py")
    return [w.replace("$(PORT)", "%i") for w in words[i + 1:]]


def test_unit_starts_what_make_run_starts():
    u = _unit()
    words = shlex.split(u["ExecStart"][0])
    assert words[:3] == ["/usr/bin/env", "-u", "TIENDO_VIEWER"]
    assert words[3].endswith("/.venv/bin/python") and words[4] == "serve.py"
    assert words[5:] == _make_run_options()
    assert "--server.port" in words and words[words.index("--server.port") + 1] == "%i"
    assert u["EnvironmentFile"] == ["/etc/tiendo/tiendo.env"]
    assert u["UnsetEnvironment"] == ["TIENDO_VIEWER"]
    assert not any("TIENDO_VIEWER" in v for v in u.get("Environment", []))
    example = (ROOT / "deploy" / "tiendo.env.example").read_text(encoding="utf-8")
    keys = {line.split("=", 1)[0] for line in example.splitlines() if line and not line.startswith("#")}
    assert keys == {"TIENDO_STORE", "TIENDO_OPS_URL", "TIENDO_TRUSTED_PROXIES"}


def test_proxy_sends_the_forwarding_headers_on_every_location(tmp_path):
    """nginx passes proxy_set_header lines of the server block down to a location only when
    the location sets none of its own; both of ours set some (Upgrade, keep-alive). So each
    location must carry Host (with the port) and X-Forwarded-For itself: checked on the
    requests two recording upstreams actually receive."""
    import http.server
    import threading
    import urllib.request

    seen: list[dict] = []

    class Record(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append({"path": self.path, **{k.lower(): v for k, v in self.headers.items()}})
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *a):
            pass

    servers = [http.server.ThreadingHTTPServer(("127.0.0.1", 0), Record) for _ in range(2)]
    for s in servers:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    try:
        with nginx_proxy.nginx_proxy([f"127.0.0.1:{s.server_address[1]}" for s in servers],
                                     tmp_path / "nginx") as (base, _, _):
            seen.clear()
            for path in ("/", "/_stcore/stream"):
                req = urllib.request.Request(base + path, headers={"X-Forwarded-For": "203.0.113.7"})
                urllib.request.urlopen(req, timeout=10).read()
    finally:
        for s in servers:
            s.shutdown()
    port = base.rsplit(":", 1)[1]
    assert [r["path"] for r in seen] == ["/", "/_stcore/stream"]
    for r in seen:
        assert r.get("host") == f"127.0.0.1:{port}", r
        assert r.get("x-forwarded-for") == "203.0.113.7, 127.0.0.1", r
        assert r.get("x-real-ip") == "127.0.0.1", r


def test_the_cookie_nginx_sets_keeps_a_browser_on_its_replica(tmp_path):
    """A browser without the cookie gets one with its first answer; every later request that
    carries it (the WebSocket, media, uploads) reaches the replica of that first answer. Over
    20 first visits both replicas get some (the cookie spreads browsers; by address they would
    all be 127.0.0.1, one replica)."""
    import http.server
    import threading
    import urllib.request

    class Echo(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = str(self.server.server_address[1]).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    servers = [http.server.ThreadingHTTPServer(("127.0.0.1", 0), Echo) for _ in range(2)]
    for s in servers:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    firsts, stuck = set(), []
    try:
        with nginx_proxy.nginx_proxy([f"127.0.0.1:{s.server_address[1]}" for s in servers],
                                     tmp_path / "nginx") as (base, _, _):
            for _ in range(20):
                with urllib.request.urlopen(base + "/", timeout=10) as r:
                    first = r.read().decode()
                    cookie = r.headers["Set-Cookie"].split(";")[0]
                assert cookie.startswith("tiendo_route=")
                firsts.add(first)
                for path in ("/_stcore/stream", "/media/x.png", "/"):
                    req = urllib.request.Request(base + path, headers={"Cookie": cookie})
                    with urllib.request.urlopen(req, timeout=10) as r:
                        stuck.append(r.read().decode() == first)
                        assert r.headers.get("Set-Cookie") is None   # set once, not on every answer
    finally:
        for s in servers:
            s.shutdown()
    assert all(stuck) and len(stuck) == 60
    assert firsts == {str(s.server_address[1]) for s in servers}
