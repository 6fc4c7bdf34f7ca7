"""One self-contained, offline HTML page of a kernel graph, for a bug report or a CI artifact.

The page carries the graph as JSON (one record per node: id, label, scope, kind, colour, figures;
edges as index pairs) and two vendored libraries, inlined, so it needs no network:
cytoscape.js 3.35.0 draws and pans/zooms on a canvas, dagre 3.1.4 (@dagrejs/dagre) lays out.
Both are MIT-licensed; `irscope/render/assets/` holds the minified files as npm ships them and
their licences (SOURCES.md there says where from).

Scopes (the `op_name` path without the op, as Model Explorer's namespaces) start collapsed: the
page expands the outermost ones while at most 40 boxes show, and opens at a readable zoom (0.8 or
more: the whole drawing when it fits, else its first rows, where the program starts), a click on a scope box
expands it, and the side panel collapses any scope of the selected kernel. So a 12-layer training
step (about 1,600 kernels) opens as a few dozen boxes and dagre never lays out the whole module at
once. Search (a substring of a kernel's name, label or scope) opens the scopes around the first
match only (closing the rest), selects it and shows its figures; Enter again goes to the next match.

`#search=TEXT` in the URL runs a search on load and `#selftest` adds nothing else: the page writes
what it did into `#status` (nodes drawn, load milliseconds, the kernel found), which the tests read
through headless Chromium.

Not handled yet: the diff of two programs on one page, and edges into a collapsed scope drawn per tensor.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from importlib import resources
from typing import Any

import networkx as nx

from irscope.render.graph_view import KIND_COLORS
from irscope.render.model_explorer import _figures, namespace
from irscope.render.tflite import PRECISION_COLORS

CHUNK = 30
"""The most nodes one scope shows at once; more are split into runs (`_chunk_scopes`)."""
_INPUT_SCOPES = {"parameter": "(parameters)", "constant": "(constants)"}


def _asset(name: str) -> str:
    return resources.files("irscope.render").joinpath("assets", name).read_text(encoding="utf-8")


def page_data(graph: nx.MultiDiGraph, *, title: str, sources: Mapping[str, str | None] | None = None,
              labels: Mapping[str, str] | None = None, color_by: str = "kind") -> dict[str, Any]:
    """The page's JSON: nodes (`id`, `label`, `scope`, `kind`, `color`, `figures`) and edges [src, dst]."""
    index: dict[Any, int] = {}
    nodes = []
    for name, attrs in graph.nodes(data=True):
        kind = str(attrs.get("kind", "op"))
        scope = namespace(attrs.get("op_name"))
        if kind in _INPUT_SCOPES:  # inputs gather under one scope rather than crowd the top level
            scope = _INPUT_SCOPES[kind] + ("/" + scope if scope else "")
        if color_by == "precision":
            color = PRECISION_COLORS.get(str(attrs.get("precision")), PRECISION_COLORS["other"])
        else:
            color = KIND_COLORS.get(kind, KIND_COLORS["fusion" if kind.startswith("__") else "other"])
        index[name] = len(nodes)
        nodes.append({"id": str(name), "label": (labels or {}).get(name, str(name)), "scope": scope, "kind": kind,
                      "color": color, "kernel": kind not in ("parameter", "constant"),
                      "figures": _figures(attrs, (sources or {}).get(name))})
    _chunk_scopes(nodes)
    edges = sorted({(index[s], index[d]) for s, d in graph.edges()})
    return {"title": title, "nodes": nodes, "edges": [list(e) for e in edges]}


def _chunk_scopes(nodes: list[dict[str, Any]]) -> None:
    """Split a scope holding more than `CHUNK` nodes of its own into runs of `CHUNK`, in execution order.

    XLA keeps a flat `op_name` for most of a program without named scopes (a 12-layer GPT step puts
    390 kernels under `transpose(jvp())`), and dagre needs about 8 s for 377 of them; runs of 30 keep
    every drawing small. Each run is a scope of its own (`#90-119`) that opens and closes.
    """
    members: dict[str, list[int]] = {}
    for i, node in enumerate(nodes):
        members.setdefault(node["scope"], []).append(i)
    for scope, idx in members.items():
        if len(idx) <= CHUNK:
            continue
        for start in range(0, len(idx), CHUNK):
            run = f"#{start}-{min(start + CHUNK, len(idx)) - 1}"
            for i in idx[start:start + CHUNK]:
                nodes[i]["scope"] = f"{scope}/{run}" if scope else run


def render_page(data: Mapping[str, Any]) -> str:
    """The whole page: the data, both libraries and the viewer script inlined."""
    payload = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    return (_TEMPLATE
            .replace("%TITLE%", html.escape(str(data["title"])))
            .replace("%CYTOSCAPE%", _asset("cytoscape.min.js"))
            .replace("%DAGRE%", _asset("dagre.min.js"))
            .replace("%DATA%", payload)
            .replace("%VIEWER%", _VIEWER_JS))


def hlo_page(report: Any, computation: str | None = None) -> str:
    """The HTML page of one computation's kernel graph (the entry by default)."""
    from irscope.render.table import kernel_source

    comp = computation or report.module.entry_name
    graph = report.graph(comp)
    sources = {r.kernel.name: kernel_source(report, r) for r in report.rows if r.kernel.computation == comp}
    return render_page(page_data(graph, title=f"{report.module.name} · {comp}", sources=sources))


def tflite_page(analysis: Any, label: str, subgraph: int = 0) -> str:
    """The HTML page of one TFLite subgraph, coloured by precision."""
    graph = analysis.graph(subgraph)
    labels = {n: f"{a.get('opcode') or n} #{a['index']}" if "index" in a else str(n) for n, a in graph.nodes(data=True)}
    return render_page(page_data(graph, title=f"{label} · subgraph {subgraph}", labels=labels, color_by="precision"))


_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>%TITLE%</title>
<style>
body{margin:0;font:13px system-ui,sans-serif;display:flex;height:100vh}
#main{flex:1;display:flex;flex-direction:column;min-width:0}
#bar{padding:6px;border-bottom:1px solid #ccc;display:flex;gap:6px;align-items:center}
#bar input{width:22em}#status{color:#555;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
#cy{flex:1}
#side{width:24em;border-left:1px solid #ccc;padding:8px;overflow:auto}
#side table{border-collapse:collapse}#side td{padding:1px 6px;vertical-align:top}
#side td:first-child{color:#555;white-space:nowrap}
.crumb{cursor:pointer;color:#0645ad;text-decoration:underline}
</style></head><body>
<div id="main"><div id="bar"><b>%TITLE%</b>
<input id="search" placeholder="search a kernel (name, op, scope); Enter: next match">
<button id="collapse">collapse all</button><span id="status">loading</span></div>
<div id="cy"></div></div>
<div id="side"><p>Click a scope box to open it, a kernel for its figures. Scroll to zoom, drag to pan.</p></div>
<script>%CYTOSCAPE%</script>
<script>%DAGRE%</script>
<script>const DATA=%DATA%;</script>
<script>%VIEWER%</script>
</body></html>
"""

_VIEWER_JS = r"""
(function(){
const t0 = performance.now();
const N = DATA.nodes, E = DATA.edges, LIMIT = 40;  // boxes drawn at most when opening scopes by itself
const READABLE = 0.8;  // the least zoom the page opens at: 11 px labels stay about 9 px tall
const scopes = N.map(n => n.scope ? n.scope.split('/') : []);
const expanded = new Set();
const status = document.getElementById('status'), side = document.getElementById('side');
let cy = null, matches = [], matchAt = -1, query = '', layoutMs = 0;

function prefix(parts, k) { return parts.slice(0, k).join('/'); }
function rep(i) {  // the box node i is drawn in: its outermost collapsed scope, or itself
  const p = scopes[i];
  for (let k = 1; k <= p.length; k++) { if (!expanded.has(prefix(p, k))) return 's:' + prefix(p, k); }
  return 'n:' + i;
}
function visibleCount() { const s = new Set(); for (let i = 0; i < N.length; i++) s.add(rep(i)); return s.size; }
function autoExpand() {  // open scopes outermost first while the drawing stays small
  for (let depth = 1; depth < 64; depth++) {
    const cands = new Set();
    for (let i = 0; i < N.length; i++) {
      const r = rep(i);
      if (r.startsWith('s:') && r.slice(2).split('/').length === depth) cands.add(r.slice(2));
    }
    if (!cands.size) return;
    let changed = false;
    for (const c of cands) {
      expanded.add(c);
      if (visibleCount() > LIMIT) { expanded.delete(c); } else { changed = true; }
    }
    if (!changed) return;
  }
}
function human(n) { const u = ['B','KiB','MiB','GiB','TiB']; let i = 0; while (n >= 1024 && i < 4) { n /= 1024; i++; } return (i ? n.toFixed(1) : n) + ' ' + u[i]; }

function build() {
  const boxes = new Map(), members = new Map();
  for (let i = 0; i < N.length; i++) {
    const r = rep(i);
    if (!members.has(r)) members.set(r, []);
    members.get(r).push(i);
  }
  for (const [r, list] of members) {
    if (r.startsWith('n:')) {
      const n = N[list[0]];
      boxes.set(r, {id: r, label: n.label, color: n.color, shape: n.kernel ? 'round-rectangle' : 'ellipse'});
    } else {
      const path = r.slice(2), parts = path.split('/');
      // a run of a big scope (`#30-59`) is named with its scope: `(parameters) #30-59`
      const last = parts.length > 1 && parts[parts.length - 1].startsWith('#') ? parts.slice(-2).join(' ') : parts[parts.length - 1];
      const kernels = list.filter(i => N[i].kernel).length;
      boxes.set(r, {id: r, label: last + '\n' + kernels + ' kernel' + (kernels === 1 ? '' : 's') + (list.length > kernels ? ', ' + (list.length - kernels) + ' inputs' : ''),
                    color: '#eeeeee', shape: 'rectangle', scope: path});
    }
  }
  const links = new Set();
  for (const [s, d] of E) { const a = rep(s), b = rep(d); if (a !== b) links.add(a + '\u0000' + b); }
  const g = new dagre.graphlib.Graph();
  g.setGraph({rankdir: 'TB', nodesep: 20, ranksep: 40, ranker: 'longest-path'});
  g.setDefaultEdgeLabel(() => ({}));
  for (const b of boxes.values()) {
    const lines = b.label.split('\n');
    b.w = Math.max(60, 7 * Math.max(...lines.map(l => l.length)) + 16); b.h = 18 * lines.length + 10;
    g.setNode(b.id, {width: b.w, height: b.h});
  }
  // dagre's cost grows with edges times the ranks they span: lay out with each box's three latest
  // producers only (all edges are still drawn), which keeps a dense training step to well under a second.
  const order = new Map(); for (const [r, list] of members) order.set(r, list[0]);
  const into = new Map();
  for (const l of links) { const [a, b] = l.split('\u0000'); if (!into.has(b)) into.set(b, []); into.get(b).push(a); }
  for (const [b, srcs] of into) {
    srcs.sort((x, y) => order.get(y) - order.get(x));
    for (const a of srcs.slice(0, 3)) g.setEdge(a, b);
  }
  const tl = performance.now();
  dagre.layout(g);
  layoutMs = performance.now() - tl;
  const els = [];
  for (const b of boxes.values()) {
    const p = g.node(b.id);
    els.push({group: 'nodes', data: b, position: {x: p.x, y: p.y}});
  }
  let k = 0;
  for (const l of links) { const [a, b] = l.split('\u0000'); els.push({group: 'edges', data: {id: 'e' + (k++), source: a, target: b}}); }
  if (cy) cy.destroy();
  cy = cytoscape({container: document.getElementById('cy'), elements: els, layout: {name: 'preset'},
    wheelSensitivity: 0.3, minZoom: 0.02, maxZoom: 4, textureOnViewport: true, hideEdgesOnViewport: boxes.size > 400,
    style: [
      {selector: 'node', style: {'shape': 'data(shape)', 'background-color': 'data(color)', 'label': 'data(label)',
        'width': 'data(w)', 'height': 'data(h)', 'text-wrap': 'wrap', 'text-valign': 'center', 'font-size': 11,
        'border-width': 1, 'border-color': '#666'}},
      {selector: 'node[scope]', style: {'border-style': 'dashed', 'font-weight': 'bold'}},
      {selector: 'node:selected', style: {'border-width': 4, 'border-color': '#d62728'}},
      {selector: 'edge', style: {'width': 1, 'line-color': '#999', 'target-arrow-color': '#999',
        'target-arrow-shape': 'triangle', 'curve-style': 'bezier', 'arrow-scale': 0.7}}]});
  cy.on('tap', 'node', ev => {
    const d = ev.target.data();
    if (d.scope !== undefined) { expanded.add(d.scope); render(); return; }
    show(+d.id.slice(2));
  });
  return boxes.size;
}
function show(i) {
  const n = N[i];
  const rows = n.figures.map(([k, v]) => '<tr><td>' + esc(k) + '</td><td>' + esc(v) + '</td></tr>').join('');
  const p = scopes[i];
  const crumbs = p.map((s, k) => '<span class="crumb" data-scope="' + esc(prefix(p, k + 1)) + '">' + esc(s) + '</span>').join(' / ');
  side.innerHTML = '<h3 id="selected">' + esc(n.label) + '</h3>' + (p.length ? '<p>collapse: ' + crumbs + '</p>' : '') + '<table id="figures">' + rows + '</table>';
  side.querySelectorAll('.crumb').forEach(el => el.onclick = () => {
    for (const s of [...expanded]) { if (s === el.dataset.scope || s.startsWith(el.dataset.scope + '/')) expanded.delete(s); }
    render();
  });
}
function esc(s) { return String(s).replace(/[&<>"]/g, c => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;'}[c])); }
function render() { const t = performance.now(); const n = build(); return [n, performance.now() - t]; }
function fitReadable() {
  // The whole drawing when it is readable so; else the top of it (the program's start) at a readable
  // zoom, centred on the first rank, rather than a long thin strip of unreadable boxes.
  cy.fit(undefined, 20);
  if (cy.zoom() >= READABLE) return;
  const bb = cy.elements().boundingBox(), w = cy.width();
  const top = cy.nodes().filter(n => n.position('y') - n.height() / 2 <= bb.y1 + 1);
  const mid = top.length ? top.reduce((s, n) => s + n.position('x'), 0) / top.length : (bb.x1 + bb.x2) / 2;
  const x = Math.max(bb.x1 * READABLE - 20, Math.min(mid * READABLE - w / 2, bb.x2 * READABLE - w + 20));
  cy.viewport({zoom: READABLE, pan: {x: -x, y: 20 - bb.y1 * READABLE}});
}
function inView() {  // boxes wholly or partly on screen (the tests read it)
  const e = cy.extent();
  return cy.nodes().filter(n => { const b = n.boundingBox(); return b.x2 > e.x1 && b.x1 < e.x2 && b.y2 > e.y1 && b.y1 < e.y2; }).length;
}
function reveal(i) {  // open the match's scopes only, so the drawing stays small
  const p = scopes[i];
  expanded.clear();
  for (let k = 1; k <= p.length; k++) expanded.add(prefix(p, k));
  render();
  const el = cy.getElementById('n:' + i);
  cy.$(':selected').unselect(); el.select();
  cy.animate({center: {eles: el}, zoom: 1.2}, {duration: 0});
  show(i);
}
function search(q) {
  q = q.trim().toLowerCase();
  if (!q) return null;
  if (q !== query) {
    query = q; matchAt = -1;
    const exact = [], part = [];
    for (let i = 0; i < N.length; i++) {
      const n = N[i];
      if (n.id.toLowerCase() === q || n.label.toLowerCase() === q) exact.push(i);
      else if ((n.id + ' ' + n.label + ' ' + n.scope).toLowerCase().includes(q)) part.push(i);
    }
    matches = exact.concat(part);
  }
  if (!matches.length) { status.textContent = 'no kernel matches ' + JSON.stringify(q); return null; }
  matchAt = (matchAt + 1) % matches.length;
  reveal(matches[matchAt]);
  status.textContent = 'match ' + (matchAt + 1) + ' of ' + matches.length + ': found ' + N[matches[matchAt]].id;
  return N[matches[matchAt]].id;
}
document.getElementById('search').addEventListener('keydown', ev => { if (ev.key === 'Enter') search(ev.target.value); });
document.getElementById('collapse').onclick = () => { expanded.clear(); render(); fitReadable(); };
autoExpand();
const [drawn] = render();
fitReadable();
document.body.dataset.zoom = cy.zoom().toFixed(2);
document.body.dataset.inView = inView();
const loadMs = performance.now() - t0;
const kernels = N.filter(n => n.kernel).length;
status.textContent = kernels + ' kernels, ' + drawn + ' boxes drawn; loaded in ' + loadMs.toFixed(0) + ' ms';
document.body.dataset.loadMs = loadMs.toFixed(0);
document.body.dataset.drawn = drawn;
document.body.dataset.layoutMs = layoutMs.toFixed(0);
const m = /[#&]search=([^&]*)/.exec(location.hash);
if (m) {
  const t = performance.now();
  const found = search(decodeURIComponent(m[1]));
  document.body.dataset.found = found || '';
  document.body.dataset.searchMs = (performance.now() - t).toFixed(0);
  document.body.dataset.drawnAfterSearch = cy.nodes().length;
  document.body.dataset.searchLayoutMs = layoutMs.toFixed(0);
}
document.body.dataset.ready = '1';
})();
"""
