"""Start the dashboard: ``python serve.py [streamlit options]`` = ``streamlit run dashboard.py``
with one correction made before the first browser session.

Why: the project keeps its page scripts in ``pages/`` and routes them with st.navigation.
Streamlit 1.67 still treats a ``pages/`` folder beside the main script as the old automatic
multipage app until the first st.navigation call of the process; so the very first session
after a server start that opens a pasted link (``/truong?school=79785017``) got Streamlit's
English "Page not found — Running the app's main page" dialog over the login form (the old
listing knows ``institution``, not the url path ``truong``). Saying "no pages folder routing"
before any session exists removes that; st.navigation then resolves every url path itself
(issue 13, "a pasted link before login")."""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.web import cli

    PagesManager.uses_pages_directory = False   # st.navigation routes (dashboard.py)
    sys.argv = ["streamlit", "run", str(ROOT / "dashboard.py"), *argv]
    return cli.main()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
