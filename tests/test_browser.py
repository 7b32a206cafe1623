"""The HTML report in a real browser: headless Chromium at 1,280 px wide, no element wider
than its box (nothing cut off or scrolled sideways), every image decoded, a screenshot kept.

Chromium is Debian's `chromium` package (`.ci/run` installs it). In CI (CI=true) a missing
browser fails the test; elsewhere it skips with the reason.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from simplan.report import write_report

from .test_report import saved  # noqa: F401 - the saved runs fixture

WIDTH = 1280
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]
# Run after every image has loaded: each element whose content is wider than its box (or
# that reaches past the window), and each image that did not decode; written into the page
# so that --dump-dom carries it out.
CHECK = """
<script>
window.addEventListener("load", () => {
  const width = document.documentElement.clientWidth;
  const overflowing = [];
  for (const el of document.body.querySelectorAll("*")) {
    const box = el.getBoundingClientRect();
    const inner = el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1;
    if (inner || box.right > width + 1) {
      overflowing.push({tag: el.tagName, text: (el.textContent || "").slice(0, 60),
                        scroll: el.scrollWidth, client: el.clientWidth, right: box.right});
    }
  }
  const broken = [...document.images]
    .filter((img) => !img.complete || img.naturalWidth === 0)
    .map((img) => img.alt);
  const result = {width, page: document.documentElement.scrollWidth,
                  images: document.images.length, broken, overflowing};
  const out = document.createElement("pre");
  out.id = "layout-check";
  out.textContent = JSON.stringify(result);
  document.body.appendChild(out);
});
</script>
"""


def chromium() -> str:
    """The browser's path; fails in CI and skips elsewhere when it is not installed."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    reason = "chromium is not installed (apt-get install -y chromium; .ci/run does it)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run the browser test: {reason}")
    pytest.skip(reason)


def browse(browser: str, page: Path, profile: Path, *extra: str) -> str:
    done = subprocess.run(
        [browser, *FLAGS, f"--user-data-dir={profile}", *extra, page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def layout(browser: str, report: Path, tmp_path: Path) -> dict:
    """The CHECK result for `report` rendered at WIDTH px."""
    checked = tmp_path / f"checked-{report.name}"
    checked.write_text(report.read_text().replace("</body>", CHECK + "</body>"))
    dom = browse(
        browser,
        checked,
        tmp_path / "profile",
        f"--window-size={WIDTH},1000",
        "--virtual-time-budget=10000",
        "--dump-dom",
    )
    found = re.search(r'<pre id="layout-check">(.*?)</pre>', dom, re.S)
    assert found, f"the check did not run; the DOM ends with {dom[-500:]!r}"
    return json.loads(html.unescape(found.group(1)))


@pytest.mark.parametrize("kind", ["plan", "compare"])
def test_report_fits_1280_px_and_every_image_loads(saved, tmp_path, kind):  # noqa: F811
    browser = chromium()
    report = write_report(saved / kind, tmp_path / f"{kind}.html")
    result = layout(browser, report, tmp_path)
    assert result["width"] == WIDTH
    assert result["images"] >= 4
    assert result["broken"] == []
    assert result["overflowing"] == [], result["overflowing"][:5]
    assert result["page"] <= WIDTH
    screenshot = tmp_path / f"{kind}.png"
    browse(
        browser,
        report,
        tmp_path / "profile",
        f"--window-size={WIDTH},4000",
        f"--screenshot={screenshot}",
    )
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    print(f"screenshot of the {kind} report: {screenshot}")


def test_the_check_sees_overflow_and_broken_images(tmp_path):
    browser = chromium()
    page = tmp_path / "bad.html"
    page.write_text(
        "<!DOCTYPE html><html><body>"
        '<div style="overflow-x: auto"><table><tr><td style="min-width: 2000px">wide</td></tr>'
        '</table></div><img src="missing.png" alt="gone"></body></html>'
    )
    result = layout(browser, page, tmp_path)
    assert result["broken"] == ["gone"]
    assert {"DIV", "TD"} <= {e["tag"] for e in result["overflowing"]}
