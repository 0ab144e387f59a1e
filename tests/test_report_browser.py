"""The report in a real headless browser: every image loads, no console errors, screenshots saved.

Chromium is driven through the DevTools protocol over ``--remote-debugging-pipe`` (file descriptors 3
and 4, NUL-separated JSON messages), which needs no extra Python package and sees what a console shows:
JavaScript errors, failed loads and Content-Security-Policy refusals.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from example_sets import materialise
from test_report import full_sweep, make_run, passed_record

from trtsweep.orchestrate import importer
from trtsweep.reports import html

pytestmark = pytest.mark.browser

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--remote-debugging-pipe",
    "--disable-extensions",
    "--mute-audio",
]
SHOTS = Path(os.environ.get("TRTSWEEP_SCREENSHOTS", "/tmp/trtsweep-report-shots"))


def chromium_binary() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    reason = ("chromium not installed: no chromium/chromium-browser/google-chrome on PATH "
              "(.ci/run installs Debian's chromium)")
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(reason)  # CI must run the browser test, never pass by skipping it
    pytest.skip(reason)


class Browser:
    """A minimal DevTools-protocol client over the pipe transport."""

    def __init__(self, binary: str, profile: Path) -> None:
        to_child_r, self._w = os.pipe()
        self._r, from_child_w = os.pipe()
        # Chromium reads commands on fd 3 and writes replies on fd 4. Move the child's ends above 10 first
        # so the dup2 calls cannot overwrite each other, and keep fds (close_fds would close 3 and 4 after
        # preexec_fn); pipes are close-on-exec by default, so nothing else leaks into the child.
        child_r = fcntl.fcntl(to_child_r, fcntl.F_DUPFD_CLOEXEC, 10)
        child_w = fcntl.fcntl(from_child_w, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(to_child_r)
        os.close(from_child_w)

        def wire() -> None:
            os.dup2(child_r, 3)
            os.dup2(child_w, 4)

        self.proc = subprocess.Popen(
            [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            close_fds=False,
            preexec_fn=wire,
        )
        os.close(child_r)
        os.close(child_w)
        self._buf = b""
        self._id = 0
        self.events: list[dict[str, Any]] = []

    def send(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        session: str | None = None,
        timeout: float = 30.0,
    ) -> dict[str, Any]:
        self._id += 1
        msg: dict[str, Any] = {"id": self._id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._w, json.dumps(msg).encode() + b"\0")
        while True:
            reply = self._next(timeout)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_event(self, method: str, timeout: float = 30.0) -> dict[str, Any]:
        for i, ev in enumerate(self.events):
            if ev.get("method") == method:
                return self.events.pop(i)
        deadline = time.monotonic() + timeout
        while True:
            ev = self._next(deadline - time.monotonic())
            if ev.get("method") == method:
                return ev
            self.events.append(ev)

    def _next(self, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._r], [], [], left)[0]:
                raise TimeoutError("no reply from chromium")
            chunk = os.read(self._r, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium closed the DevTools pipe")
            self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=5)
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        os.close(self._w)
        os.close(self._r)


def open_report(
    index: Path, shot: Path, tmp_path: Path, width: int = 1400, max_height: int = 16000
) -> dict[str, Any]:
    """Load the page, wait for it, and return image states, console errors and the screenshot path."""
    browser = Browser(chromium_binary(), tmp_path / "profile")
    try:
        target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            browser.send(f"{domain}.enable", session=session)
        browser.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": False},
            session=session,
        )
        browser.send("Page.navigate", {"url": index.resolve().as_uri()}, session=session)
        browser.wait_event("Page.loadEventFired")
        images = browser.send(
            "Runtime.evaluate",
            {
                "returnByValue": True,
                "expression": (
                    "Array.from(document.images).map(i => ({src: i.getAttribute('src'), complete: i.complete,"
                    " w: i.naturalWidth, h: i.naturalHeight}))"
                ),
            },
            session=session,
        )["result"]["value"]
        height = browser.send(
            "Runtime.evaluate",
            {"returnByValue": True, "expression": "document.documentElement.scrollHeight"},
            session=session,
        )["result"]["value"]
        shot_h = min(int(height), max_height)
        png = browser.send(
            "Page.captureScreenshot",
            {
                "format": "png",
                "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": width, "height": shot_h, "scale": 1},
            },
            session=session,
        )["data"]
        shot.parent.mkdir(parents=True, exist_ok=True)
        shot.write_bytes(base64.b64decode(png))
        time.sleep(0.2)  # let late console events arrive before we read them
        try:
            browser.send("Runtime.evaluate", {"expression": "1"}, session=session)
        except (RuntimeError, TimeoutError):
            pass
        errors = []
        for ev in browser.events:
            params = ev.get("params", {})
            if ev.get("method") == "Runtime.exceptionThrown":
                errors.append(params.get("exceptionDetails", {}).get("text", "exception"))
            elif ev.get("method") == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                errors.append(str(params.get("args")))
            elif ev.get("method") == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                errors.append(params["entry"].get("text", ""))
        return {"images": images, "errors": errors, "shot": shot, "height": height}
    finally:
        browser.close()


def _check(result: dict[str, Any], expect_images: int) -> None:
    assert len(result["images"]) == expect_images, result["images"]
    bad = [i for i in result["images"] if not i["complete"] or i["w"] <= 0]
    assert not bad, f"images that did not load: {bad}"
    assert not result["errors"], f"console errors: {result['errors']}"
    assert result["shot"].stat().st_size > 10_000


def test_example_report_in_headless_chromium(tmp_path: Path) -> None:
    chromium_binary()
    res = html.build_report([full_sweep(tmp_path / "run")], tmp_path / "report")
    result = open_report(res.index_html, tmp_path / "example.png", tmp_path)
    _check(result, len(res.pngs))
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(result["shot"], SHOTS / "example.png")


def test_three_gpu_side_by_side_in_headless_chromium(tmp_path: Path) -> None:
    chromium_binary()
    runs = [
        full_sweep(tmp_path / n, gpu=g, host=h, date=d, gpu_speed=s)
        for n, g, h, d, s in (
            ("a", "NVIDIA A10", "lab-a10", "2024-05-02", 1.0),
            ("b", "NVIDIA H100 80GB HBM3", "dgx-1", "2024-05-03", 3.1),
            ("c", "NVIDIA GeForce RTX 3080", "ws-7", "2024-05-04", 1.4),
        )
    ]
    res = html.build_report(runs, tmp_path / "report")
    result = open_report(res.index_html, tmp_path / "three_gpus.png", tmp_path)
    _check(result, len(res.pngs))
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(result["shot"], SHOTS / "three_gpus.png")


def test_partial_report_in_headless_chromium(tmp_path: Path) -> None:
    """A TRT 7 run without breakdown or layers: fewer images, all loaded, and the gaps are on the page."""
    chromium_binary()
    run = make_run(
        tmp_path / "run",
        [
            {
                "id": f"fp16-b{b}",
                "axes": {"precision": "fp16", "batch": b},
                "record": passed_record("fp16", b, trt7=True),
            }
            for b in (1, 4)
        ],
    )
    res = html.build_report([run], tmp_path / "report")
    result = open_report(res.index_html, tmp_path / "partial.png", tmp_path)
    _check(result, len(res.pngs))
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(result["shot"], SHOTS / "partial.png")


@pytest.mark.corpus
def test_examples_side_by_side_in_headless_chromium(tmp_path: Path) -> None:
    """Real recorded logs (H100 and RTX 6000 Ada, from the corpus), imported, then reported side by side."""
    chromium_binary()
    runs = []
    for name in ("h100-model-trained", "ada-model-trained"):
        importer.import_folder(materialise(tmp_path / "logs", name), tmp_path / name)
        runs.append(tmp_path / name)
    for dirs, shot in (([runs[0]], "examples_h100.png"), (runs, "examples_side_by_side.png")):
        res = html.build_report(dirs, tmp_path / shot.removesuffix(".png"))
        assert res.pngs, res.missing
        result = open_report(res.index_html, tmp_path / shot, tmp_path)
        _check(result, len(res.pngs))
        SHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(result["shot"], SHOTS / shot)
