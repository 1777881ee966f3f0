"""The bridge-closure dashboard in Voila, driven by headless Debian chromium through Playwright.

Starts Voila with the repository's locked-down settings (``ldtkit.viz.dashboard.voila_command``:
``templates/voila.json`` + the ``ldtkit`` template) on 127.0.0.1 and a free port, opens
``notebooks/bridge_closure.ipynb``, waits for the roads on both halves of the split map and the
indicator table, records the time to first map render, takes screenshots into ``out/screenshots/``
(the first view, the first screen of a 1366×768 display with both legends on it, the change views,
who used the bridge, the side-by-side maps), and checks that no code or traceback is visible and that
URL parameters outside the whitelist change nothing that runs.
Pages run offline: every request that does not go to the server is refused, except, on the page
that checks the web basemap takes over, its tiles, answered with a local picture. The server is
stopped by its PID (and its kernels by theirs).

Needs ``/usr/bin/chromium`` (``apt-get install -y chromium``; never ``playwright install``).
The first module fixture runs the notebook once (papermill) to fill the results cache, which is
a cache hit when ``ldtkit report`` ran before. ``LDTKIT_DASHBOARD_NOTEBOOK`` points the test at
another notebook (e.g. a traffic-only copy while developing).
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import time
from pathlib import Path

import pytest

from ldtkit.study.indicators import indicator

pytestmark = [pytest.mark.browser, pytest.mark.timed]

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = Path(os.environ.get("LDTKIT_DASHBOARD_NOTEBOOK", ROOT / "notebooks" / "bridge_closure.ipynb"))
# Screenshots go under out/ (untracked), so a test run leaves the checkout as it was; copy one
# into docs/img/ by hand to refresh the picture in the docs.
IMG = ROOT / "out" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
FIRST_RENDER_LIMIT_S = 5.0
DEFAULT_LABEL = "Rooigemlaan closed both ways"  # the notebook's default scenario
MEASURE_LABEL = "Rooigemlaan bridge: closed both ways"  # the label pinned on the closed bridge
# a screen point on a road drawn in the pane ``pane`` ("left"/"right"), inside the map and on top there
ROAD_POINT_JS = """(pane) => {
  const map = document.querySelector('.leaflet-container').getBoundingClientRect();
  for (const path of document.querySelectorAll('.leaflet-' + pane + '-pane path')) {
    const n = path.getTotalLength();
    for (let k = 1; k < 40; k++) {
      const p = path.getPointAtLength(n * k / 40);
      const q = new DOMPoint(p.x, p.y).matrixTransform(path.getScreenCTM());
      if (q.x > map.left + 200 && q.x < map.right - 200 && q.y > map.top + 80 && q.y < map.bottom - 160
          && document.elementFromPoint(q.x, q.y) === path) { return {x: q.x, y: q.y}; }
    }
  }
  return null;
}"""
# fragments of the notebook's code that must never reach the page
CODE_FRAGMENTS = ("from ldtkit", "run_use_case(", "show_use_case(", "Scenario.from_dict", "cache_dir =")

if not Path(CHROMIUM).exists():  # pragma: no cover - environment guard
    pytest.skip(f"{CHROMIUM} not installed (apt-get install -y chromium)", allow_module_level=True)
sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
psutil = pytest.importorskip("psutil")


def _start_voila(notebook: Path, port: int, log: Path, **env_extra: str) -> subprocess.Popen:
    """Voila with the repository's settings on 127.0.0.1:``port``, this checkout's ldtkit in the kernels."""
    from ldtkit.viz.dashboard import voila_command

    argv, env = voila_command(notebook, port=port)
    env = {**env, "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p), **env_extra}
    with open(log, "w") as fh:
        return subprocess.Popen(argv, env=env, stdout=fh, stderr=subprocess.STDOUT, cwd=str(ROOT))


def _stop(proc: subprocess.Popen, children: list[int]) -> None:
    """Stop the server by its PID, then the kernels it started by theirs."""
    try:
        children = children + [c.pid for c in psutil.Process(proc.pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        pass
    os.kill(proc.pid, 15)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, 9)
        proc.wait(timeout=5)
    for cpid in set(children):
        try:
            os.kill(cpid, 9)
        except ProcessLookupError:
            pass


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def warm_cache(tmp_path_factory):
    """Run the notebook once headless (same code as in Voila) so the results cache is filled."""
    import papermill

    out = tmp_path_factory.mktemp("warm") / "bridge_closure.ipynb"
    papermill.execute_notebook(str(NOTEBOOK), str(out), cwd=str(NOTEBOOK.parent), progress_bar=False, log_output=False)
    return out


def _preheated(proc: psutil.Process, port: int) -> int | None:
    """PID of a kernel of the server that waits for its request, else None.

    A preheated kernel runs the notebook up to ``current_query_string()`` and then holds a
    websocket to ``/voila/query/<kernel_id>`` on the server's port until a page takes it.
    """
    for k in proc.children(recursive=True):
        try:
            if "ipykernel" not in " ".join(k.cmdline()):
                continue
            if any(c.raddr and c.raddr.port == port and c.status == psutil.CONN_ESTABLISHED for c in k.net_connections(kind="tcp")):
                return k.pid
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return None


def _wait_ready(server: dict, *, timeout_s: float = 150.0) -> None:
    """Wait until a preheated kernel waits for its page."""
    proc, port = server["proc"], server["port"]
    t0 = time.monotonic()
    ps = psutil.Process(proc.pid)
    while time.monotonic() - t0 < timeout_s:
        if proc.poll() is not None:
            raise RuntimeError(f"voila exited with code {proc.returncode}; log: {server['log']}")
        if _preheated(ps, port) is not None:
            return
        time.sleep(0.3)
    raise TimeoutError(f"voila on port {port}: no preheated kernel after {timeout_s} s; log: {server['log']}")


@pytest.fixture(scope="module")
def voila(warm_cache, tmp_path_factory):
    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    log = tmp_path_factory.mktemp("voila") / "voila.log"
    proc = _start_voila(NOTEBOOK, port, log)
    children: list[int] = []
    server = {"url": url, "port": port, "proc": proc, "log": log}
    try:
        _wait_ready(server)
        children = [c.pid for c in psutil.Process(proc.pid).children(recursive=True)]
        yield server
    finally:
        _stop(proc, children)


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


# an asset the page would load from elsewhere (links to web pages, e.g. an attribution, are not assets)
EXTERNAL_ASSET = re.compile(
    r"""<(?:script|img|iframe|source|link|embed)\b[^>]*?\b(?:src|href)\s*=\s*["']?(https?://[^"'\s>]+)"""
    r"""|url\(\s*["']?(https?://[^"')\s]+)|@import\s+["'](https?://[^"']+)""",
    re.IGNORECASE,
)


# the notebook's web basemap; the tests run offline: its tiles fail, or (online=True) get a local picture
TILE_HOST = "https://tile.openstreetmap.org/"
# a 1 x 1 light grey PNG standing in for a basemap tile
TILE_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6378f1e2c57f00092c03b8619c79550000000049454e44ae426082"
)


def _open(browser, url: str, *, requests: list[str] | None = None, online: bool = False):
    """Open the page offline: only the server answers; the basemap's tiles fail, or load when ``online``."""
    page = browser.new_page(viewport={"width": 1280, "height": 1100})
    if requests is not None:
        page.on("request", lambda r: requests.append(r.url))
    origin = url.split("?")[0].rstrip("/")

    def route(r):
        if r.request.url.startswith(origin):
            r.continue_()
        elif online and r.request.url.startswith(TILE_HOST):
            r.fulfill(status=200, content_type="image/png", body=TILE_PNG, headers={"Access-Control-Allow-Origin": "*"})
        else:
            r.abort("internetdisconnected")

    page.route("**/*", route)
    t0 = time.perf_counter()
    page.goto(url, wait_until="commit", timeout=120_000)
    # the first map: roads drawn on both halves (not only the measure's outline)
    page.wait_for_selector(".leaflet-left-pane path", state="attached", timeout=120_000)
    page.wait_for_selector(".leaflet-right-pane path", state="attached", timeout=60_000)
    first_map_s = time.perf_counter() - t0
    page.wait_for_selector("table.ldtkit-indicators", timeout=60_000)
    nav = page.evaluate(
        "(() => { const n = performance.getEntriesByType('navigation')[0];"
        " return {html_s: n.responseEnd / 1000, dom_s: n.domContentLoadedEventEnd / 1000, load_s: n.loadEventEnd / 1000}; })()"
    )
    print(
        f"{url}: first map {first_map_s:.2f} s; html {nav['html_s']:.2f} s, DOMContentLoaded {nav['dom_s']:.2f} s, load {nav['load_s']:.2f} s"
    )
    return page, {"first_map_render_s": round(first_map_s, 2), **{k: round(v, 2) for k, v in nav.items()}}


def _assert_no_code_or_traceback(page) -> None:
    text = page.inner_text("body")
    for frag in CODE_FRAGMENTS:
        assert frag not in text, f"code visible in the dashboard: {frag!r}"
    for word in ("Traceback", "Error:", "Exception"):
        assert word not in text, f"{word!r} visible in the dashboard"
    code = ".jp-CodeCell .jp-InputArea:visible, .jp-CodeCell .jp-Cell-inputWrapper:visible, pre.jp-InputArea-editor:visible"
    assert page.locator(code).count() == 0


def _dashboard_only_text(notebook: Path) -> str:
    """The first sentence of the notebook's markdown tagged ``dashboard-only`` (how to read the dashboard)."""
    cells = json.loads(notebook.read_text())["cells"]
    source = next("".join(c["source"]) for c in cells if c["cell_type"] == "markdown" and "dashboard-only" in c["metadata"].get("tags", []))
    return source.split(".")[0].replace("*", "")


def _shown_scenario(page) -> str:
    return page.eval_on_selector(".widget-dropdown select", "s => s.options[s.selectedIndex].text").replace("\xa0", " ")


def test_dashboard_renders_map_and_table_fast(voila, browser):
    requests: list[str] = []
    page, timings = _open(browser, voila["url"], requests=requests)
    first_map_s = timings["first_map_render_s"]
    try:
        # every asset comes from the server itself (FontAwesome included): no CDN, works offline; only
        # the web basemap's tiles come from elsewhere (here they fail: offline)
        origin = voila["url"].rstrip("/")
        in_page = [u for found in EXTERNAL_ASSET.findall(page.content()) for u in found if u]
        assert in_page and [u for u in in_page if not u.startswith((origin + "/", TILE_HOST))] == []
        outside = [u for u in requests if not u.startswith((origin, "data:", "blob:"))]
        assert outside and all(u.startswith(TILE_HOST) for u in outside)
        assert any("/static/fontawesome/css/font-awesome.min.css" in u for u in requests)
        # Ghent's streets on both halves (colour classes, each one SVG path)
        assert page.locator(".leaflet-left-pane path").count() >= 5 and page.locator(".leaflet-right-pane path").count() >= 5
        assert page.locator(".leaflet-sbs-divider").count() == 1  # the split control
        assert page.locator("meta[name=generator][content=ldtkit-voila-template]").count() == 1
        assert _shown_scenario(page) == DEFAULT_LABEL
        table = page.inner_text("table.ldtkit-indicators")
        assert indicator("vehicle_km").label in table and DEFAULT_LABEL in table
        assert page.locator(".ldtkit-notice:visible").count() == 0
        _assert_no_code_or_traceback(page)
        # the notebook's text on how to read the dashboard is shown (markdown cells are not code)
        how_to = page.locator(".jp-MarkdownCell", has_text=_dashboard_only_text(NOTEBOOK))
        assert how_to.count() == 1 and how_to.first.is_visible()
        # where and what: the closed bridge's pin and label are visible in the first view
        label = page.locator(".ldtkit-measure-label")
        assert label.count() == 1 and label.first.is_visible()
        assert label.first.inner_text() == MEASURE_LABEL
        box, frame = label.first.bounding_box(), page.locator(".leaflet-container").first.bounding_box()
        assert frame["x"] <= box["x"] <= frame["x"] + frame["width"] and frame["y"] <= box["y"] <= frame["y"] + frame["height"]
        # a legend for each half, in its top corner under the caption
        assert page.locator(".leaflet-control .ldtkit-legend:visible").count() == 2
        assert "Baseline" in page.inner_text(".leaflet-top.leaflet-left .ldtkit-legend")
        assert page.locator(".leaflet-top.leaflet-right .ldtkit-legend:visible").count() == 1
        # hovering any drawn road (here a quiet one, drawn in grey) shows its flow before and after
        point = page.evaluate(ROAD_POINT_JS, "left")
        assert point is not None, "no road on screen to hover"
        page.mouse.move(point["x"] - 1, point["y"])
        page.mouse.move(point["x"], point["y"])
        page.wait_for_selector(".ldtkit-hover", timeout=10_000)
        hover = page.inner_text(".ldtkit-hover")
        assert "Before (veh/h)" in hover and "After (veh/h)" in hover and "Change (veh/h)" in hover
        page.wait_for_selector(".leaflet-hover-pane path", state="attached", timeout=10_000)  # the road is outlined
        # offline, the city's own context shows under the data: water, parks, street names and their credit line
        page.wait_for_selector(".leaflet-context-pane path", state="attached", timeout=30_000)
        assert page.locator(".leaflet-context-pane path").first.is_visible()
        assert page.locator(".ldtkit-street:visible").count() >= 5
        assert "OpenStreetMap contributors (ODbL)" in page.inner_text(".ldtkit-attribution")
        assert page.locator(".ldtkit-basemap-on").count() == 0
        page.mouse.move(5, 5)
        page.wait_for_timeout(500)  # let paths settle for the picture
        IMG.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(IMG / "dashboard_bridge_closure.png"), full_page=True)
        (IMG / "dashboard_bridge_closure.json").write_text(
            json.dumps(
                {
                    **timings,
                    "limit_s": FIRST_RENDER_LIMIT_S,
                    "measured": time.strftime("%Y-%m-%d %H:%M"),
                    "cpus": os.cpu_count(),
                    "load_avg_1min": round(os.getloadavg()[0], 2),
                },
                indent=1,
            )
            + "\n"
        )
        _check_first_screen(page)
        _check_views(page)
        print(f"first map render {first_map_s:.2f} s")
        assert first_map_s <= FIRST_RENDER_LIMIT_S, f"first map render took {first_map_s:.2f} s"
    finally:
        page.close()


# a small laptop's screen: the legends must show with the map without scrolling
FIRST_SCREEN = {"width": 1366, "height": 768}


def _check_first_screen(page) -> None:
    """At 1366×768, the top of the map and both legends are on the first screen (no scrolling)."""
    size = page.viewport_size
    page.set_viewport_size(FIRST_SCREEN)
    try:
        page.evaluate("window.scrollTo(0, 0)")
        page.wait_for_timeout(500)  # let the page reflow
        frame = page.locator(".leaflet-container").first.bounding_box()
        boxes = [b.bounding_box() for b in page.locator(".leaflet-control .ldtkit-legend:visible").all()]
        bottoms = [round(b["y"] + b["height"]) for b in boxes]
        print(f"at {FIRST_SCREEN['width']}x{FIRST_SCREEN['height']}: map from {frame['y']:.0f} px, legends end at {bottoms} px")
        assert len(boxes) == 2 and all(b["y"] >= 0 and b["y"] + b["height"] <= FIRST_SCREEN["height"] for b in boxes)
        page.screenshot(path=str(IMG / "dashboard_first_screen_1366x768.png"))
    finally:
        page.set_viewport_size(size)
        page.wait_for_timeout(300)


def _legends(page) -> list[str]:
    return [t.replace("\xa0", " ") for t in page.locator(".leaflet-control .ldtkit-legend:visible").all_inner_texts()]


def _switch(page, label: str, legend_text: str) -> list[str]:
    """Press the button ``label`` and wait until a legend says ``legend_text``; the visible legends."""
    page.locator("button", has_text=label).first.click()
    page.wait_for_function(
        "(t) => [...document.querySelectorAll('.leaflet-control .ldtkit-legend')].some(e => e.innerText.replace(/\\u00a0/g, ' ').includes(t))",
        arg=legend_text,
        timeout=20_000,
    )
    return _legends(page)


def _check_views(page) -> None:
    """The change views, who used the bridge and the side-by-side maps, each with a picture in out/screenshots."""
    # change in flow: the scenario minus the baseline on the right, the baseline's flow on the left
    legends = _switch(page, "Change in flow", "Change in flow (veh/h)")
    assert len(legends) == 2 and any("Baseline (today): Traffic flow" in t for t in legends)
    assert page.locator(".leaflet-right-pane path").count() >= 3 and page.locator(".ldtkit-measure-label:visible").count() == 1
    page.screenshot(path=str(IMG / "dashboard_change_in_flow.png"))
    for label, unit in (("Change in Lden", "Change in Lden (dB)"), ("Change in NO₂", "Change in NO₂ (µg/m³)")):
        legends = _switch(page, label, unit)
        assert len(legends) == 2
        page.wait_for_selector(".leaflet-right-pane img.leaflet-image-layer", state="visible", timeout=20_000)
        page.screenshot(path=str(IMG / f"dashboard_{label.lower().replace(' ', '_').replace('₂', '2')}.png"))
    # who used the bridge: its traffic's roads and the zones it came from and went to; the legend says how many
    legends = _switch(page, "Who used it", "Who used")
    who = next(t for t in legends if "Who used" in t)
    assert "veh/h in the baseline" in who and "both directions" in who
    page.wait_for_function("document.querySelectorAll('.leaflet-right-pane path').length >= 10", timeout=20_000)
    page.screenshot(path=str(IMG / "dashboard_who_used_it.png"))
    # side by side: two maps, each with its legend, the measure's label and the hover box
    _switch(page, "Change in flow", "Change in flow (veh/h)")
    page.locator("button", has_text="Side by side").first.click()
    page.wait_for_function("document.querySelectorAll('.leaflet-container').length === 2", timeout=30_000)
    page.wait_for_function("document.querySelectorAll('.ldtkit-measure-label').length === 2", timeout=30_000)
    page.wait_for_timeout(500)
    legends = _legends(page)
    assert len(legends) == 2 and "Baseline (today): Traffic flow" in legends[0] and "Change in flow" in legends[1]
    page.screenshot(path=str(IMG / "dashboard_side_by_side.png"))


def test_query_outside_whitelist_changes_nothing(voila, browser, tmp_path):
    marker = tmp_path / "pwned"
    evil = f"scenario=__import__('os').system('touch%20{marker}')&template=lab&theme=dark&city=porto"
    # ?template=/?theme= make Voila skip its preheated kernel: this page gets a fresh kernel, so no wait
    page, _ = _open(browser, voila["url"] + "?" + evil, online=True)
    try:
        assert _shown_scenario(page) == DEFAULT_LABEL  # the default scenario runs
        # online, the web basemap takes over: its tiles show, the offline context and street names are hidden
        page.wait_for_selector(".leaflet-container.ldtkit-basemap-on", state="attached", timeout=30_000)
        page.wait_for_selector(".leaflet-context-pane path", state="attached", timeout=30_000)
        assert page.locator("img.leaflet-tile:visible").count() > 0
        assert not page.locator(".leaflet-context-pane path").first.is_visible() and page.locator(".ldtkit-street:visible").count() == 0
        assert page.locator(".leaflet-right-pane path").count() >= 5  # the data stays
        notice = page.inner_text(".ldtkit-notice")
        assert "Unknown scenario" in notice and "showing the default 'bridge-closed-both'" in notice
        assert "Ignored link parameter(s): 'city', 'template', 'theme'" in notice
        assert page.locator("meta[name=generator][content=ldtkit-voila-template]").count() == 1  # template kept
        assert page.locator("body.theme-light, body[data-jp-theme-light=true]").count() == 1  # theme kept
        _assert_no_code_or_traceback(page)
        assert not marker.exists()
    finally:
        page.close()
    # a whitelisted value preselects that scenario, without a notice (on a preheated kernel)
    _wait_ready(voila)
    page, _ = _open(browser, voila["url"] + "?scenario=bridge-closed-northbound")
    try:
        assert _shown_scenario(page) == "Rooigemlaan closed northbound"
        assert page.locator(".ldtkit-notice:visible").count() == 0
        assert "Rooigemlaan closed northbound" in page.inner_text("table.ldtkit-indicators")
    finally:
        page.close()


def _kernel_pid(server: dict, kernel_id: str) -> int:
    """PID of the server's kernel ``kernel_id`` (its connection file is named after it)."""
    for k in psutil.Process(server["proc"].pid).children(recursive=True):
        try:
            if any(f"kernel-{kernel_id}.json" in part for part in k.cmdline()):
                return k.pid
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    raise LookupError(f"no kernel {kernel_id} under the voila server")


def test_killed_kernel_shows_a_banner_with_a_reload_button(voila, browser, tmp_path):
    _wait_ready(voila)
    page, _ = _open(browser, voila["url"])
    try:
        kernel_id = page.evaluate("JSON.parse(document.getElementById('jupyter-config-data').textContent).kernelId")
        assert page.locator("#ldtkit-kernel-lost").count() == 0
        os.kill(_kernel_pid(voila, kernel_id), 9)
        t0 = time.perf_counter()
        page.wait_for_selector("#ldtkit-kernel-lost", timeout=30_000)
        print(f"banner {time.perf_counter() - t0:.2f} s after the kernel was killed (load {os.getloadavg()[0]:.2f})")
        banner = page.locator("#ldtkit-kernel-lost")
        assert banner.get_attribute("role") == "alert" and banner.is_visible()
        assert "The computation behind this page stopped" in banner.inner_text()
        page.screenshot(path=str(tmp_path / "dashboard_kernel_stopped.png"))
        # the button reloads the page, which gets a new kernel and draws the map again
        _wait_ready(voila)
        page.locator("#ldtkit-kernel-lost button", has_text="Reload the page").click()
        page.wait_for_selector(".leaflet-pane path", state="attached", timeout=120_000)
        assert page.locator("#ldtkit-kernel-lost").count() == 0
    finally:
        page.close()


PROGRESS_LIMIT_S = 5.0


def test_empty_cache_shows_the_stage_while_the_models_run(browser, tmp_path):
    """A page asked for while nothing is cached shows what runs, not a bare spinner."""
    folder = tmp_path / "nb"
    folder.mkdir()
    notebook = folder / NOTEBOOK.name
    notebook.write_bytes(NOTEBOOK.read_bytes())
    port = _free_port()
    proc = _start_voila(notebook, port, tmp_path / "voila.log", LDTKIT_CACHE=str(tmp_path / "empty-cache"))
    page = None
    try:
        t_server = time.monotonic()
        while True:  # the server listens (its kernel starts in the background)
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert proc.poll() is None and time.monotonic() - t_server < 60, f"voila did not start: {tmp_path / 'voila.log'}"
            time.sleep(0.2)
        page = browser.new_page()
        t0 = time.perf_counter()
        page.goto(f"http://127.0.0.1:{port}/", wait_until="commit", timeout=60_000)
        page.wait_for_function("(document.getElementById('ldtkit-progress') || {}).textContent", timeout=30_000)
        first_s = time.perf_counter() - t0
        # then the kernel's own stage: what it runs, for which scenarios
        page.wait_for_function(
            "(document.getElementById('ldtkit-progress') || {textContent: ''}).textContent.includes('baseline and 3 scenarios')",
            timeout=120_000,
        )
        stage_s = time.perf_counter() - t0
        text = page.inner_text("#ldtkit-progress")
        page.screenshot(path=str(tmp_path / "dashboard_waiting.png"))
        print(f"progress text after {first_s:.2f} s, the kernel's stage after {stage_s:.2f} s (load {os.getloadavg()[0]:.2f}): {text}")
        assert "Running the traffic, noise, air models" in text and "Rooigemlaan closed both ways" in text
        assert page.locator("#loading").is_visible()  # still computing: the spinner with the text
        assert first_s <= PROGRESS_LIMIT_S, f"progress text took {first_s:.2f} s"
    finally:
        if page is not None:
            page.close()
        _stop(proc, [])
