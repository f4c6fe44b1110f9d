"""Load test: N concurrent dashboard sessions against a real `streamlit run dashboard.py`.

Usage: python -m bench.load_test --store STORE [--sessions 1,10,30] [--client browser|protocol]
                                 [--ramp 0] [--think 0] [--browsers 2] [--json OUT.json]
                                 [--via-nginx --replicas 1,2 [--pg]]

Replicas (issue 17): ``--via-nginx --replicas 1,2`` runs the same sessions, in the same command,
through nginx (deploy/nginx/tiendo.conf as tests/nginx_proxy.py renders it) in front of 1, then
2 fresh `serve.py` replicas, and prints both side by side: p50/p95, errors, server CPU (all
replicas) and nginx's CPU. ``--pg`` gives each deployment a fresh database of a throw-away
PostgreSQL (tests/pg_server.py) as TIENDO_OPS_URL, the multi-machine setup; without it the
replicas share the store's ops.sqlite (one machine), or TIENDO_OPS_URL if set. Each protocol
session carries its own sticky cookie (tiendo_route) on the HTML and the WebSocket, as a
browser does; browser contexts keep the cookie nginx sets.

What it does, and why this way:
- starts the dashboard itself on a free port of 127.0.0.1 (TIENDO_STORE=STORE, headless, no
  file watcher), polls /_stcore/health, and always stops it at the end;
- warms it with one session (building the newest snapshot's evaluation is what a server pays
  once after a restart: reported apart as "cold start"), then takes the *warm baseline* memory;
- for each N: N sessions, each loading by URL the Overview (/), a district
  (/quan-huyen?district=D) and an institution (/truong?school=S). Sessions take different
  districts and schools round-robin, as the offices of a city do on deadline day, so the
  per-query caches are not simply shared. ``--ramp`` spreads the session starts over that many
  seconds (0 = all at once, the harshest case), ``--think`` waits between a session's pages.
- two clients, both real WebSocket sessions of the server:
  ``browser``  Playwright contexts in headless Debian Chromium (--browsers processes): a page's
               time runs from navigation to Streamlit idle (script notRunning, connected) after
               the page's own text is visible; an error is an exception box or a timeout. Each
               Chromium page costs the 2-core machine ~1-2 CPU-seconds of its own (JS, layout,
               plotly), which is counted in the page times: measure few sessions this way;
  ``protocol`` the Streamlit protocol itself (what the browser sends: a BackMsg rerun_script
               with the page's url path and query string on /_stcore/stream, after a GET of the
               page's HTML): a page's time runs until the server's script_finished, with the
               page's own text among the elements received; an error is an exception element,
               page_not_found, a run that ends otherwise, or a timeout. This is the server's
               share of a page without the browser's rendering, so N=30 measures the server.
- memory: RSS of the streamlit process (/proc) sampled every 0.2 s — warm baseline, peak
  during the run, at once after the sessions closed and after --settle seconds; server CPU
  seconds per run.
Every loop is bounded (N sessions x 3 pages, each page with a timeout); traffic goes only to
127.0.0.1. The machine's load average is printed, since other work may share the 2 cores.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser_helpers import (CHROMIUM, EXCEPTION, IDLE, cpu_seconds, launch_chromium,  # noqa: E402
                                   rss_mb, streamlit_server)

PAGES = (  # (name, url path, query string with {d}/{s}, a text only the loaded page shows)
    ("overview", "", "", "Tiến độ theo thời gian"),
    ("district", "quan-huyen", "district={d}", "Đơn vị đã xong"),
    ("institution", "truong", "school={s}", "Danh mục yêu cầu"),
)


def targets(store: str, n: int) -> list[tuple[str, str]]:
    """(district_code, school_code) pairs of the newest snapshot: districts round-robin, a
    different school of that district each time round."""
    import duckdb
    from data_access.store import Store

    snap = Store(store).snapshot_at(None)
    if snap is None:
        raise SystemExit(f"no snapshot in {store}")
    con = duckdb.connect(str(snap["path"]), read_only=True)
    try:
        rows = con.execute("SELECT district_code, school_code FROM schools WHERE district_code IS NOT NULL "
                           "AND school_code IS NOT NULL ORDER BY district_code, school_code").fetchall()
    finally:
        con.close()
    by_d: dict[str, list[str]] = {}
    for d, s in rows:
        by_d.setdefault(d, []).append(s)
    districts = sorted(by_d)
    out = []
    for i in range(n):
        d = districts[i % len(districts)]
        out.append((d, by_d[d][(i // len(districts) * 7) % len(by_d[d])]))
    return out


def rss_all(pids) -> float:
    return sum(rss_mb(p) for p in pids)


def cpu_all(pids) -> float:
    return sum(cpu_seconds(p) for p in pids)


def children(pid: int) -> list[int]:
    """Child processes of ``pid`` (nginx's workers), from /proc."""
    out = []
    try:
        for t in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{t}/children") as f:
                out += [int(x) for x in f.read().split()]
    except OSError:
        pass
    return out


class MemorySampler:
    """Summed RSS of the server processes every ``every`` seconds in a thread; peak since the
    last reset."""

    def __init__(self, pids, every: float = 0.2):
        self.pids, self.every, self.peak = list(pids), every, 0.0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_all(self.pids))
            self._stop.wait(self.every)

    def start(self):
        self._t.start()
        return self

    def reset(self) -> None:
        self.peak = rss_all(self.pids)

    def stop(self):
        self._stop.set()
        self._t.join(5)


# ---- browser client ----------------------------------------------------------------------------
# Records the app's script-state changes (performance.now() ms), so the script's share of a page
# (running → notRunning, as the browser sees it) is reported next to the whole page time.
STATE_PROBE = """
window.__st_ev = [];
new MutationObserver(() => {
  const app = document.querySelector("[data-testid='stApp']");
  if (!app) return;
  const s = app.getAttribute('data-test-script-state');
  if (window.__st_last !== s) { window.__st_last = s; window.__st_ev.push([performance.now(), s]); }
}).observe(document, {subtree: true, attributes: true, childList: true});
"""


def script_seconds(events) -> float | None:
    """From the first 'running' to the last 'notRunning' after it (seconds)."""
    start = next((t for t, s in events if s == "running"), None)
    if start is None:
        return None
    ends = [t for t, s in events if s == "notRunning" and t >= start]
    return (ends[-1] - start) / 1000.0 if ends else None


OFFICES = False   # --viewer phong_gd:* : every page URL names the session's district


def office_qs(qs: str) -> str:
    """With --viewer phong_gd:*, each session is the district office of its district (the
    server takes the office from the first URL's ?district=): every page names it."""
    if OFFICES and "district=" not in qs:
        return "&".join(x for x in ("district={d}", qs) if x)
    return qs


def page_url(base: str, path: str, qs: str, d: str, s: str) -> str:
    q = office_qs(qs).format(d=d, s=s)
    return f"{base}/{path}" + (f"?{q}" if q else "")


async def browser_session(browser, base: str, d: str, s: str, timeout: float, delay: float,
                          think: float) -> list[dict]:
    """One user: a browser context (own cookies and HTTP cache) loading the pages in turn,
    each a navigation (new WebSocket session), as when a link is opened."""
    await asyncio.sleep(delay)
    ctx = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    await ctx.add_init_script(STATE_PROBE)
    out = []
    try:
        page = await ctx.new_page()
        for i, (name, path, qs, marker) in enumerate(PAGES):
            if i and think:
                await asyncio.sleep(think)
            url = page_url(base, path, qs, d, s)
            rec = {"page": name, "url": url, "seconds": None, "script_seconds": None, "error": None}
            t0 = time.perf_counter()
            left = lambda: max(1000, int((timeout - (time.perf_counter() - t0)) * 1000))  # noqa: E731
            try:
                await page.goto(url, wait_until="commit", timeout=left())
                # The page's text or an exception box, whichever comes first; then idle.
                await page.locator(f"{EXCEPTION}, :text('{marker}')").first.wait_for(timeout=left())
                await page.wait_for_selector(IDLE, timeout=left())
                rec["seconds"] = time.perf_counter() - t0
                rec["script_seconds"] = script_seconds(await page.evaluate("window.__st_ev || []"))
                if await page.locator(EXCEPTION).count():
                    rec["error"] = "exception: " + (await page.locator(EXCEPTION).first.inner_text())[:300]
            except Exception as e:  # noqa: BLE001 - a timeout or a broken page is a counted error
                rec["seconds"] = time.perf_counter() - t0
                rec["error"] = f"{type(e).__name__}: {str(e).splitlines()[0][:200]}"
            out.append(rec)
    finally:
        await ctx.close()
    return out


# ---- protocol client ---------------------------------------------------------------------------
def _get(url: str, timeout: float, headers: dict | None = None) -> None:
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=timeout) as r:
        r.read()


async def protocol_page(base: str, path: str, qs: str, marker: str, timeout: float,
                        route: str | None = None) -> dict:
    """One page load as the browser does it, without rendering: GET the HTML, open
    /_stcore/stream, ask for a run of the page (url path + query string), read ForwardMsgs
    until the run finishes. ``route``: the session's sticky cookie (through nginx)."""
    import websockets
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    rec = {"page": None, "url": f"{base}/{path}?{qs}", "seconds": None, "script_seconds": None,
           "error": None, "bytes": 0}
    t0 = time.perf_counter()
    needle = marker.encode("utf-8")
    try:
        async with asyncio.timeout(timeout):
            headers = {"Cookie": f"tiendo_route={route}"} if route else {}
            await asyncio.to_thread(_get, f"{base}/{path}" + (f"?{qs}" if qs else ""), timeout, headers)
            uri = base.replace("http://", "ws://") + "/_stcore/stream"
            async with websockets.connect(uri, subprotocols=["streamlit"], max_size=None,
                                          open_timeout=timeout, ping_interval=None,
                                          additional_headers=headers) as ws:
                bm = BackMsg()
                bm.rerun_script.query_string = qs
                bm.rerun_script.page_name = path
                t_run = time.perf_counter()
                await ws.send(bm.SerializeToString())
                seen = False
                while True:
                    raw = await ws.recv()
                    rec["bytes"] += len(raw)
                    fm = ForwardMsg()
                    fm.ParseFromString(raw)
                    kind = fm.WhichOneof("type")
                    if kind == "delta" and fm.delta.WhichOneof("type") == "new_element":
                        el = fm.delta.new_element
                        if el.WhichOneof("type") == "exception":
                            rec["error"] = f"exception: {el.exception.type}: {el.exception.message[:300]}"
                        seen = seen or needle in raw
                    elif kind == "page_not_found":
                        rec["error"] = f"page not found: {path}"
                    elif kind == "script_finished":
                        status = fm.script_finished
                        if status == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                            continue   # st.rerun(): the next run follows on the same socket
                        rec["script_seconds"] = time.perf_counter() - t_run
                        if status not in (ForwardMsg.FINISHED_SUCCESSFULLY,
                                          ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY):
                            rec["error"] = rec["error"] or f"script finished with status {status}"
                        elif not seen and rec["error"] is None:
                            rec["error"] = f"page text {marker!r} not received"
                        break
    except (TimeoutError, asyncio.TimeoutError):
        rec["error"] = f"timeout after {timeout:.0f} s"
    except Exception as e:  # noqa: BLE001 - a refused or broken connection is a counted error
        rec["error"] = f"{type(e).__name__}: {str(e)[:200]}"
    rec["seconds"] = time.perf_counter() - t0
    return rec


async def protocol_session(_unused, base: str, d: str, s: str, timeout: float, delay: float,
                           think: float) -> list[dict]:
    await asyncio.sleep(delay)
    out = []
    route = uuid.uuid4().hex   # one browser: one sticky cookie for all its requests
    for i, (name, path, qs, marker) in enumerate(PAGES):
        if i and think:
            await asyncio.sleep(think)
        rec = await protocol_page(base, path, office_qs(qs).format(d=d, s=s), marker, timeout, route)
        rec["page"] = name
        out.append(rec)
    return out


# ---- runs and figures --------------------------------------------------------------------------
async def run_wave(session_fn, browsers, base: str, pairs, timeout: float, ramp: float,
                   think: float) -> tuple[list[dict], float]:
    n = len(pairs)
    t0 = time.perf_counter()
    tasks = [session_fn(browsers[i % len(browsers)] if browsers else None, base, d, s, timeout,
                        ramp * i / (n - 1) if n > 1 else 0.0, think)
             for i, (d, s) in enumerate(pairs)]
    results = await asyncio.gather(*tasks)
    return [r for sess in results for r in sess], time.perf_counter() - t0


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    v = sorted(values)
    k = (len(v) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def summarise(recs: list[dict]) -> dict:
    ok = [r["seconds"] for r in recs if r["error"] is None]
    srv = [r["script_seconds"] for r in recs if r["error"] is None and r["script_seconds"] is not None]
    by_page = {}
    for name, *_ in PAGES:
        t = [r["seconds"] for r in recs if r["page"] == name and r["error"] is None]
        by_page[name] = {"p50": pct(t, 0.5), "p95": pct(t, 0.95), "max": max(t) if t else None}
    errors = [r for r in recs if r["error"] is not None]
    return {"pages": len(recs), "p50": pct(ok, 0.5), "p95": pct(ok, 0.95), "max": max(ok) if ok else None,
            "script_p50": pct(srv, 0.5), "script_p95": pct(srv, 0.95), "errors": len(errors),
            "error_samples": [f"{r['page']} {r['url']}: {r['error']}" for r in errors[:5]],
            "by_page": by_page}


def fmt_s(x) -> str:
    return "–" if x is None else f"{x:.2f}"


@contextlib.contextmanager
def deployment(args, store: str, n_replicas: int | None, pg=None):
    """(base URL, server pids, proxy pid or None, replica addresses). ``n_replicas`` None: one server addressed
    directly (the load test as before); else nginx in front of that many replicas."""
    log_path = Path(args.log)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = {"TIENDO_VIEWER": args.viewer}
    if pg is not None:
        env["TIENDO_OPS_URL"] = pg.new_database()
    if n_replicas is None:
        with open(log_path, "w") as log, streamlit_server(store, log=log, app_dir=args.app_dir,
                                                          env=env) as (base, proc):
            yield base, [proc.pid], None, []
        return
    from tests.nginx_proxy import nginx_proxy, replicas
    import shutil
    work = Path(tempfile.mkdtemp(prefix="tiendo-lb-"))
    try:
        with replicas(Path(store), env, n_replicas, log_path.parent, app_dir=Path(args.app_dir)) as procs:
            with nginx_proxy([a for a, _ in procs], work / "nginx") as (base, nginx, _):
                yield base, [p.pid for _, p in procs], nginx.pid, [a for a, _ in procs]
    finally:
        shutil.rmtree(work, ignore_errors=True)


async def main_async(args, n_replicas: int | None = None, pg=None) -> dict:
    store = str(Path(args.store).resolve())
    sizes = [int(x) for x in args.sessions.split(",") if x.strip()]
    pairs_all = targets(store, max(sizes))
    session_fn = browser_session if args.client == "browser" else protocol_session
    report = {"store": store, "app_dir": args.app_dir, "viewer": args.viewer, "client": args.client, "cpus": os.cpu_count(),
              "browsers": args.browsers if args.client == "browser" else 0, "ramp_seconds": args.ramp,
              "think_seconds": args.think, "load_average_start": os.getloadavg(), "runs": [],
              "replicas": n_replicas or 1, "via_nginx": n_replicas is not None,
              "ops": "postgresql (throw-away)" if pg is not None else (os.environ.get("TIENDO_OPS_URL") and "TIENDO_OPS_URL" or "ops.sqlite")}
    tag = f"{args.client}" if n_replicas is None else f"{args.client} nginx x{n_replicas}"
    with deployment(args, store, n_replicas, pg) as (base, pids, proxy, addrs):
        mem = MemorySampler(pids).start()
        pw = None
        browsers = []
        try:
            report["rss_started_mb"] = rss_all(pids)
            if args.client == "browser":
                from playwright.async_api import async_playwright
                pw = await async_playwright().start()
                browsers = [await launch_chromium(pw) for _ in range(max(1, args.browsers))]
            # Cold start: the first session builds the newest snapshot's evaluation.
            recs, wall = await run_wave(session_fn, browsers, base, pairs_all[:1], args.cold_timeout, 0, 0)
            report["cold_start"] = {"wall_seconds": wall, **summarise(recs)}
            print(f"[{tag}] cold start (first session after the server started): {wall:.1f} s, "
                  f"errors {report['cold_start']['errors']}", flush=True)
            for e in report["cold_start"]["error_samples"]:
                print(f"        error {e}", flush=True)
            # Every replica pays its own cold start: warm each one directly (protocol client), so
            # that the runs compare warm servers, not one warm and one building its evaluation.
            warm_errors = 0
            for addr in addrs if len(addrs) > 1 else []:
                recs = await protocol_session(None, "http://" + addr, *pairs_all[0], args.cold_timeout, 0, 0)
                warm_errors += sum(r["error"] is not None for r in recs)
            report["warm_replicas_errors"] = warm_errors
            if warm_errors:
                print(f"[{tag}] warming the other replicas: {warm_errors} errors", flush=True)
            await asyncio.sleep(args.settle)
            report["rss_warm_baseline_mb"] = rss_all(pids)
            proxy_pids = ([proxy] + children(proxy)) if proxy else []
            for n in sizes:
                before, la0, cpu0 = rss_all(pids), os.getloadavg(), cpu_all(pids)
                per0, px0 = [cpu_seconds(p) for p in pids], cpu_all(proxy_pids)
                client0 = time.process_time()
                mem.reset()
                recs, wall = await run_wave(session_fn, browsers, base, pairs_all[:n], args.page_timeout,
                                            args.ramp, args.think)
                peak, server_cpu, after = mem.peak, cpu_all(pids) - cpu0, rss_all(pids)
                per_replica = [round(cpu_seconds(p) - c, 2) for p, c in zip(pids, per0)]
                proxy_cpu = cpu_all(proxy_pids) - px0
                # The clients share the 2 cores with the server: their CPU is part of the picture.
                client_cpu = time.process_time() - client0
                await asyncio.sleep(args.settle)
                run = {"sessions": n, "wall_seconds": wall, **summarise(recs), "server_cpu_seconds": server_cpu,
                       "server_cpu_per_replica": per_replica, "proxy_cpu_seconds": proxy_cpu,
                       "client_cpu_seconds": client_cpu,
                       "rss_before_mb": before, "rss_peak_mb": peak, "rss_after_mb": after,
                       "rss_settled_mb": rss_all(pids), "settle_seconds": args.settle,
                       "load_average_before": la0, "load_average_after": os.getloadavg()}
                report["runs"].append(run)
                print(f"[{tag}] N={n:>3}  pages={run['pages']:>3}  p50={fmt_s(run['p50'])} s  "
                      f"p95={fmt_s(run['p95'])} s  max={fmt_s(run['max'])} s  errors={run['errors']}  "
                      f"(script p50={fmt_s(run['script_p50'])} p95={fmt_s(run['script_p95'])})  "
                      f"RSS MB before/peak/after/+{args.settle:.0f}s = {before:.0f}/{peak:.0f}/{after:.0f}/"
                      f"{run['rss_settled_mb']:.0f}  server CPU {server_cpu:.1f} s {per_replica if n_replicas else ''}  "
                      f"{f'nginx CPU {proxy_cpu:.1f} s  ' if n_replicas else ''}client CPU {client_cpu:.1f} s  "
                      f"wall {wall:.1f} s  "
                      f"load {la0[0]:.2f}->{run['load_average_after'][0]:.2f}", flush=True)
                for name, v in run["by_page"].items():
                    print(f"        {name:<12} p50={fmt_s(v['p50'])}  p95={fmt_s(v['p95'])}  max={fmt_s(v['max'])}",
                          flush=True)
                for e in run["error_samples"]:
                    print(f"        error {e}", flush=True)
        finally:
            for b in browsers:
                await b.close()
            if pw is not None:
                await pw.stop()
            mem.stop()
        report["rss_end_mb"] = rss_all(pids)
    report["load_average_end"] = os.getloadavg()
    return report


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", required=True)
    ap.add_argument("--sessions", default="1,10,30", help="N values, comma separated")
    ap.add_argument("--client", choices=("browser", "protocol"), default="browser")
    ap.add_argument("--browsers", type=int, default=2, help="Chromium processes sharing the contexts")
    ap.add_argument("--page-timeout", type=float, default=60.0, help="seconds per page")
    ap.add_argument("--cold-timeout", type=float, default=900.0, help="seconds for a page of the first session")
    ap.add_argument("--ramp", type=float, default=0.0, help="spread the session starts over this many seconds")
    ap.add_argument("--think", type=float, default=0.0, help="seconds between a session's pages")
    ap.add_argument("--settle", type=float, default=15.0, help="seconds before the 'after' memory")
    ap.add_argument("--json", help="write the report here")
    ap.add_argument("--app-dir", default=str(ROOT), help="project folder whose dashboard.py is served "
                    "(e.g. an exported commit, to measure a fixed version)")
    ap.add_argument("--viewer", default="quan_tri", help="TIENDO_VIEWER of the server (sessions skip "
                    "login as this role: quan_tri, phong_gd:760, ...; phong_gd:* = each session "
                    "the district office of its own district, as on a deadline morning)")
    ap.add_argument("--log", default=str(ROOT / "test-artifacts" / "load_test_streamlit.log"))
    ap.add_argument("--via-nginx", action="store_true", help="through nginx (deploy/nginx/tiendo.conf) "
                    "in front of --replicas serve.py processes")
    ap.add_argument("--replicas", default="1", help="with --via-nginx: replica counts to run one after "
                    "the other in this command, comma separated (1,2: 1 then 2, reported side by side)")
    ap.add_argument("--pg", action="store_true", help="a throw-away PostgreSQL as TIENDO_OPS_URL "
                    "(a fresh database per deployment; needs Debian's postgresql)")
    args = ap.parse_args(argv)
    counts = [int(x) for x in args.replicas.split(",") if x.strip()]
    if not args.via_nginx and counts != [1]:
        raise SystemExit("--replicas needs --via-nginx (several replicas are reached through the proxy)")
    global OFFICES
    OFFICES = args.viewer == "phong_gd:*"
    if args.client == "browser" and not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} is missing (apt-get install chromium)")
    if args.via_nginx:
        return compare(args, counts)
    report = asyncio.run(main_async(args))
    la = report["load_average_start"]
    print(f"load average (1, 5, 15 min) at start {la[0]:.2f} {la[1]:.2f} {la[2]:.2f}, at end "
          f"{report['load_average_end'][0]:.2f}; {report['cpus']} CPUs (other work may share them)")
    print(f"RSS MB: started {report['rss_started_mb']:.0f}, warm baseline {report['rss_warm_baseline_mb']:.0f}, "
          f"end {report['rss_end_mb']:.0f}")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")
    return 1 if any(r["errors"] for r in report["runs"]) or report["cold_start"]["errors"] else 0


def compare(args, counts: list[int]) -> int:
    """The same sessions through nginx for each replica count, one after the other; a table."""
    pg_ctx = contextlib.nullcontext(None)
    if args.pg:
        pg_ctx = _pg_server()
    reports = []
    with pg_ctx as pg:
        for n in counts:
            reports.append(asyncio.run(main_async(args, n, pg)))
    print(f"\nthrough nginx, {args.client} client, {reports[0]['cpus']} CPUs, ops store {reports[0]['ops']}:")
    print(f"{'replicas':>8} {'N':>4} {'pages':>5} {'p50 s':>6} {'p95 s':>6} {'max s':>6} {'errors':>6} "
          f"{'server CPU s':>12} {'per replica':>16} {'nginx CPU s':>11} {'wall s':>6} {'load':>5}")
    for rep_ in reports:
        for r in rep_["runs"]:
            print(f"{rep_['replicas']:>8} {r['sessions']:>4} {r['pages']:>5} {fmt_s(r['p50']):>6} {fmt_s(r['p95']):>6} "
                  f"{fmt_s(r['max']):>6} {r['errors']:>6} {r['server_cpu_seconds']:>12.1f} "
                  f"{str(r['server_cpu_per_replica']):>16} {r['proxy_cpu_seconds']:>11.1f} {r['wall_seconds']:>6.1f} "
                  f"{r['load_average_after'][0]:>5.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps(reports, indent=2, default=str), encoding="utf-8")
    return 1 if any(r["errors"] for rep_ in reports for r in rep_["runs"]) or \
        any(rep_["cold_start"]["errors"] for rep_ in reports) else 0


@contextlib.contextmanager
def _pg_server():
    import shutil
    from tests.pg_server import PgServer
    root = Path(tempfile.mkdtemp(prefix="tiendo-pg-"))
    server = PgServer(root).start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
