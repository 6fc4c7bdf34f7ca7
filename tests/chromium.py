"""Headless Chromium driven over the DevTools protocol, for tests that must wait for a web app.

`chromium --dump-dom` or `--screenshot` snapshot a page once, when Chromium decides it has loaded, which
races an app that keeps working after that (Model Explorer lays out its graph in a web worker). This
drives one Chromium over `--remote-debugging-pipe` (messages are JSON, each ended by a NUL byte; Chromium
reads fd 3 and writes fd 4), so a test can evaluate JavaScript in the page until a condition holds or
its deadline passes, then take a screenshot of what it waited for. The standard library only.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import subprocess
import time
from pathlib import Path
from typing import Any


def _high(fd: int) -> int:
    """The same pipe end on an fd of 10 or more (close-on-exec), the original closed."""
    high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return high


class Chromium:
    """One headless Chromium with one page, closed by `close()` (or `with`)."""

    def __init__(self, binary: str, profile: Path, *, size: str = "1400,900", webgl: bool = True) -> None:
        # Both pipe ends for Chromium above fd 9, so that putting them on fds 3 and 4 in the child cannot
        # overwrite one with the other.
        to_chrome, self._out = (_high(fd) for fd in os.pipe())
        self._in, from_chrome = (_high(fd) for fd in os.pipe())
        gl = ["--use-angle=swiftshader", "--enable-unsafe-swiftshader"] if webgl else ["--disable-gpu"]

        def on_fds_3_and_4() -> None:  # runs in the child before exec; fds 3 and 4 are then kept open
            os.dup2(to_chrome, 3)
            os.dup2(from_chrome, 4)

        self.proc = subprocess.Popen(
            [binary, "--headless", "--no-sandbox", *gl, "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}", f"--window-size={size}",
             "--remote-debugging-pipe", "about:blank"],
            pass_fds=(3, 4), preexec_fn=on_fds_3_and_4, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        os.close(to_chrome)
        os.close(from_chrome)
        self._buffer, self._id, self._session = b"", 0, None

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, method: str, params: dict[str, Any] | None = None, *, timeout: float = 60) -> dict[str, Any]:
        """Send one DevTools command (to the page once `open` attached it) and return its result."""
        self._id += 1
        message: dict[str, Any] = {"id": self._id, "method": method, "params": params or {}}
        if self._session and not method.startswith(("Target.", "Browser.")):
            message["sessionId"] = self._session
        os.write(self._out, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            while b"\0" not in self._buffer:
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([self._in], [], [], left)[0]:
                    raise TimeoutError(f"Chromium did not answer {method} within {timeout:g} s")
                chunk = os.read(self._in, 1 << 16)
                if not chunk:
                    raise RuntimeError(f"Chromium closed the DevTools pipe (exit status {self.proc.poll()})")
                self._buffer += chunk
            raw, self._buffer = self._buffer.split(b"\0", 1)
            reply = json.loads(raw)
            if reply.get("id") == self._id:  # events and other replies are skipped
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})

    def open(self, url: str) -> None:
        target = self.send("Target.createTarget", {"url": url})["targetId"]
        self._session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]

    def eval(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (JSON-able values only)."""
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        return result.get("result", {}).get("value")

    def wait_for(self, expression: str, *, timeout: float) -> Any:
        """Evaluate `expression` every half second until it is truthy; its last value (falsy: timed out)."""
        deadline = time.monotonic() + timeout
        value = None
        while time.monotonic() < deadline:
            value = self.eval(expression)
            if value:
                return value
            time.sleep(0.5)
        return value

    def screenshot(self, path: Path) -> None:
        path.write_bytes(base64.b64decode(self.send("Page.captureScreenshot", {"format": "png"})["data"]))

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=10)
        except (OSError, RuntimeError, TimeoutError):
            pass
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, 9)
            self.proc.wait(timeout=20)
        for fd in (self._in, self._out):
            os.close(fd)
