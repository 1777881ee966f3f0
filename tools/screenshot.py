"""Screenshot an HTML report (or any URL) with headless Debian chromium, for docs/img/.

    python tools/screenshot.py out/reports/bridge_closure.html docs/img/report_bridge_closure.png

Uses /usr/bin/chromium through Playwright (never `playwright install`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("source", help="an HTML file or a URL")
    p.add_argument("png", help="output PNG")
    p.add_argument("--width", type=int, default=1200)
    p.add_argument("--height", type=int, default=1500, help="clip height in pixels (0: full page)")
    p.add_argument("--chromium", default="/usr/bin/chromium")
    a = p.parse_args(argv)
    from playwright.sync_api import sync_playwright

    url = a.source if "://" in a.source else Path(a.source).resolve().as_uri()
    Path(a.png).parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=a.chromium, args=ARGS)
        page = browser.new_page(viewport={"width": a.width, "height": a.height or 1000})
        page.goto(url, wait_until="load")
        page.screenshot(path=a.png, full_page=a.height == 0)
        browser.close()
    print(f"wrote {a.png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
