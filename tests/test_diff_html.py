"""The side-by-side HTML page: self-contained, every link lands on a line of the other pane, changes marked.

Two layers of checks. The structural ones always run: the page is parsed with the standard library's
HTML parser and every `data-peer` / `href` is followed. The browser one opens the page in a real
headless Chromium (`chromium --headless --dump-dom FILE#selftest`), where the page's own script
follows every link, clicks a changed line and writes `selftest ok: N links`; it is skipped, with the
reason, when no `chromium` is installed (Debian: `apt-get install chromium`; `make test` installs it).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser

import pytest
from conftest import REPO

from irscope.ir.hlo_parser import parse_module
from irscope.passes.diff import diff_modules
from irscope.render.diff_html import diff_html, line_index

DATA = REPO / "tests" / "data"
CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)


class _Page(HTMLParser):
    """Collects ids, classes, peers, links and anything that would load from elsewhere."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: dict[str, dict[str, str]] = {}
        self.links: list[str] = []
        self.external: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if "id" in a:
            self.ids[a["id"]] = {"tag": tag, **a}
        if tag == "a" and a.get("href", "").startswith("#"):
            self.links.append(a["href"][1:])
        for key in ("src", "href"):
            if a.get(key, "").startswith(("http:", "https:", "//")):
                self.external.append(a[key])
        if tag == "link" or (tag == "script" and "src" in a):
            self.external.append(tag)
        if tag == "script":
            self.scripts += 1


@pytest.fixture(scope="module")
def gelu_page() -> tuple[str, object]:
    before, after = (DATA / "gelu_exact.hlo").read_text(), (DATA / "gelu_tanh.hlo").read_text()
    result = diff_modules(parse_module(before, "gelu_exact.hlo"), parse_module(after, "gelu_tanh.hlo"), "h100")
    return diff_html(result, before, after), result


def test_page_is_self_contained_and_links_resolve(gelu_page):
    page, result = gelu_page
    parsed = _Page()
    parsed.feed(page)
    assert parsed.external == []
    assert parsed.scripts >= 1
    peers = {k: v["data-peer"] for k, v in parsed.ids.items() if "data-peer" in v}
    assert peers, "no linked lines"
    for line, peer in peers.items():
        assert peer in parsed.ids, f"{line} links to missing {peer}"
        assert peers.get(peer) == line, f"{line} -> {peer} is not mutual"
        assert line[0] != peer[0], f"{line} links within its own pane"
    for target in parsed.links:
        assert target in parsed.ids, f"link to missing #{target}"
    # Each of the three changed kernels is marked on both sides, and linked.
    changed_a = [k for k, v in parsed.ids.items() if k.startswith("a") and "changed" in v.get("class", "")]
    changed_b = [k for k, v in parsed.ids.items() if k.startswith("b") and "changed" in v.get("class", "")]
    assert len(changed_a) >= 3 and len(changed_b) >= 3
    # The erf expansion exists only before: its lines are marked removed.
    removed = [k for k, v in parsed.ids.items() if "removed" in v.get("class", "")]
    assert removed and all(k.startswith("a") for k in removed)


def test_identical_page_has_no_marks():
    text = (DATA / "gelu_tanh.hlo").read_text()
    module = parse_module(text)
    page = diff_html(diff_modules(module, module, "h100"), text, text)
    assert not re.search(r'class="(changed|added|removed)"', page)
    assert "<b>identical</b>" in page


def test_line_index_finds_every_instruction():
    text = (DATA / "gelu_tanh.hlo").read_text()
    module = parse_module(text)
    index = line_index(text)
    for comp in module.computations.values():
        assert (comp.name, None) in index
        for inst in comp.instructions:
            line = text.splitlines()[index[(comp.name, inst.name)]]
            assert f"%{inst.name} = " in line


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (Debian: apt-get install chromium); "
                                             "the structural checks of the page still ran")
def test_page_works_in_a_headless_browser(gelu_page, tmp_path):
    page, _ = gelu_page
    path = tmp_path / "diff.html"
    path.write_text(page, encoding="utf-8")
    proc = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000",
         "--dump-dom", f"file://{path}#selftest"],
        capture_output=True, text=True, timeout=90)
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = proc.stdout
    assert 'data-ready="1"' in dom, "the page's script did not run"
    selftest = re.search(r'id="selftest">([^<]*)<', dom)
    assert selftest and selftest.group(1).startswith("selftest ok"), selftest and selftest.group(1)
    status = re.search(r'id="status">([^<]*)<', dom)
    assert status and "lines linked" in status.group(1)
