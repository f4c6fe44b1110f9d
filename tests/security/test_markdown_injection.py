"""Issue 13, finding 3: a value that comes from a URL, an import or a user is shown as text,
never interpreted as Markdown.

Streamlit renders Markdown in st.markdown, st.caption, st.title/header/subheader, the alerts
(st.warning/error/info/success), metric labels and values, expander and tab labels, widget
and page-link labels and every cell of st.table: a school name ``[Phiên đã hết hạn…](https://…)``
became a link to an outside site, ``![](https://…)`` loaded a tracking image. These tests put
hostile values in every channel (?district=, ?school=, imported school names, principals,
e-mails and student names, follow-up notes, typed codes and searches, account names) and walk
every element a page emits: no Markdown-rendering element may hold the raw syntax (a link
``](``, an image ``![``, HTML ``<img``, ``**``, ``:red[``, ``$…$``, a bare ``https://`` URL),
and the value must still be shown (read back as CommonMark reads backslash escapes).
Selectbox options, st.dataframe cells, st.code and st.text render text as it is and are not
Markdown: they are not checked for syntax. Plotly reads a few HTML tags in labels, hover texts
and axis ticks (``<a href>`` is a clickable link): imported names there are checked too.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from data_access import accounts, ops
from data_access.access import Viewer
from data_access.current_user import set_viewer
from tests.snapshot_factory import school, student, write_store
from tests.markdown_text import shown

ROOT = Path(__file__).resolve().parents[2]

LINK = "[Phiên đã hết hạn, bấm để đăng nhập lại](https://evil.example/login)"
IMAGE = "![](https://evil.example/t.png)"
HTML = "<img src=https://evil.example/x>"
ANCHOR = '<a href="https://evil.example/p">bấm</a>'   # plotly reads this tag in labels and ticks
HOSTILE = f"{LINK} {IMAGE} {HTML} **đậm** :red[x] $x^2$ https://evil.example/bare"
# A username may not hold spaces (data_access.accounts.add).
HOSTILE_WORD = "[Phiên](https://evil.example/login)![](https://evil.example/t.png)**đậm**:red[x]$x^2$"

# Markdown syntax as it would be interpreted: not preceded by a backslash (CommonMark's escape).
RAW = {
    "link": re.compile(r"(?<!\\)\]\(https"),
    "image": re.compile(r"(?<!\\)!\[\]"),
    "html": re.compile(r"(?<!\\)<img src"),
    "anchor": re.compile(r"(?<!\\)<a href"),
    "bold": re.compile(r"(?<!\\)\*\*đậm"),
    "color": re.compile(r"(?<!\\):red\[x"),
    "latex": re.compile(r"(?<!\\)\$x\^2"),
    # GFM turns any contiguous http(s):// into a link, whatever backslashes are around it.
    "bare_url": re.compile(r"https?://evil"),
}
MD_TYPES = {"markdown", "caption", "title", "header", "subheader", "error", "warning", "info",
            "success", "toast", "page_link"}
SCHOOL_A, SCHOOL_B, DISTRICT = "79760001", "79760002", "760"


_unescape = shown


def _walk(node):
    yield node
    for ch in getattr(node, "children", {}).values():
        yield from _walk(ch)


def markdown_texts(at: AppTest) -> list[tuple[str, str]]:
    """(element kind, text) of every Markdown-rendering string on the page (main and sidebar)."""
    out = []
    for node in _walk(at._tree):
        ty = getattr(node, "type", "")
        if ty in MD_TYPES:
            out.append((ty, node.value))
        elif ty == "metric":
            out += [("metric.label", node.label), ("metric.value", node.value), ("metric.delta", node.delta or "")]
        elif ty in ("expander", "tab"):
            out.append((f"{ty}.label", node.label))
        elif ty == "table":
            df = node.value
            out += [("table.header", str(c)) for c in df.columns]
            out += [("table.cell", str(v)) for v in df.astype(str).to_numpy().ravel()]
        elif ty == "progress":
            out.append(("progress", node.proto.text))
        else:
            label = getattr(getattr(node, "proto", None), "label", None)
            if isinstance(label, str):
                out.append((f"{ty}.label", label))
        help_ = getattr(getattr(node, "proto", None), "help", None)
        if isinstance(help_, str) and help_:
            out.append((f"{ty}.help", help_))
    return out


def assert_shown_as_text(at: AppTest, value: str, where: set[str] | None = None) -> None:
    """No Markdown element holds raw syntax, and ``value`` is shown (unescaped) in one of them
    (of a kind in ``where``, if given)."""
    assert not at.exception, [e.message for e in at.exception]
    texts = markdown_texts(at)
    leaks = [(kind, name, t) for kind, t in texts for name, rx in RAW.items() if rx.search(t)]
    assert not leaks, leaks
    shown = [kind for kind, t in texts if value in _unescape(t)]
    assert shown, f"the value is not shown in any Markdown element: {texts}"
    if where is not None:
        assert set(shown) & where, (shown, where)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """Two schools of district 760 with hostile names and contact fields; their grade-12
    students (no scores, so both schools lag) have hostile names and addresses."""
    root = tmp_path_factory.mktemp("mdinj") / "store"
    schools = [school(SCHOOL_A, "THPT", DISTRICT, school_name="Trường " + HOSTILE, principal=HOSTILE,
                      email=HOSTILE, phone=HOSTILE),
               school(SCHOOL_B, "THPT", DISTRICT, school_name=f"{HOSTILE} {ANCHOR} B", principal=HOSTILE,
                      email="ht@evil.example", phone="0283 000 000")]
    students = [student("HS001", SCHOOL_A, full_name=HOSTILE, permanent_address=HOSTILE),
                student("HS002", SCHOOL_B, full_name=HOSTILE)]
    write_store(root, [("2022-04-27T17:00:00+07:00", {"schools": schools, "students": students})])
    return root


ADMIN = Viewer("quantri", "quan_tri")
KHTC = Viewer("khtc", "khtc")
PGD = Viewer("pgd760", "phong_gd", district_code=DISTRICT)
TRUONG = Viewer("t1", "truong", school_code=SCHOOL_A)


@pytest.fixture
def run(store, monkeypatch):
    monkeypatch.setenv("TIENDO_STORE", str(store))
    monkeypatch.setattr(accounts, "store_is_sample", lambda _store: False)

    def _run(viewer: Viewer, page: str | None, **params) -> AppTest:
        set_viewer(viewer)
        at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=90)
        at.run()
        if page:
            at.switch_page(page)
        at.query_params.update(params)
        at.run()
        assert not at.exception, [e.message for e in at.exception]
        return at

    yield _run
    set_viewer(None)


PAGES_WITH_FILTERS = ["pages/overview.py", "pages/districts.py", "pages/institution.py", "pages/reports.py",
                      "pages/data_quality.py", "pages/laggards.py", "pages/paper_register.py",
                      "pages/downloads.py", "pages/accounts.py", "pages/audit_log.py"]


@pytest.mark.parametrize("page", PAGES_WITH_FILTERS, ids=lambda p: Path(p).stem)
def test_district_query_param_is_text_in_the_refusal(run, page):
    at = run(ADMIN, page, district=HOSTILE)
    assert_shown_as_text(at, HOSTILE, {"warning"})


@pytest.mark.parametrize("viewer", [ADMIN, PGD], ids=lambda v: v.role)
def test_school_query_param_is_text_in_the_warning(run, viewer):
    at = run(viewer, "pages/institution.py", school=HOSTILE)
    assert_shown_as_text(at, HOSTILE, {"warning"})


def test_school_account_with_a_hostile_school_query_param(run):
    # A school account always sees its own school (whose imported name is hostile here); the
    # URL's ?school= is not shown to it at all.
    at = run(TRUONG, "pages/institution.py", school=HOSTILE)
    assert_shown_as_text(at, "Trường " + HOSTILE, {"subheader"})


def test_imported_school_name_principal_email_on_the_school_page(run):
    at = run(ADMIN, "pages/institution.py", school=SCHOOL_A)
    assert_shown_as_text(at, "Trường " + HOSTILE, {"subheader"})
    caption = next(t for k, t in markdown_texts(at) if k == "caption" and "Hiệu trưởng" in t)
    assert _unescape(caption).count(HOSTILE) == 3      # principal, phone and e-mail
    assert f"Hiệu trưởng: {HOSTILE}" in _unescape(caption)


def test_imported_school_names_in_page_links(run):
    at = run(ADMIN, "pages/districts.py", district=DISTRICT)
    assert_shown_as_text(at, HOSTILE, {"page_link"})
    at = run(ADMIN, "pages/overview.py")
    assert_shown_as_text(at, HOSTILE, {"page_link"})


def test_student_name_and_address_in_the_personal_record_table(run):
    at = run(KHTC, "pages/institution.py", school=SCHOOL_A)
    at.selectbox(key="pii_student").set_value("HS001").run()
    at.button(key="pii_open").click().run()
    assert at.table, "the record is shown"
    assert_shown_as_text(at, HOSTILE, {"table.cell"})


def test_typed_search_is_text_in_the_not_found_message(run):
    at = run(ADMIN, "pages/institution.py")
    at.text_input(key="school_search").input("zz " + HOSTILE).run()
    assert_shown_as_text(at, "zz " + HOSTILE, {"info"})


def test_laggards_contacts_reminder_and_follow_up(run, store):
    at = run(KHTC, "pages/laggards.py")
    at.selectbox(key="fu_school").set_value(SCHOOL_A).run()
    texts = markdown_texts(at)
    assert any(k == "caption" and f"Hiệu trưởng: {HOSTILE}" in _unescape(t) for k, t in texts)
    at.multiselect(key="rem_schools").set_value([SCHOOL_A]).run()
    assert_shown_as_text(at, HOSTILE)
    # A follow-up with a hostile note and contact: the note is shown in the log's table as it
    # was typed; the confirmation names the imported school as text.
    at.text_input(key="fu_person").input(HOSTILE)
    at.text_area(key="fu_note").input(HOSTILE)
    next(b for b in at.button if b.label == "Lưu liên hệ").click().run()
    assert_shown_as_text(at, HOSTILE, {"success"})
    logs = [d.value for d in at.dataframe if "note" in d.value.columns]
    assert logs and HOSTILE in set(logs[0]["note"]) and HOSTILE in set(logs[0]["contact_person"])


def test_typed_school_code_in_the_paper_register_refusal(run):
    at = run(KHTC, "pages/paper_register.py")
    at.text_input(key="pr_school").input(HOSTILE)
    next(b for b in at.button if b.label == "Lưu vào sổ").click().run()
    assert_shown_as_text(at, HOSTILE, {"error"})


def test_typed_school_code_in_the_download_refusal(run):
    at = run(KHTC, "pages/downloads.py")
    at.radio(key="dl_kind").set_value("school").run()
    at.text_input(key="dl_school").input(HOSTILE).run()
    at.button(key="dl_build").click().run()
    assert_shown_as_text(at, HOSTILE, {"error"})


def test_new_account_name_in_the_password_notice(run):
    at = run(ADMIN, "pages/accounts.py")
    at.text_input(key="acc_username").input(HOSTILE_WORD)
    at.text_input(key="acc_name").input(HOSTILE)
    next(b for b in at.button if b.label == "Tạo tài khoản").click().run()
    assert_shown_as_text(at, HOSTILE_WORD, {"success"})


def test_display_name_in_the_sidebar_account_box(run, monkeypatch):
    import auth_ui
    # The sidebar box is drawn for logged-in accounts only (the test override skips login).
    monkeypatch.setattr(auth_ui, "bypass_viewer", lambda: None)
    at = run(Viewer("kh2", "khtc", display_name=HOSTILE), "pages/overview.py")
    assert_shown_as_text(at, HOSTILE, {"markdown"})


def _strings(x):
    if isinstance(x, str):
        yield x
    elif isinstance(x, dict):
        for v in x.values():
            yield from _strings(v)
    elif isinstance(x, list):
        for v in x:
            yield from _strings(v)


def test_imported_school_names_on_the_heatmap_axis(run):
    import json
    at = run(ADMIN, "pages/districts.py", district=DISTRICT)
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    strings = [s for spec in charts for s in _strings(spec.get("data", []))]
    assert not [s for s in strings if "<a href" in s or "<img" in s], "a tag plotly would read"
    # Shown as the characters themselves (plotly turns &lt; &gt; back into < >).
    assert any("&lt;a href=\"https://evil.example/p\"&gt;bấm&lt;/a&gt; B" in s for s in strings)


# ---- the helper itself (hand-written expected values) ----------------------------------------
WJ = "\u2060"


@pytest.mark.parametrize("value,want", [
    ("Trường THPT Lê Hồng Phong", "Trường THPT Lê Hồng Phong"),          # letters stay as they are
    ("[bấm](https://e.vn/l)", r"\[bấm\]\(https\:" + WJ + r"\/\/e\.vn\/l\)"),
    ("![](u)", r"\!\[\]\(u\)"),
    ("<img src=x>", r"\<img src\=x\>"),
    ("**đậm** _x_ `c`", r"\*\*đậm\*\* \_x\_ \`c\`"),
    (":red[x] $x^2$", r"\:" + WJ + r"red\[x\] \$x\^2\$"),
    ("www.e.vn", "www" + WJ + r"\.e\.vn"),
    ("dòng 1\n# dòng 2\r\n\n- 3", r"dòng 1 \# dòng 2 \- 3"),
    ("a\\b & c", r"a\\b \& c"),
    (None, ""),
    (float("nan"), ""),
])
def test_md_escapes_markdown(value, want):
    from data_access import formatting as fmt
    assert fmt.md(value) == want


def test_plotly_text_escapes_its_tags():
    from data_access import formatting as fmt
    assert fmt.plotly_text('<a href="x">b</a> & c') == '&lt;a href="x"&gt;b&lt;/a&gt; &amp; c'


def test_no_page_allows_html():
    """unsafe_allow_html and st.html would render a value's HTML: no page or UI module uses them."""
    files = [ROOT / "dashboard.py", ROOT / "app_state.py", ROOT / "auth_ui.py", *sorted((ROOT / "pages").glob("*.py"))]
    bad = [f.name for f in files if re.search(r"unsafe_allow_html\s*=\s*True|st\.html\(", f.read_text(encoding="utf-8"))]
    assert not bad, bad


# ---- issue 15: the completeness page ------------------------------------------------------------
@pytest.mark.parametrize("viewer", [ADMIN, PGD], ids=lambda v: v.role)
def test_completeness_page_school_param_and_imported_names_are_text(run, viewer):
    import json
    at = run(viewer, "pages/completeness.py", school=HOSTILE)
    assert_shown_as_text(at, HOSTILE, {"warning"})           # the refused ?school= value
    at = run(viewer, "pages/completeness.py", school=SCHOOL_B)
    assert_shown_as_text(at, f"{HOSTILE} {ANCHOR} B", {"markdown"})   # the drilled-into school's name
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    strings = [s for spec in charts for s in _strings(spec.get("data", []))]
    assert not [s for s in strings if "<a href" in s or "<img" in s], "a tag plotly would read"
    assert any("&lt;a href=\"https://evil.example/p\"&gt;bấm&lt;/a&gt; B" in s for s in strings)
