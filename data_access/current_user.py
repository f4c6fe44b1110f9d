"""Who is using the dashboard, as a ``Viewer``: the one place the pages ask.

Why a module of its own: ``st.user`` cannot be faked in AppTest, and login (issue 6) will sit
behind this function. Tests replace the viewer with ``set_viewer(...)`` (or by monkeypatching
``current_viewer``); until login exists everyone is the demo administrator.
"""
from __future__ import annotations

import os

from .access import Viewer

DEMO_VIEWER = Viewer("demo", "quan_tri", display_name="Quản trị (bản trình diễn)")
_override: Viewer | None = None


def set_viewer(viewer: Viewer | None) -> None:
    """Replace the current viewer (tests); None restores the default."""
    global _override
    _override = viewer


def current_viewer() -> Viewer:
    if _override is not None:
        return _override
    # A district or school view for demos and tests run in a subprocess:
    # TIENDO_VIEWER="phong_gd:760" or "truong:79760001".
    spec = os.environ.get("TIENDO_VIEWER", "").strip()
    if spec:
        role, _, scope = spec.partition(":")
        if role == "phong_gd":
            return Viewer("demo_" + scope, role, district_code=scope)
        if role == "truong":
            return Viewer("demo_" + scope, role, school_code=scope)
        return Viewer("demo", role)
    return DEMO_VIEWER
