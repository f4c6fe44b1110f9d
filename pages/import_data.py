"""Nhập dữ liệu — the administrator uploads an extract (.zip, or CSV/XLSX files with an optional
manifest), checks it (the importer's refusal, or a preview of what changes compared with the
newest snapshot), imports it on confirmation, and hides/unhides a wrong snapshot.

Self-contained (it does not need app_state's context): the viewer comes from
data_access.current_user and the store from data_access.queries.store_path(). The long steps
run in a background thread of data_access.imports and this page polls it (st.fragment with
run_every), so other users' pages keep being served during an import.
"""
import datetime as dt

import pandas as pd
import streamlit as st

from data_access import current_user, imports, queries
from data_access import formatting as fmt
from data_access.store import TZ, Store

st.title("Nhập dữ liệu", help="Tải lên một bản trích xuất từ Hệ thống CSDL HCM, kiểm tra, xem trước thay đổi "
                              "rồi nhập; ẩn một snapshot sai.")
viewer = current_user.current_viewer()
if viewer is None or viewer.role != imports.ADMIN_ROLE:
    st.error("Chỉ tài khoản Quản trị được dùng trang Nhập dữ liệu.", icon=":material/block:")
    st.stop()

store = Store(queries.store_path())
ss = st.session_state
ss.setdefault("imp_gen", 0)
K_UPLOAD, K_SIG, K_JOB, K_SEEN, K_VAL, K_RESULT, K_ERR = (
    "imp_upload", "imp_sig", "imp_job", "imp_seen", "imp_validation", "imp_result", "imp_error")


def _refresh_snapshot_lists(everything: bool = False) -> None:
    """The new or hidden snapshot shows at once in this process (other processes: within the
    snapshot list's cache time). Hiding changes every page's history: clear all cached data."""
    if everything:
        st.cache_data.clear()
        return
    try:
        import app_state
        app_state._snapshots.clear()
    except Exception:  # noqa: BLE001 - the page runs without the dashboard's state too
        pass


def _reset_upload() -> None:
    imports.discard(ss.pop(K_UPLOAD, None))
    ss.pop(K_VAL, None)
    ss.pop(K_ERR, None)


job = imports.get_job(ss.get(K_JOB))
busy = job is not None and job.running

# ---- 1. upload --------------------------------------------------------------------------------
st.subheader("1. Tải lên bản trích xuất")
result = ss.pop(K_RESULT, None)
if result is not None:
    st.success(imports.describe_result(result), icon=":material/check_circle:")

files = st.file_uploader(
    "Tệp .zip của bản trích xuất (danh sách học sinh mỗi lớp một tệp: thư mục hoc_sinh/ trong .zip), hoặc "
    "các tệp CSV/bảng tính .xlsx, .xls, .ods (truong, hoc_sinh, diem_mon_hoc, tong_ket, bao_cao, ban_giay…) "
    "kèm manifest.toml nếu có", type=imports.UPLOAD_TYPES, accept_multiple_files=True,
    key=f"imp_files_{ss['imp_gen']}", disabled=busy)
sig = tuple((f.file_id, f.name, f.size) for f in files or [])
if sig != ss.get(K_SIG) and not busy:
    _reset_upload()
    ss[K_SIG] = sig
    if files:
        try:
            ss[K_UPLOAD] = imports.save_upload(store, viewer, [(f.name, f) for f in files])
        except imports.ImportRefused as e:
            ss[K_ERR] = str(e)

up: imports.Upload | None = ss.get(K_UPLOAD)
if ss.get(K_ERR) and not busy:
    # Messages of the importer quote names and values of the uploaded files: shown as text.
    st.error(fmt.md(ss[K_ERR]), icon=":material/error:")

as_of = None
school = ""
if up is not None:
    m = up.manifest_as_of
    c1, c2, c3 = st.columns([1, 1, 2])
    day = c1.date_input("Thời điểm dữ liệu — ngày", value=m.date() if m else None, format="DD/MM/YYYY",
                        key=f"imp_day_{up.id}", disabled=busy)
    clock = c2.time_input("Giờ", value=m.time().replace(tzinfo=None) if m else dt.time(17, 0), step=60,
                          key=f"imp_time_{up.id}", disabled=busy)
    if m is not None:
        c3.caption(f"Theo manifest.toml: **{m.strftime('%d/%m/%Y %H:%M:%S')}**"
                   + (f" · nguồn: {fmt.md(up.manifest_source)}" if up.manifest_source else "")
                   + ". Sửa ngày giờ nếu manifest sai.")
    else:
        c3.caption("Bản trích xuất không có manifest.toml: hãy nhập ngày giờ xuất dữ liệu (giờ Việt Nam).")
    if day is not None:
        typed = dt.datetime.combine(day, clock).replace(tzinfo=TZ)
        same_as_manifest = m is not None and typed == m.replace(second=0)
        as_of = None if same_as_manifest else typed
    st.caption(f"{len(up.names)} tệp: {fmt.md(', '.join(up.names))}")
    # A student list exported without a school-code column (per class, per school) and without a
    # "Mã trường: …" title cell or a school-code folder: the administrator says which school.
    choices = imports.school_choices(store)
    school = st.selectbox(
        "Trường của danh sách học sinh (chỉ khi tệp không có cột, ô tiêu đề hay thư mục Mã trường)",
        [""] + [c for c, _ in choices], index=0, key=f"imp_school_{up.id}", disabled=busy,
        format_func=lambda c: "— không chọn —" if c == "" else f"{c} · {dict(choices).get(c, '')}",
        accept_new_options=True)

b1, b2, _ = st.columns([1, 1.5, 3.5])
if b1.button("Kiểm tra", type="secondary", icon=":material/fact_check:", disabled=up is None or busy,
             key="imp_check"):
    ss.pop(K_VAL, None)
    ss[K_JOB] = imports.start_validation(store, viewer, up, as_of, school or None).id
    st.rerun()
if up is not None and b2.button("Hủy tệp đã tải", icon=":material/delete:", disabled=busy, key="imp_cancel"):
    _reset_upload()
    ss["imp_gen"] += 1
    ss.pop(K_SIG, None)
    st.rerun()


@st.fragment(run_every=1.0 if busy else None)
def job_status():
    j = imports.get_job(ss.get(K_JOB))
    if j is None:
        return
    if j.running:
        what = "Đang kiểm tra" if j.kind == "validate" else "Đang nhập"
        st.progress(j.fraction, text=f"{what} ({fmt.percent(100 * j.fraction, 0)}): {fmt.md(j.message)}")
        st.caption("Có thể mở trang khác trong lúc chờ; người dùng khác vẫn xem bảng theo dõi bình thường.")
        return
    if ss.get(K_SEEN) == j.id:
        return
    ss[K_SEEN] = j.id
    if j.status == "failed":
        ss[K_ERR] = j.error
    elif j.kind == "validate":
        ss[K_VAL] = j.result
    else:
        ss[K_RESULT] = j.result
        ss.pop(K_VAL, None)
        ss.pop(K_UPLOAD, None)      # published: its folder is gone
        ss.pop(K_SIG, None)
        ss["imp_gen"] += 1          # a fresh uploader
        _refresh_snapshot_lists()
    st.rerun(scope="app")


job_status()


def _num(x) -> str:
    return fmt.number(x) if x is not None and x == x else "–"


def _delta(x) -> str:
    if x is None or x != x:
        return ""
    return ("+" if x > 0 else ("−" if x < 0 else "±")) + fmt.number(abs(x))


v: imports.Validation | None = ss.get(K_VAL)
if v is not None and not busy and (up is None or v.upload.id == up.id):
    if not v.ok:
        st.error("**Bản trích xuất bị từ chối — chưa nhập gì.**", icon=":material/block:")
        for msg in v.errors:
            st.error(fmt.md(msg))
        if v.error_at and any(v.error_at):
            f, r, c = v.error_at
            st.caption("Vị trí: " + " · ".join(fmt.md(x) for x in (f and f"tệp {f}", r and f"dòng {r}",
                                                                      c and f"cột «{c}»") if x))
    elif v.already:
        where = ("đang bị ẩn: hãy hiện lại ở bảng «Các snapshot đã nhập» bên dưới nếu cần"
                 if v.already == "hidden" else "không cần nhập lại")
        st.info(f"Bản trích xuất này đã được nhập trước đây (snapshot {v.snapshot_id}, thời điểm dữ liệu "
                f"{fmt.date_time(v.as_of)}); {where}.", icon=":material/content_copy:")
    else:
        p = v.preview
        st.subheader("2. Xem trước thay đổi")
        cur = (f"snapshot hiện tại {fmt.date_time(p.current_as_of)}" if p.current_id
               else "kho chưa có snapshot nào")
        st.caption(f"So sánh {cur} với bản mới {fmt.date_time(p.new_as_of)} (snapshot {p.new_id}). "
                   f"Kiểm tra trong {fmt.number(v.seconds, 1)} giây.")
        if v.notes:
            # Values Excel changed (codes in scientific notation, date serials, lost leading
            # zeros): imported as they are, shown here so the sender can fix the export.
            with st.expander(f"Lưu ý khi đọc tệp ({fmt.number(len(v.notes))})", expanded=True,
                             icon=":material/warning:"):
                st.markdown("\n".join(f"- {fmt.md(n)}" for n in v.notes[:50]))
                if len(v.notes) > 50:
                    st.caption(f"… và {fmt.number(len(v.notes) - 50)} lưu ý khác.")
        for u in v.unchecked:
            # an optional file missing: a rule is "not observed" at this snapshot (fix12d)
            st.info(fmt.md(u), icon=":material/visibility_off:")
        if not p.becomes_newest:
            st.warning("Bản mới có thời điểm dữ liệu **trước** snapshot mới nhất: sau khi nhập, nó là một điểm "
                       "trong lịch sử; số liệu mới nhất của bảng theo dõi không đổi.", icon=":material/history:")
        s = p.summary.copy()
        st.dataframe(pd.DataFrame({"Chỉ tiêu": s["label"], "Hiện tại": s["before"].map(_num),
                                   "Sau khi nhập": s["after"].map(_num), "Thay đổi": s["change"].map(_delta)}),
                     hide_index=True, width="stretch")
        fnd = p.findings
        st.markdown("**Lỗi dữ liệu theo mức độ**")
        st.dataframe(pd.DataFrame({"Mức độ": fnd["label"], "Hiện tại": fnd["before"].map(_num),
                                   "Sau khi nhập": fnd["after"].map(_num),
                                   "Thay đổi": fnd["change"].map(_delta)}), hide_index=True, width="stretch")
        pr = p.progress
        st.markdown("**Tiến độ toàn thành phố theo yêu cầu** (tỉ lệ đơn vị hoàn thành)")
        st.dataframe(pd.DataFrame({
            "Yêu cầu": pr["name"], "Hạn": pr["due"].map(fmt.date_time),
            "Hoàn thành — hiện tại": pr["completion_before"].map(fmt.percent),
            "Sau khi nhập": pr["completion_after"].map(fmt.percent),
            "Thay đổi": pr["completion_change"].map(fmt.signed_points),
            "Đúng hạn — hiện tại": pr["on_time_before"].map(fmt.percent),
            "Đúng hạn — sau": pr["on_time_after"].map(fmt.percent)}), hide_index=True, width="stretch")
        cols = {"school_code": "Mã trường", "school_name": "Tên trường", "district_code": "Mã quận/huyện"}
        if not p.added_schools.empty and p.current_id:
            with st.expander(f"Trường mới ({fmt.number(len(p.added_schools))})"):
                st.dataframe(p.added_schools.rename(columns=cols), hide_index=True, width="stretch")
        if not p.removed_schools.empty:
            with st.expander(f"Trường không còn trong bản mới ({fmt.number(len(p.removed_schools))})"):
                st.dataframe(p.removed_schools.rename(columns=cols), hide_index=True, width="stretch")
        with st.expander("Các tệp đã đọc"):
            st.dataframe(pd.DataFrame(v.files, columns=["Bảng", "Tệp", "Mã hóa", "Số dòng"]),
                         hide_index=True, width="stretch")
        if st.button("Nhập dữ liệu", type="primary", icon=":material/upload:", key="imp_confirm",
                     help="Ghi bản mới vào kho (một snapshot mới); các trang thấy số liệu mới khi tải lại."):
            ss[K_JOB] = imports.start_publish(store, viewer, v).id
            st.rerun()

# ---- the snapshots --------------------------------------------------------------------------
st.subheader("Các snapshot đã nhập")
snaps = imports.snapshot_list(store)
if snaps.empty:
    st.info("Kho chưa có snapshot nào.", icon=":material/database_off:")
else:
    st.dataframe(pd.DataFrame({
        "Thời điểm dữ liệu": snaps["as_of"].map(fmt.date_time),
        "Nhập lúc": snaps["imported_at"].map(fmt.date_time),
        "Người nhập": snaps["imported_by"], "Cách nhập": snaps["via"], "Nguồn": snaps["source"],
        "Số trường": snaps["schools"].map(_num), "Số học sinh": snaps["students"].map(_num),
        "Trạng thái": ["Đang ẩn" if h else ("Mới nhất" if n else "Hiển thị")
                       for h, n in zip(snaps["hidden"], snaps["newest"])],
        "Ẩn bởi": snaps["hidden_by"], "Lý do ẩn": snaps["hidden_reason"],
        "Mã snapshot": snaps["snapshot_id"]}), hide_index=True, width="stretch")

    st.markdown("**Ẩn hoặc hiện lại một snapshot** — snapshot bị ẩn vẫn giữ trong kho nhưng không còn "
                "xuất hiện ở trang nào (kể cả lịch sử).")
    label = {r.snapshot_id: f"{fmt.date_time(r.as_of)} · {r.snapshot_id}" + (" (đang ẩn)" if r.hidden else "")
             for r in snaps.itertuples()}
    h1, h2 = st.columns([2, 3])
    pick = h1.selectbox("Snapshot", list(snaps["snapshot_id"]), format_func=label.get, key="imp_pick")
    hidden = bool(snaps.loc[snaps["snapshot_id"] == pick, "hidden"].iloc[0])
    reason = h2.text_input("Lý do (bắt buộc)", key=f"imp_reason_{pick}",
                           placeholder="ví dụ: xuất thiếu dữ liệu Quận 7, thay bằng bản 18:00")
    if st.button("Hiện lại snapshot" if hidden else "Ẩn snapshot", key="imp_hide",
                 icon=":material/visibility:" if hidden else ":material/visibility_off:"):
        try:
            if hidden:
                imports.unhide_snapshot(store, viewer, pick, reason)
            else:
                imports.hide_snapshot(store, viewer, pick, reason)
            _refresh_snapshot_lists(everything=True)
            st.rerun()
        except imports.ImportRefused as e:
            st.error(fmt.md(e), icon=":material/error:")
