"""The diff as one self-contained HTML page: both modules side by side, paired lines linked.

`diff_html(result, before_text, after_text)` returns the page (inline CSS and JavaScript, no external
resource, so it opens from disk without a server). On top: the summary, the totals and the change
groups, each linking to its kernel's line on both sides. Below: the two module texts in two scrolling
panes. Every instruction line the matching paired carries `data-peer` (the id of its partner);
clicking it scrolls the other pane to the partner and marks both. Lines are coloured by what the
diff found: changed (paired but different), removed (only before), added (only after); unchanged
lines stay plain. `n` / `p` jump to the next / previous change.

The page checks itself when opened with `#selftest`: it clicks every linked line's partner link,
verifies that each `data-peer` names a line of the other pane, and writes `selftest ok: N links` (or
what failed) into `#selftest`, which a headless browser's DOM dump shows (see tests/test_diff_html.py).

How lines are found: a line scan of the module text (a computation header ends with `{`, an
instruction line is `[ROOT] %name = ...` inside one), independent of the parser, so the page shows
the text exactly as it was given.

Not handled yet: aligning the two panes line for line (each scrolls on its own; links align them),
and very large modules beyond a few hundred thousand lines (the page grows with the text).
"""

from __future__ import annotations

import html
import json
import re
from typing import TYPE_CHECKING

from irscope.render.diff_text import signed
from irscope.render.table import human_bytes, human_count, human_time

if TYPE_CHECKING:
    from irscope.passes.diff import ChangeGroup, DiffResult

_HEADER = re.compile(r"^\s*(?:ENTRY\s+)?%?(?P<name>[\w.\-]+)\s*(?:\(.*\)\s*->\s*.*)?\{\s*$")
_INSTRUCTION = re.compile(r"^\s*(?:ROOT\s+)?%?(?P<name>[\w.\-]+)\s*=\s*\S")

LineKey = tuple[str, str | None]  # (computation, instruction) or (computation, None) for its header


def line_index(text: str) -> dict[LineKey, int]:
    """(computation, instruction) -> 0-based line; (computation, None) -> the computation's header."""
    index: dict[LineKey, int] = {}
    current: str | None = None
    for n, line in enumerate(text.splitlines()):
        if current is None:
            if line.startswith(("HloModule", "FileNames", "FunctionNames", "FileLocations", "StackFrames")):
                continue
            m = _HEADER.match(line)
            if m and "=" not in line.split("(", 1)[0]:
                current = m.group("name")
                index[(current, None)] = n
            continue
        if line.lstrip().startswith("}"):
            current = None
            continue
        m = _INSTRUCTION.match(line)
        if m:
            index[(current, m.group("name"))] = n
    return index


def _statuses(result: DiffResult, before: dict[LineKey, int], after: dict[LineKey, int]
              ) -> tuple[dict[int, str], dict[int, str], dict[int, int], dict[int, int]]:
    """Per side: line -> css class, and line -> the partner's line."""
    cls_a: dict[int, str] = {}
    cls_b: dict[int, str] = {}
    peer_a: dict[int, int] = {}
    peer_b: dict[int, int] = {}
    for ca, cb in result.computations:
        la = before.get((ca, None)) if ca else None
        lb = after.get((cb, None)) if cb else None
        if la is not None and lb is not None:
            peer_a[la], peer_b[lb] = lb, la
        elif la is not None:
            cls_a[la] = "removed"
        elif lb is not None:
            cls_b[lb] = "added"
    for p in result.instruction_pairs:
        la, lb = before.get(p.before), after.get(p.after)
        if la is None or lb is None:
            continue
        peer_a[la], peer_b[lb] = lb, la
        if not p.same:
            cls_a[la] = cls_b[lb] = "changed"
    for k in result.kernels:
        la = before.get((k.before.computation, _base(k.before.name))) if k.before else None
        lb = after.get((k.after.computation, _base(k.after.name))) if k.after else None
        status = {"unchanged": "", "changed": "changed", "added": "added", "removed": "removed"}[k.status]
        for line, cls in ((la, cls_a), (lb, cls_b)):
            if line is None:
                continue
            if status:
                cls[line] = status
            else:
                cls.pop(line, None)
    paired_comps_a = {ca for ca, cb in result.computations if ca and cb}
    paired_comps_b = {cb for ca, cb in result.computations if ca and cb}
    unpaired_a = {ca for ca, cb in result.computations if ca and not cb}
    unpaired_b = {cb for ca, cb in result.computations if cb and not ca}
    for (comp, inst), line in before.items():
        if inst is not None and line not in peer_a and (comp in paired_comps_a or comp in unpaired_a):
            cls_a.setdefault(line, "removed")
    for (comp, inst), line in after.items():
        if inst is not None and line not in peer_b and (comp in paired_comps_b or comp in unpaired_b):
            cls_b.setdefault(line, "added")
    return cls_a, cls_b, peer_a, peer_b


def _base(qualified: str) -> str:
    return qualified.rsplit("/", 1)[-1]


def _pane(side: str, other: str, text: str, classes: dict[int, str], peers: dict[int, int]) -> str:
    out = []
    for n, line in enumerate(text.splitlines()):
        cls = classes.get(n, "")
        body = html.escape(line) or " "
        peer = peers.get(n)
        attrs = f' id="{side}{n + 1}"'
        if cls:
            attrs += f' class="{cls}"'
        if peer is not None:
            attrs += f' data-peer="{other}{peer + 1}"'
            num = f'<a class="n" href="#{other}{peer + 1}">{n + 1}</a>'
        else:
            num = f'<span class="n">{n + 1}</span>'
        out.append(f"<span{attrs}>{num}{body}</span>")
    return "".join(out)


def _group_row(group: ChangeGroup, before: dict[LineKey, int], after: dict[LineKey, int]) -> str:
    first = group.first
    mark = {"changed": "~", "added": "+", "removed": "-"}.get(group.status, "=")
    links = []
    if first.before:
        line = before.get((first.before.computation, _base(first.before.name)))
        name = html.escape(first.before.name)
        links.append(f'<a href="#a{line + 1}" data-jump="a{line + 1}">{name}</a>' if line is not None else name)
    if first.after:
        line = after.get((first.after.computation, _base(first.after.name)))
        name = html.escape(first.after.name)
        links.append(f'<a href="#b{line + 1}" data-jump="b{line + 1}">{name}</a>' if line is not None else name)
    count = f" ×{group.count}" if group.count > 1 else ""
    d = group.delta
    details = "<br>".join(html.escape(x) for x in first.details[:6])
    return (f'<tr class="{group.status}"><td>{mark}</td><td>{" → ".join(links)}{count}</td>'
            f"<td>{html.escape(', '.join(group.reasons) or '-')}</td>"
            f'<td class="num">{signed(d.bytes_accessed, human_bytes)}</td>'
            f'<td class="num">{signed(d.flops, human_count)}</td>'
            f'<td class="num">{signed(d.time_at_peak_s, human_time)}</td>'
            f'<td class="details">{details}</td></tr>')


_CSS = """
body{font:13px/1.35 system-ui,sans-serif;margin:0;color:#1b1f24;display:flex;flex-direction:column;height:100vh}
header{flex:none;padding:10px 16px;border-bottom:1px solid #d0d7de;max-height:45vh;overflow:auto}
h1{font-size:16px;margin:0 0 6px}
table{border-collapse:collapse;margin:6px 0}
td,th{padding:2px 8px;border-bottom:1px solid #eaeef2;text-align:left;vertical-align:top}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.details{font:12px ui-monospace,monospace;color:#57606a}
tr.changed td:first-child{color:#9a6700}tr.added td:first-child{color:#1a7f37}
tr.removed td:first-child{color:#cf222e}
.panes{display:flex;flex:1;min-height:0}
.pane{flex:1;min-width:0;display:flex;flex-direction:column;border-right:1px solid #d0d7de}
.pane h2{font-size:13px;margin:0;padding:4px 8px;background:#f6f8fa;border-bottom:1px solid #d0d7de;
 white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
pre{margin:0;overflow:auto;flex:1;font:12px/1.4 ui-monospace,monospace}
pre>span{display:block;white-space:pre;padding-right:8px}
pre>span[data-peer]{cursor:pointer}
.n{display:inline-block;width:5em;color:#8c959f;text-align:right;padding-right:8px;user-select:none;
 text-decoration:none}
.changed{background:#fff8c5}.removed{background:#ffebe9}.added{background:#dafbe1}
.focus{outline:2px solid #0969da;outline-offset:-2px}
#status,#selftest{color:#57606a;font-size:12px}
kbd{border:1px solid #d0d7de;border-radius:3px;padding:0 3px;font-size:11px}
"""

_JS = """
(function () {
  const panes = {a: document.getElementById('pane-a'), b: document.getElementById('pane-b')};
  let focused = [];
  function mark(ids) {
    focused.forEach(e => e.classList.remove('focus'));
    focused = ids.map(id => document.getElementById(id)).filter(Boolean);
    focused.forEach(e => { e.classList.add('focus'); e.scrollIntoView({block: 'center'}); });
    return focused.length;
  }
  function peerOf(el) { return el.dataset.peer ? [el.id, el.dataset.peer] : [el.id]; }
  document.addEventListener('click', ev => {
    const jump = ev.target.closest('[data-jump]');
    if (jump) { ev.preventDefault(); const el = document.getElementById(jump.dataset.jump);
      if (el) mark(peerOf(el)); return; }
    const line = ev.target.closest('pre > span');
    if (line) { ev.preventDefault(); mark(peerOf(line)); }
  });
  const changes = Array.from(document.querySelectorAll(
      '#pane-b .changed, #pane-b .added, #pane-a .removed'));
  let at = -1;
  document.addEventListener('keydown', ev => {
    if (!changes.length || ev.target.tagName === 'INPUT') return;
    if (ev.key === 'n') at = Math.min(at + 1, changes.length - 1);
    else if (ev.key === 'p') at = Math.max(at - 1, 0);
    else return;
    mark(peerOf(changes[at]));
  });
  const linked = document.querySelectorAll('pre > span[data-peer]');
  const count = cls => document.querySelectorAll('pre > span.' + cls).length;
  document.getElementById('status').textContent = linked.length + ' lines linked, ' +
      count('changed') + ' changed, ' + count('removed') + ' removed, ' + count('added') + ' added';
  document.body.dataset.ready = '1';
  if (location.hash === '#selftest') {
    const problems = [];
    linked.forEach(el => {
      const peer = document.getElementById(el.dataset.peer);
      if (!peer) problems.push(el.id + ' -> missing ' + el.dataset.peer);
      else if (peer.parentElement === el.parentElement) problems.push(el.id + ' -> same pane');
      else if (peer.dataset.peer !== el.id) problems.push(el.id + ' -> ' + peer.id + ' not mutual');
    });
    const first = document.querySelector('pre > span.changed[data-peer]') || linked[0];
    if (first) {
      first.dispatchEvent(new MouseEvent('click', {bubbles: true}));
      const peer = document.getElementById(first.dataset.peer);
      if (!first.classList.contains('focus') || !peer.classList.contains('focus'))
        problems.push('click on ' + first.id + ' did not mark both lines');
    }
    document.getElementById('selftest').textContent = problems.length
        ? 'selftest FAIL: ' + problems.slice(0, 5).join('; ')
        : 'selftest ok: ' + linked.length + ' links';
  }
})();
"""


def diff_html(result: DiffResult, before_text: str, after_text: str, *, title: str | None = None) -> str:
    """The self-contained side-by-side page for a diff of the modules whose texts are given."""
    before, after = line_index(before_text), line_index(after_text)
    cls_a, cls_b, peer_a, peer_b = _statuses(result, before, after)
    s = result.summary
    a, b, d = result.before, result.after, result.delta
    title = title or f"irscope diff: {a.module} → {b.module}"
    totals = "".join(
        f'<tr><td>{label}</td><td class="num">{x}</td><td class="num">{y}</td><td class="num">{z}</td></tr>'
        for label, x, y, z in (
            ("bytes accessed", human_bytes(a.bytes_accessed), human_bytes(b.bytes_accessed),
             signed(d.bytes_accessed, human_bytes)),
            ("FLOPs", human_count(a.flops), human_count(b.flops), signed(d.flops, human_count)),
            (f"t@peak ({html.escape(result.chip)})", human_time(a.time_at_peak_s), human_time(b.time_at_peak_s),
             signed(d.time_at_peak_s, human_time)),
            ("kernels", f"{a.kernels:,}", f"{b.kernels:,}", signed(b.kernels - a.kernels, lambda x: f"{x:,.0f}")),
            ("instructions", f"{a.instructions:,}", f"{b.instructions:,}",
             signed(b.instructions - a.instructions, lambda x: f"{x:,.0f}")),
        ))
    groups = "".join(_group_row(g, before, after) for g in result.groups)
    changes = (
        '<table class="changes"><tr><th></th><th>kernel (before → after)</th><th>reasons</th>'
        '<th class="num">Δbytes</th><th class="num">ΔFLOPs</th><th class="num">Δt@peak</th><th>details</th></tr>'
        f"{groups}</table>" if groups else "<p>No kernel changed.</p>")
    signature = "".join(f"<li>{html.escape(x)}</li>" for x in result.signature)
    verdict = "identical" if result.identical else "different"
    data = json.dumps({"summary": s, "identical": result.identical})
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>{_CSS}</style></head>
<body data-ready="0">
<header>
<h1>{html.escape(title)}</h1>
<p><b>{verdict}</b>: {s['changed']:,} changed, {s['added']:,} added, {s['removed']:,} removed,
{s['unchanged']:,} unchanged kernels. Click a line to find its partner; <kbd>n</kbd>/<kbd>p</kbd>: next/previous
change.</p>
{f'<p>signature:</p><ul>{signature}</ul>' if signature else ''}
<table class="totals"><tr><th>total</th><th class="num">before</th><th class="num">after</th>
<th class="num">delta</th></tr>{totals}</table>
{changes}
<p id="status"></p><p id="selftest"></p>
<script type="application/json" id="diff-summary">{html.escape(data, quote=False)}</script>
</header>
<main class="panes">
<section class="pane"><h2>before: {html.escape(a.source or a.module)}</h2>
<pre id="pane-a">{_pane("a", "b", before_text, cls_a, peer_a)}</pre></section>
<section class="pane"><h2>after: {html.escape(b.source or b.module)}</h2>
<pre id="pane-b">{_pane("b", "a", after_text, cls_b, peer_b)}</pre></section>
</main>
<script>{_JS}</script>
</body></html>
"""
