"""report.html in a real browser: headless Chromium (installed by the set-up) renders it from a
file, every image loads, no network request is attempted, and a screenshot is kept.

The checks run in a copy of the report with a small script appended (the report itself is not
changed): it waits for the page to load, counts the images whose ``naturalWidth`` is 0, and
writes the result into the page title, which ``--dump-dom`` prints. Chromium's own network log
(``--log-net-log``) must hold no http(s) request.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
import yaml

import runner

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-extensions", "--mute-audio", "--allow-file-access-from-files"]

CHECK = """
<script>
window.addEventListener("load", () => {
  const imgs = Array.from(document.images);
  const broken = imgs.filter(i => !i.complete || i.naturalWidth === 0).length;
  document.title = "CHECK images=" + imgs.length + " broken=" + broken;
});
</script>
"""

CFG = {
    "name": "browser",
    "data": {"source": "synthetic", "tickers": ["BTC-USD", "SPY", "GLD"], "start": "2019-01-01",
             "end": "2020-12-31", "seed": 2},
    "split": {"test_start": "2020-06-01"},
    "strategies": {"mvo": {"kind": "mvo"}, "ew": {"kind": "equal_weight"}},
    "analysis": {"alpha_pair": ["mvo", "ew"], "benchmark": "SPY"},
}


def page_requests(netlog) -> list[str]:
    """Network requests the page made, from Chromium's net log: URL requests whose initiator is
    an origin (a file:// page's is "null"); the browser's own background calls (network time,
    updates) have the initiator "not an origin" and are not the page's."""
    log = json.loads(netlog.read_text())
    types = {v: k for k, v in log["constants"]["logEventTypes"].items()}
    urls = []
    for event in log["events"]:
        params = event.get("params") or {}
        if types.get(event["type"]) == "URL_REQUEST_START_JOB" and params.get("initiator") != "not an origin":
            url = params.get("url") or ""
            if re.match(r"(https?|wss?|ftp)://", url):
                urls.append(url)
    return urls


def _netlog_of(page, tmp_path, name: str):
    netlog = tmp_path / f"{name}.json"
    proc = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / name}", f"--log-net-log={netlog}",
                           "--virtual-time-budget=10000", "--dump-dom", page.as_uri()],
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout, netlog


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("browser")
    path = tmp / "cfg.yaml"
    path.write_text(yaml.safe_dump(CFG))
    assert runner.main([str(path), "--out", str(tmp / "out"), "--quiet"]) == 0
    return tmp / "out" / "report.html"


def test_report_is_self_contained(report):
    html = report.read_text()
    sources = re.findall(r"""(?:src|href)\s*=\s*['"]([^'"]+)['"]""", html)
    assert sources and all(s.startswith("data:image/png;base64,") for s in sources), sources[:3]
    assert "http://" not in html and "https://" not in html and "<script" not in html


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed (make setup installs it)")
def test_report_renders_in_chromium_without_network(report, tmp_path):
    # the net-log check can fail: a page with one external image is caught
    control = tmp_path / "control.html"
    control.write_text('<html><body><img src="http://127.0.0.1:9/x.png"></body></html>')
    assert page_requests(_netlog_of(control, tmp_path, "control")[1]) == ["http://127.0.0.1:9/x.png"]

    page = tmp_path / "report-check.html"
    page.write_text(report.read_text().replace("</body>", CHECK + "</body>"))
    dom, netlog = _netlog_of(page, tmp_path, "report")
    title = re.search(r"<title>(CHECK[^<]*)</title>", dom)
    assert title, dom[:500]
    n_images = len(re.findall(r"<img ", report.read_text()))
    assert title.group(1) == f"CHECK images={n_images} broken=0" and n_images >= 5
    assert page_requests(netlog) == []

    shot = tmp_path / "report.png"
    proc = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile2'}", "--window-size=1280,2400",
                           f"--screenshot={shot}", report.as_uri()], capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 50_000


def test_interactive_view_is_self_contained(tmp_path):
    """``output.interactive: true``: report-interactive.html with plotly.js inside the file."""
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump({**CFG, "output": {"interactive": True, "plots": False}}))
    assert runner.main([str(path), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    page = (tmp_path / "out" / "report-interactive.html").read_text()
    assert page.count("Plotly.newPlot") == 3
    assert not re.search(r"<script[^>]+src=", page)  # the library is inline, nothing to fetch
    size = len(page.encode())
    print(f"report-interactive.html: {size / 1e6:.1f} MB")
    assert 1e6 < size < 20e6
    if CHROMIUM is not None:  # opened in the browser, it makes no request either
        dom, netlog = _netlog_of(tmp_path / "out" / "report-interactive.html", tmp_path, "interactive")
        assert "plotly" in dom and page_requests(netlog) == []
