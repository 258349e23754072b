"""Browser-test fixtures: one headless Chromium per session (Playwright), Voila/JupyterLab servers started
and stopped by the tests, console collection and failure artefacts. Reusable by any view's tests:

- ``browser``: the session's Chromium (``/usr/bin/chromium``, or ``$FLOWVIZ_CHROMIUM``), launched with the
  flags of the team's ../shared/FIELD-NOTES.md (headless, no sandbox, no GPU: WebGL2 runs on SwiftShader).
- ``voila``: a module-scoped Voila server on a free 127.0.0.1 port serving a fresh temporary directory
  (``voila.dir``). Write notebooks there (``browser_support.write_notebook``) and open
  ``voila.url("name.ipynb")``: every page load runs the notebook in a new kernel.
- ``jupyterlab``: a module-scoped JupyterLab server (isolated config, no token, ``window.jupyterapp``).
- ``page``: a fresh context and page per test, with ``page.console`` (a ``Console``) collecting console
  messages, page errors and failed requests. If the test fails, a full-page screenshot of every page of
  the context, the console log and the server log tails go to ``test-artifacts/``.

Servers run in their own session (``start_new_session=True``) and are stopped with ``os.killpg`` (their
kernels with them) at module end and, whatever happened, at session end.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Without Playwright or Chromium the browser tests fail, not skip: a run that skipped them all would pass
# without having looked at a single page (the README's test command installs both). FLOWVIZ_SKIP_BROWSER=1
# skips them on purpose.
if os.environ.get("FLOWVIZ_SKIP_BROWSER") == "1":
    pytest.skip("FLOWVIZ_SKIP_BROWSER=1: browser tests skipped on purpose", allow_module_level=True)
try:
    from playwright import sync_api
except ImportError as err:  # pragma: no cover - the README's test command installs it
    raise RuntimeError("the browser tests need Playwright (pip install -e '.[test]'), or FLOWVIZ_SKIP_BROWSER=1 "
                       "to skip them on purpose") from err

from browser_support import (  # noqa: E402 (after the Playwright check)
    CHROMIUM,
    CHROMIUM_FLAGS,
    SERVERS,
    Server,
    Voila,
    failed,
    new_page,
    save_artefacts,
    start_jupyterlab,
    start_voila,
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session", autouse=True)
def _stop_all_servers() -> Iterator[None]:
    """Whatever happens, no server (or kernel) outlives the session."""
    yield
    while SERVERS:
        SERVERS.pop().stop()


@pytest.fixture(scope="module")
def voila(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Voila]:
    """One Voila server per test module, serving a fresh temporary directory (``voila.dir``)."""
    root = tmp_path_factory.mktemp("voila")
    nb_dir = root / "notebooks"
    nb_dir.mkdir()
    server = start_voila(nb_dir, root)
    try:
        yield server
    finally:
        server.server.stop()


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One JupyterLab server per test module; put notebooks in ``server.dir``."""
    server = start_jupyterlab(tmp_path_factory.mktemp("lab"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: install it (bash scripts/test.sh does), set FLOWVIZ_CHROMIUM, or "
                    "FLOWVIZ_SKIP_BROWSER=1 to skip the browser tests on purpose")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        try:
            yield b
        finally:
            b.close()


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)


@pytest.fixture
def page(request: pytest.FixtureRequest, browser: Any) -> Iterator[Any]:
    """A fresh browser context and page; ``page.console`` collects its console. Artefacts on failure."""
    context, pg, console = new_page(browser)
    try:
        yield pg
    finally:
        if failed(request.node):
            servers = [s for s in SERVERS if s.alive()]
            save_artefacts(request.node, [p for p in context.pages if not p.is_closed()], console, servers)
        context.close()
