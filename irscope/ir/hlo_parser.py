"""irscope's own HLO text parser: a regex lexer and a recursive-descent parser over its tokens.

It reads what XLA's parser (`xla/hlo/parser/hlo_parser.cc`) reads: the module header and its
attributes (`HloModule name:` too), the FileNames/FunctionNames/FileLocations/StackFrames tables,
computations with or without `ENTRY`, `ROOT` and signatures, every shape form (tuples, tokens,
`b(...)` buffers, `<=N` and `?` dimensions, layouts with tiles), instructions without a result shape
where XLA infers one (`irscope.ir.hlo_shapes`), operands with or without inline shapes, operands
written as nested instructions (`reshape(f32[8] parameter(0))`, named `reshape.anon` as XLA names
them) and as compact get-tuple-elements (`t#1#0`), `literal=` attributes, computations written
inline in `to_apply={...}` (named `_`, `_.1`, ...), the async sugar (`custom-call-start`, kept as
the opcode; no wrapper computation is made), `/*index=N*/` and `//` comments, and every attribute
form. Attribute values are kept as text (see `irscope.ir.attrs` for the decoders); called
computations are resolved. Nesting of shapes, instructions and inline computations is followed up
to `_MAX_NESTING` levels, without recursion for shapes; deeper input is a clean HloParseError.

Not checked (XLA checks them): operand types, attribute values, and shapes against the inferred ones
(irscope keeps the shape as written, where XLA recomputes a few, such as recv-done's).

How it stays fast: one `re.findall` turns a chunk of text into a list of token strings (comments
come back empty and are filtered out). The commonest pieces are single tokens split with string
methods: an instruction's head as XLA prints it (`ROOT %a = f32[4]{0} add(%x, %y)`), an attribute
`, key=value` with a plain value, a signature of array parameters, an array shape with its layout
(decoded once per distinct spelling), and an attribute value in braces (`={...}`, up to five levels
of nesting; deeper ones fall back to token-by-token parsing). The garbage collector is paused while
a text is parsed. Positions are not tracked on the fast path: when an error is found, the chunk is
lexed again with `finditer` to find the offending token's line and column.

Naming follows STYLE.md: `_parse_x` raises `HloParseError`, `_optional_x` returns None on no match.
"""

from __future__ import annotations

import gc
import itertools
import os
import re
from dataclasses import dataclass

from irscope.errors import HloParseError as HloParseError
from irscope.ir.hlo import Computation, Instruction, Module, Shape
from irscope.ir.hlo_shapes import infer_shape

# Possessive quantifiers (Python 3.11+) keep the lexer linear: no backtracking into a run.
_STRING = r'"(?:[^"\\\n]++|\\.)*+"'
_BRACE0 = r'\{(?:[^{}"]++|' + _STRING + r')*+\}'


def _nest(inner: str) -> str:
    return r'\{(?:[^{}"]++|' + _STRING + "|" + inner + r")*+\}"


_BRACE = _nest(_nest(_nest(_nest(_BRACE0))))
# A word (name, opcode, number, keyword) and, glued to it, an array shape's dims and layout: the
# lexer does not know dtype names; the parser decodes a word that ends in `]` or `}` as a shape.
_WORD = r"-?[\w.$%#@+?]++(?:-(?!>)[\w.$%#@+?]*+)*+(?:\[[^\]\n]*+\](?:\{[^{}\n]*+\})?)?"
# The two commonest pieces of XLA's text are single tokens, so that most instructions are a few
# tokens split with string methods: the head of an instruction as XLA prints almost all of them,
# `ROOT %add.1 = f32[4]{0} add(%a, %b)` (a plain name, an array shape without spaces, an opcode,
# operands that are plain names; see `_Parser.parse_head`), and an attribute `, key=value` whose
# value is a word, a string or a braced group followed by `,` or the end of the line. Anything
# else is lexed token by token.
_NAME = r"%?[\w.$@+\-]++"
_HEAD = (r"(?:ROOT )?" + _NAME + r" = \w++\[[^\]\s]*+\](?:\{[^{}\s]*+\})? [\w\-]++\((?:" + _NAME
         + "(?:, " + _NAME + r")*+)?\)")
_ATTR = r", [\w\-]++=(?:[\w.$%@+\-]++|" + _STRING + "|" + _BRACE + r")(?=[ \t\r]*+(?:[,\n]|$))"
# A computation's signature when its parameters are arrays, `(p0: f32[2,3]{1,0}, p1: s32[])`: one token.
_ARRAY = r"\w++\[[^\]\n]*+\](?:\{[^{}\n]*+\})?"
_SIGNATURE = r"\(" + _NAME + ": " + _ARRAY + "(?:, " + _NAME + ": " + _ARRAY + r")*+\)"
_TOKEN = re.compile(
    r"\s*+(?://[^\n]*+|/\*.*?\*/|(" + "|".join([_HEAD, _ATTR, _SIGNATURE, _WORD, _STRING, "=" + _BRACE, r"->|<=|[^\s\w]"]) + "))",
    re.S,
)
_SHAPE_PARTS = re.compile(r"(\w+)\[([^\]]*)\](?:\{([^}]*)\})?")
_SPLIT = re.compile(r"^[ \t]*//[ \t]*-----[ \t]*$", re.M)
_COMPUTATION_END = re.compile(r"^\}[^\n]*$", re.M)
_CHUNK_CHARS = 1 << 20

# Attributes whose value names computations, in the order XLA lists an instruction's called
# computations (a while's body comes before its condition, a select-and-scatter's select first).
_CALL_ATTRS = (
    "calls", "to_apply", "body", "condition", "select", "scatter",
    "true_computation", "false_computation", "branch_computations", "called_computations",
)
_CALL_ATTR_SET = frozenset(_CALL_ATTRS)
# async-update and async-done run the computation their async-start calls; XLA ignores a `calls=`
# written on them (it only checks that it matches), so they call nothing of their own.
_INHERITS_CALLS = frozenset({"async-update", "async-done"})
_SECTIONS = ("FileNames", "FunctionNames", "FileLocations", "StackFrames")
# An attribute value in braces that holds instructions (`to_apply={ x = f32[] parameter(0) ... }`).
_INLINE_COMPUTATION = re.compile(r"\s*(?:ROOT\s+)?%?[\w.\-]+\s*=\s*[^\s=]")
# Deepest nesting of tuple shapes, nested instructions and inline computations the parser follows;
# XLA's own limit is 8,192, but irscope's passes walk shapes recursively, within Python's stack.
_MAX_NESTING = 200
_OPENERS = {"{": "}", "(": ")", "[": "]"}


class _Fail(Exception):
    """Internal: a parse failure at token index `at`; turned into HloParseError with a position."""

    def __init__(self, message: str, at: int, offset: int = 0):
        super().__init__(message)
        # offset: characters into the token (from its end when negative: -1 is its last character)
        self.message, self.at, self.offset = message, at, offset


_shape_cache: dict[str, Shape] = {}


def shape_from_token(tok: str) -> Shape:
    """Decode one array-shape token (`f32[2,<=3]{1,0:T(8,128)}`); results are interned."""
    shape = _shape_cache.get(tok)
    if shape is not None:
        return shape
    m = _SHAPE_PARTS.fullmatch(tok)
    if m is None:
        raise ValueError(f"not an array shape: {tok!r}")
    dtype, dims_text, layout_text = m.groups()
    dims: list[int] = []
    dynamic: list[bool] = []
    for part in dims_text.split(","):
        part = part.strip()
        if not part:
            continue
        if part.startswith("<="):
            dims.append(int(part[2:]))
            dynamic.append(True)
        elif part == "?":
            dims.append(-1)
            dynamic.append(True)
        else:
            dims.append(int(part))
            dynamic.append(False)
    layout = None
    extra = ""
    if layout_text is not None:
        minor, _, extra = layout_text.partition(":")
        layout = tuple(int(x) for x in minor.split(",") if x.strip())
        extra = extra.strip()
    if dtype in ("token", "opaque"):
        shape = Shape(dtype)
    else:
        shape = Shape(dtype, tuple(dims), tuple(dynamic) if any(dynamic) else (), layout, extra)
    _shape_cache[tok] = shape
    return shape


def _shape_token_ok(tok: str) -> bool:
    try:
        shape_from_token(tok)
    except ValueError:
        return False
    return True


def _tuple_shape(elements: list[Shape]) -> Shape:
    return Shape("tuple", tuple_shapes=tuple(elements))


@dataclass
class _ModuleBuilder:
    name: str | None
    attrs: dict[str, str]
    computations: dict[str, Computation]
    entry: str | None
    frames: dict[int, tuple[str, str, int, int | None]]


class _Parser:
    """Parses the tokens of one text (one module, or several one after another)."""

    def __init__(self, text: str, source: str):
        self.text = text
        self.source = source
        self.toks: list[str] = []
        self.chunk_starts: list[tuple[int, int]] = []  # (first token index, text offset)
        self._lex(text)
        self.module = _ModuleBuilder(None, {}, {}, None, {})
        # The computation being parsed: its instructions, their first tokens, and the shapes of
        # the ones `shape_of` has indexed so far (only the rarer forms need a lookup).
        self.insts: list[Instruction] = []
        self.starts: list[int] = []
        self.known: dict[str, Shape] = {}
        self.indexed = 0
        self.nested: list[int] = []  # token index of each enclosing nested instruction or computation
        self.anon_counts: dict[str, int] = {}

    # -- lexing -----------------------------------------------------------------------------
    def _lex(self, text: str) -> None:
        toks = self.toks
        start = 0
        n = len(text)
        while start < n:
            end = n
            if n - start > _CHUNK_CHARS:
                m = _COMPUTATION_END.search(text, start + _CHUNK_CHARS)
                end = m.end() if m else n
            self.chunk_starts.append((len(toks), start))
            toks.extend(filter(None, _TOKEN.findall(text, start, end)))
            start = end

    def fail_position(self, at: int, within: int = 0) -> tuple[int, int, str]:
        """Line, column and source line of token `at`, `within` characters into it (from its end
        when negative), found by lexing its chunk again, with positions."""
        offset = len(self.text)
        for first, chunk_offset in reversed(self.chunk_starts):
            if at >= first:
                k = at - first
                for m in _TOKEN.finditer(self.text, chunk_offset):
                    if m.group(1):
                        if k == 0:
                            offset = m.end(1) + within if within < 0 else m.start(1) + within
                            break
                        k -= 1
                break
        line = self.text.count("\n", 0, offset) + 1
        line_start = self.text.rfind("\n", 0, offset) + 1
        line_end = self.text.find("\n", offset)
        text_line = self.text[line_start: line_end if line_end >= 0 else len(self.text)]
        return line, offset - line_start + 1, text_line

    # -- small pieces ------------------------------------------------------------------------
    def tok(self, i: int) -> str:
        return self.toks[i] if i < len(self.toks) else ""

    def expect(self, i: int, want: str, what: str = "") -> int:
        got = self.tok(i)
        if got != want:
            raise _Fail(f"expected '{want}'{what}, got {_describe(got)}", i)
        return i + 1

    def parse_name(self, i: int, what: str) -> tuple[str, int]:
        tok = self.tok(i)
        if not tok or not _is_word(tok):
            raise _Fail(f"expected {what}, got {_describe(tok)}", i)
        return (tok[1:] if tok[0] == "%" else tok), i + 1

    def is_shape_start(self, i: int) -> bool:
        """Whether a shape starts at token `i`: an array token, `(` of a tuple, or `b(` of a buffer."""
        tok = self.tok(i)
        if tok == "(":
            return True
        if tok == "b":
            return self.tok(i + 1) == "("
        return len(tok) > 2 and tok[-1] in "]}" and tok[0].isalpha() and "[" in tok

    def parse_shape(self, i: int) -> tuple[Shape, int]:
        """An array, token, tuple or buffer shape; nesting is walked with a stack, not recursion."""
        tok = self.tok(i)
        if tok and (tok[-1] == "]" or tok[-1] == "}") and tok[0].isalpha():
            return self.parse_array_shape(i), i + 1
        if tok in ("token", "opaque"):
            return Shape(tok), i + 1
        if tok != "(" and not (tok == "b" and self.tok(i + 1) == "("):
            raise _Fail(f"expected a shape, got {_describe(tok)}", i)
        open_groups: list[tuple[str, list[Shape]]] = []  # ("tuple" | "buffer", elements so far)
        while True:
            tok = self.tok(i)
            if tok == "(" or (tok == "b" and self.tok(i + 1) == "("):
                if len(open_groups) >= _MAX_NESTING:
                    raise _Fail(f"shape nested more than {_MAX_NESTING} levels deep", i)
                if tok == "b":
                    open_groups.append(("buffer", []))
                    i += 2
                    continue
                i += 1
                if self.tok(i) != ")":
                    open_groups.append(("tuple", []))
                    continue
                i += 1
                done = _tuple_shape([])
            elif tok and (tok[-1] == "]" or tok[-1] == "}") and tok[0].isalpha():
                done, i = self.parse_array_shape(i), i + 1
            elif tok in ("token", "opaque"):
                done, i = Shape(tok), i + 1
            else:
                raise _Fail(f"expected a shape, got {_describe(tok)}", i)
            # close every group that `done` completes
            while True:
                if not open_groups:
                    return done, i
                kind, elements = open_groups[-1]
                elements.append(done)
                tok = self.tok(i)
                if kind == "buffer":
                    if tok != ")" or not elements[0].is_array:
                        raise _Fail(f"expected ')' after the array shape of a buffer, got {_describe(tok)}", i)
                    open_groups.pop()
                    done, i = Shape("buffer", tuple_shapes=(elements[0],)), i + 1
                elif tok == ",":
                    i += 1
                    break
                elif tok == ")":
                    open_groups.pop()
                    done, i = _tuple_shape(elements), i + 1
                else:
                    raise _Fail(f"expected ',' or ')' in a tuple shape, got {_describe(tok)}", i)

    def parse_array_shape(self, i: int) -> Shape:
        tok = self.toks[i]
        shape = _shape_cache.get(tok)
        if shape is None:
            try:
                shape = shape_from_token(tok)
            except ValueError:
                raise _Fail(f"malformed shape {tok!r}", i) from None
        return shape

    def skip_balanced(self, i: int) -> int:
        """Index just past the group opened at `i` (`{`, `(` or `[`)."""
        toks = self.toks
        stack = [_OPENERS[toks[i]]]
        j = i + 1
        n = len(toks)
        while j < n:
            t = toks[j]
            if t in _OPENERS:
                stack.append(_OPENERS[t])
            elif t == stack[-1]:
                stack.pop()
                if not stack:
                    return j + 1
            elif t in (")", "]", "}"):
                raise _Fail(f"unbalanced '{t}' (expected '{stack[-1]}')", j)
            j += 1
        raise _Fail(f"unclosed '{toks[i]}'", i)

    def parse_attr_value(self, i: int) -> tuple[str, int]:
        """Value text of an attribute whose `=` is token `i` (or `i` is a `={...}` token)."""
        toks = self.toks
        tok = toks[i] if i < len(toks) else ""
        if len(tok) > 1 and tok[0] == "=":
            return tok[1:], i + 1
        if tok != "=":
            raise _Fail(f"expected '=' after an attribute name, got {_describe(tok)}", i)
        i += 1
        start = i
        # A value is a sequence of items (a word, a string, a bracketed group) joined the ways XLA
        # joins them: `b01f_01io->b01f`, `[2,4]<=[4,2]T(1,0)`, `mesh['a'=2,'b'=4] {'a'}`. Anything else ends it.
        i = self.parse_value_item(i)
        while i < len(toks):
            t = toks[i]
            if t == "->" or t == "<=":
                i = self.parse_value_item(i + 1)
            elif t in _OPENERS and t != "{" and _is_word(toks[i - 1]):
                i = self.skip_balanced(i)
            elif _is_word(t) and toks[i - 1] in (")", "]") and self.tok(i + 1) in ("(", "["):
                i = self.skip_balanced(i + 1)
            elif t == "{" and i == start + 1 and toks[start][-1] == "]" and _is_word(toks[start]):
                i = self.skip_balanced(i)  # replica_groups=mesh['x'=2,'y'=4] {'x'}
            else:
                break
        return "".join(toks[start:i]), i

    def parse_value_item(self, i: int) -> int:
        tok = self.tok(i)
        if tok in _OPENERS:
            return self.skip_balanced(i)
        if tok and (_is_word(tok) or tok[0] == '"' and len(tok) > 1):
            return i + 1
        raise _Fail(f"expected an attribute value, got {_describe(tok)}", i)

    # -- module ------------------------------------------------------------------------------
    def parse_modules(self, default_name: str) -> list[Module]:
        modules: list[Module] = []
        i = 0
        n = len(self.toks)
        while i < n:
            i, module = self.parse_module(i, default_name)
            modules.append(module)
        if not modules:
            raise _Fail("no HLO computation found", 0)
        return modules

    def parse_module(self, i: int, default_name: str) -> tuple[int, Module]:
        b = _ModuleBuilder(None, {}, {}, None, {})
        self.module = b
        toks = self.toks
        if self.tok(i) == "HloModule":
            b.name, i = self.parse_name(i + 1, "a module name")
            if self.tok(i) == ":":  # `HloModule name:` (XLA's lexer reads `name:` as a name)
                i += 1
            while (attr := self.attr_at(i, "a module attribute name")) is not None or self.tok(i) == ",":
                if attr is None:  # `,` without `name=`: a clean error on the name
                    _, j = self.parse_name(i + 1, "a module attribute name")
                    self.parse_attr_value(j)
                    break
                key, b.attrs[key], i = attr
        tables: dict[str, dict[int, str]] = {}
        while self.tok(i) in _SECTIONS:
            section = toks[i]
            i, tables[section] = self.parse_section(i + 1)
        b.frames = _stack_frames(tables)
        computation_starts: dict[str, int] = {}
        while i < len(toks) and toks[i] != "HloModule":
            start = i
            i, comp = self.parse_computation(i)
            if comp.name in b.computations:
                raise _Fail(f"computation '{comp.name}' is defined twice", start)
            b.computations[comp.name] = comp
            computation_starts[comp.name] = start
            if comp.is_entry:
                if b.entry is not None:
                    raise _Fail("more than one ENTRY computation", start)
                b.entry = comp.name
        if not b.computations:
            raise _Fail("expected a computation", i)
        if b.entry is None:
            # As XLA's parser does: without ENTRY, the last computation is the entry.
            last = next(reversed(b.computations))
            b.entry = last
            b.computations[last] = _replace_entry(b.computations[last])
        self.check_calls(b, computation_starts)
        name = b.name if b.name is not None else default_name
        return i, Module(name, b.computations, b.entry, b.attrs, b.frames, self.source)

    def parse_section(self, i: int) -> tuple[int, dict[int, str]]:
        entries: dict[int, str] = {}
        toks = self.toks
        while i < len(toks) and toks[i].isdigit():
            key = int(toks[i])
            i += 1
            if self.tok(i) == "{":
                end = self.skip_balanced(i)
                entries[key] = " ".join(toks[i + 1: end - 1])
                i = end
            elif self.tok(i)[:1] == '"':
                entries[key] = toks[i]
                i += 1
            else:
                raise _Fail(f"expected a string or {{...}} entry, got {_describe(self.tok(i))}", i)
        return i, entries

    def check_calls(self, b: _ModuleBuilder, starts: dict[str, int]) -> None:
        for comp in b.computations.values():
            for inst in comp.instructions:
                for callee in inst.called:
                    if callee not in b.computations:
                        raise _Fail(
                            f"instruction '{inst.name}' calls unknown computation '{callee}'",
                            starts[comp.name],
                        )

    # -- computations ------------------------------------------------------------------------
    def parse_computation(self, i: int) -> tuple[int, Computation]:
        is_entry = False
        if self.tok(i) == "ENTRY":
            is_entry = True
            i += 1
        name, i = self.parse_name(i, "a computation name")
        if self.tok(i) == ":":
            i += 1
        tok = self.tok(i)
        if tok[:1] == "(":  # the signature repeats the parameters' shapes
            i = self.skip_balanced(i) if tok == "(" else i + 1
            if self.tok(i) == "->":
                _, i = self.parse_shape(i + 1)
        if self.tok(i) != "{":
            raise _Fail(f"expected '{{' to open computation '{name}', got {_describe(self.tok(i))}", i)
        i, comp = self.parse_instruction_list(i + 1, name, is_entry)
        while (attr := self.attr_at(i, "a computation attribute")) is not None:
            key, comp.attrs[key], i = attr
        return i, comp

    def parse_instruction_list(self, i: int, name: str, is_entry: bool = False) -> tuple[int, Computation]:
        """The instructions after a computation's `{` up to its `}`; `i` is just past the `{`."""
        instructions: list[Instruction] = []
        starts: list[int] = []
        saved = (self.insts, self.starts, self.known, self.indexed)
        self.insts, self.starts, self.known, self.indexed = instructions, starts, {}, 0
        root_name = None
        toks = self.toks
        n = len(toks)
        try:
            while True:
                if i >= n:
                    raise _Fail(f"computation '{name}' is not closed with '}}'", i - 1, -1)
                if toks[i] == "}":
                    i += 1
                    break
                start = i
                tok = toks[i]
                if " = " in tok and tok[0] in _WORD_START:  # a `_HEAD` token (words hold no spaces)
                    inst, i = self.parse_head(i)
                else:
                    inst, i = self.parse_instruction(i)
                if inst.is_root:
                    if root_name is not None:
                        raise _Fail(f"computation '{name}' has more than one ROOT", start)
                    root_name = inst.name
        finally:
            self.insts, self.starts, self.known, self.indexed = saved
        if not instructions:
            raise _Fail(f"computation '{name}' has no instructions", i - 1)
        by_name = {inst.name: inst for inst in instructions}
        if len(by_name) != len(instructions) or not by_name.keys() >= set(
            itertools.chain.from_iterable(inst.operands for inst in instructions)
        ):
            self.name_error(instructions, starts, name)
        if root_name is None:
            # A computation that marks no ROOT returns its last instruction (as XLA's parser does).
            last = instructions[-1]
            instructions[-1] = _replace_root(last)
            by_name[last.name] = instructions[-1]
            root_name = last.name
        return i, Computation(name, tuple(instructions), root_name, is_entry, {}, by_name)

    @staticmethod
    def name_error(instructions: list[Instruction], starts: list[int], name: str) -> None:
        """Raise for the first instruction defined twice or using an undefined name."""
        by_name: dict[str, Instruction] = {}
        for inst, start in zip(instructions, starts, strict=True):
            if inst.name in by_name:
                raise _Fail(f"instruction '{inst.name}' is defined twice in '{name}'", start)
            by_name[inst.name] = inst
        for inst, start in zip(instructions, starts, strict=True):
            for operand in inst.operands:
                if operand not in by_name:
                    raise _Fail(f"'{inst.name}' uses '{operand}', which is not defined in '{name}'", start)

    def parse_instruction(self, i: int) -> tuple[Instruction, int]:
        """`ROOT? name = shape? opcode(operands), attributes`; appends it (after any nested ones)."""
        toks = self.toks
        n = len(toks)
        ws = _WORD_START
        is_root = False
        start = i
        tok = toks[i]
        if " = " in tok and tok[0] in _WORD_START:  # a `_HEAD` token (words hold no spaces)
            return self.parse_head(i)
        if tok == "ROOT":
            is_root = True
            i += 1
            tok = toks[i] if i < n else ""
        if not tok or tok[0] not in ws:
            raise _Fail(f"expected an instruction, got {_describe(tok)}", i)
        name = tok[1:] if tok[0] == "%" else tok
        i += 1
        if i >= n or toks[i] != "=":
            raise _Fail(f"expected '=' after instruction name '{name}', got {_describe(self.tok(i))}", i)
        return self.parse_rhs(i + 1, name, is_root, start, True)

    def parse_rhs(self, i: int, name: str | None, is_root: bool, start: int,
                  allow_attrs: bool) -> tuple[Instruction, int]:
        """What follows `name =`: the shape (optional where XLA can infer it), opcode, operands,
        attributes. `name` None is a nested instruction (`add(max(x, y), z)`), named as XLA does."""
        toks = self.toks
        n = len(toks)
        ws = _WORD_START
        # result shape: almost always one array-shape token
        tok = toks[i] if i < n else ""
        shape: Shape | None
        if tok and tok[-1] in "]}" and tok[0].isalpha():
            shape = _shape_cache.get(tok)
            if shape is None:
                shape, i = self.parse_shape(i)
            else:
                i += 1
        elif tok and tok[0] in ws and tok not in ("token", "opaque", "b") and self.tok(i + 1) == "(":
            shape = None  # XLA infers it from the operands (see irscope.ir.hlo_shapes)
        else:
            shape, i = self.parse_shape(i)
        opcode_at = i
        opcode = toks[i] if i < n else ""
        if not opcode or opcode[0] not in ws or opcode[0] == "%":
            raise _Fail(f"expected an opcode, got {_describe(opcode)}", i)
        i += 1
        if i >= n or toks[i] != "(":
            raise _Fail(f"expected '(' after opcode '{opcode}', got {_describe(self.tok(i))}", i)
        literal = None
        operands: list[str] = []
        if opcode == "constant" or opcode == "parameter":
            end = self.skip_balanced(i)
            literal = "".join(toks[i + 1: end - 1]) if opcode == "parameter" else " ".join(toks[i + 1: end - 1])
            if opcode == "parameter" and not literal.isdigit():
                raise _Fail(f"parameter number must be an integer, got {literal!r}", i + 1)
            i = end
        else:
            i += 1
            if i < n and toks[i] == ")":
                i += 1
            else:
                while True:
                    tok = toks[i] if i < n else ""
                    operand_at = i
                    if (tok == "(" or (tok and tok[-1] in "]}" and tok[0].isalpha())
                            or (tok == "b" and self.tok(i + 1) == "(")):
                        _, i = self.parse_shape(i)  # inline operand type
                        tok = toks[i] if i < n else ""
                    if not tok or tok[0] not in ws:
                        raise _Fail(f"expected an operand name, got {_describe(tok)}", i)
                    nxt = toks[i + 1] if i + 1 < n else ""
                    if nxt == "(":  # a nested instruction: `reshape(f32[1,8] parameter(0))`
                        if len(self.nested) >= _MAX_NESTING:
                            raise _Fail(f"instructions nested more than {_MAX_NESTING} levels deep", i)
                        self.nested.append(i)
                        inner, i = self.parse_rhs(operand_at, None, False, operand_at, False)
                        self.nested.pop()
                        operands.append(inner.name)
                    elif "#" in tok:  # `%t#1#0`: the compact form of get-tuple-element
                        operands.append(self.compact_gte(tok, i))
                        i += 1
                    else:
                        operands.append(tok[1:] if tok[0] == "%" else tok)
                        i += 1
                    tok = toks[i] if i < n else ""
                    if tok == ",":
                        i += 1
                    elif tok == ")":
                        i += 1
                        break
                    else:
                        raise _Fail(f"expected ',' or ')' after an operand, got {_describe(tok)}", i)
        attrs: dict[str, str] = {}
        called: tuple[str, ...] = ()
        if allow_attrs and i < n and toks[i][0] == ",":
            attrs, called, i = self.parse_attrs(i, opcode)
        if shape is None:
            shape = self.infer_shape(opcode, operands, attrs, called, opcode_at)
        if name is None:
            name = self.anon_name(opcode)
        inst = Instruction(name, opcode, shape, tuple(operands), attrs, called, is_root, literal)
        self.insts.append(inst)
        self.starts.append(start)
        return inst, i

    def parse_head(self, i: int) -> tuple[Instruction, int]:
        """An instruction whose head (up to its operands' `)`) is one `_HEAD` token, then its attributes."""
        toks = self.toks
        start = i
        head = toks[i]
        lhs, _, rhs = head.partition(" = ")
        is_root = lhs[:5] == "ROOT "
        if is_root:
            lhs = lhs[5:]
        name = lhs[1:] if lhs[0] == "%" else lhs
        shape_text, _, call = rhs.partition(" ")
        shape = _shape_cache.get(shape_text)
        if shape is None:
            try:
                shape = shape_from_token(shape_text)
            except ValueError:
                raise _Fail(f"malformed shape {shape_text!r}", i, head.index(" = ") + 3) from None
        opcode, _, args = call.partition("(")
        args = args[:-1]
        literal = None
        operands: tuple[str, ...] = ()
        if opcode == "parameter" or opcode == "constant":
            literal = args
            if opcode == "parameter" and not args.isdigit():
                raise _Fail(f"parameter number must be an integer, got {args!r}", i, head.index("(") + 1)
        elif args:
            operands = tuple(args.replace("%", "").split(", "))  # `%` is only ever the sigil here
        i += 1
        attrs: dict[str, str] = {}
        called: tuple[str, ...] = ()
        tok = toks[i] if i < len(toks) else ""
        while tok[:2] == ", ":  # the common case: every attribute is one token
            key, _, value = tok[2:].partition("=")
            if key in _CALL_ATTR_SET:
                attrs, called, i = self.parse_attrs(i, opcode, attrs)
                break
            attrs[key] = value
            i += 1
            tok = toks[i] if i < len(toks) else ""
        else:
            if tok == ",":
                attrs, called, i = self.parse_attrs(i, opcode, attrs)
        inst = _new_instruction(Instruction)
        _set_name(inst, name)
        _set_opcode(inst, opcode)
        _set_shape(inst, shape)
        _set_operands(inst, operands)
        _set_attrs(inst, attrs)
        _set_called(inst, called)
        _set_is_root(inst, is_root)
        _set_literal(inst, literal)
        _set_line(inst, 0)
        self.insts.append(inst)
        self.starts.append(start)
        return inst, i

    def parse_attrs(self, i: int, opcode: str, attrs: dict[str, str] | None = None,
                    ) -> tuple[dict[str, str], tuple[str, ...], int]:
        """An instruction's `, key=value` attributes from token `i` (added to `attrs`), and the
        computations they call."""
        toks = self.toks
        n = len(toks)
        attrs = {} if attrs is None else attrs
        has_calls = not _CALL_ATTR_SET.isdisjoint(attrs)
        while i < n:
            tok = toks[i]
            if tok[:2] == ", ":  # the whole attribute is one token
                key, _, value = tok[2:].partition("=")
                i += 1
                if key in _CALL_ATTR_SET:
                    has_calls = True
                    if value[:1] == "{" and _INLINE_COMPUTATION.match(value, 1):
                        value = self.parse_inline_computation(value[1:-1], key, i - 1)
                attrs[key] = value
            elif tok == "," and i + 2 < n and toks[i + 2][:1] == "=":
                key = toks[i + 1]
                if key[0] not in _WORD_START:
                    raise _Fail(f"expected an attribute name, got {_describe(key)}", i + 1)
                tok = toks[i + 2]
                if key in _CALL_ATTR_SET:
                    has_calls = True
                    if len(tok) > 1 or self.tok(i + 3) == "{":
                        attrs[key], i = self.parse_call_value(i + 2, key)
                        continue
                if len(tok) > 1:  # `={...}`: one token
                    value, i = tok[1:], i + 3
                elif key == "literal":
                    value, i = self.parse_literal_value(i + 3)
                else:
                    value, i = self.parse_attr_value(i + 2)
                attrs[key] = value
            else:
                break
        called = _called(attrs) if has_calls and opcode not in _INHERITS_CALLS else ()
        return attrs, called, i

    def attr_at(self, i: int, what: str) -> tuple[str, str, int] | None:
        """A module or computation attribute at token `i` (`, key=value`), or None if none is there."""
        tok = self.tok(i)
        if tok[:2] == ", ":
            key, _, value = tok[2:].partition("=")
            return key, value, i + 1
        if tok == "," and i + 2 < len(self.toks) and self.toks[i + 2][:1] == "=":
            key, j = self.parse_name(i + 1, what)
            value, i = self.parse_attr_value(j)
            return key, value, i
        return None

    # -- the rarer forms -----------------------------------------------------------------------
    def shape_of(self, name: str) -> Shape | None:
        """Shape of an instruction already parsed in the current computation (None if none is)."""
        shape = self.known.get(name)
        if shape is None:
            insts = self.insts
            for k in range(self.indexed, len(insts)):
                self.known[insts[k].name] = insts[k].shape
            self.indexed = len(insts)
            shape = self.known.get(name)
        return shape

    def infer_shape(self, opcode: str, operands: list[str], attrs: dict[str, str], called: tuple[str, ...],
                    at: int) -> Shape:
        shapes = []
        for operand in operands:
            shape = self.shape_of(operand)
            if shape is None:
                raise _Fail(f"cannot infer the result shape of '{opcode}': operand '{operand}' is not "
                            "defined before it", at)
            shapes.append(shape)
        roots: dict[str, Shape] = {}
        for key in _CALL_ATTRS:
            if key in attrs:
                first = _called({key: attrs[key]})[:1]
                comp = self.module.computations.get(first[0]) if first else None
                if comp is not None:
                    roots[key] = comp.root.shape
        try:
            return infer_shape(opcode, shapes, attrs, roots)
        except ValueError as err:
            raise _Fail(str(err), at) from None

    def anon_name(self, opcode: str) -> str:
        """`add.anon`, `add.anon.1`, ...: XLA's names for nested instructions."""
        base = f"{opcode}.anon"
        count = self.anon_counts.get(base, 0)
        self.anon_counts[base] = count + 1
        return base if count == 0 else f"{base}.{count}"

    def compact_gte(self, tok: str, at: int) -> str:
        """`%t#1#0` is get-tuple-element 0 of get-tuple-element 1 of `t`; each is made once."""
        base, *indices = (tok[1:] if tok[0] == "%" else tok).split("#")
        current = base
        for index in indices:
            if not index.isdigit():
                raise _Fail(f"expected a tuple index after '#', got {index!r} in {tok!r}", at)
            name = f"{current}#{index}"
            if self.shape_of(name) is None:
                source = self.shape_of(current)
                if source is None or not source.is_tuple or int(index) >= len(source.tuple_shapes):
                    raise _Fail(f"'{tok}' needs '{current}' to be a tuple with element {index}", at)
                gte = Instruction(name, "get-tuple-element", source.tuple_shapes[int(index)], (current,),
                                  {"index": index})
                self.insts.append(gte)
                self.starts.append(at)
            current = name
        return current

    def parse_call_value(self, i: int, key: str) -> tuple[str, int]:
        """A called-computation attribute: a name, `{names}`, or a computation written inline
        (`to_apply={ x = ... }`), which becomes a computation of the module named `_` (uniqued)."""
        tok = self.toks[i]
        if tok == "=":
            end = self.skip_balanced(i + 1)
            body, after = " ".join(self.toks[i + 2: end - 1]), end
        else:
            body, after = tok[2:-1], i + 1
        if not _INLINE_COMPUTATION.match(body):
            return self.parse_attr_value(i)
        return self.parse_inline_computation(body, key, i), after

    def parse_inline_computation(self, body: str, key: str, at: int) -> str:
        """The instructions of a computation written inline: parsed as a computation of the module
        named `_` (uniqued, as XLA names them); returns that name."""
        if len(self.nested) >= _MAX_NESTING:
            raise _Fail(f"computations nested more than {_MAX_NESTING} levels deep", at)
        sub = _Parser(body + " }", self.source)
        sub.module, sub.nested, sub.anon_counts = self.module, [*self.nested, at], self.anon_counts
        name = _unique(self.module.computations, "_")
        try:
            _, comp = sub.parse_instruction_list(0, name)
        except _Fail as fail:
            raise _Fail(f"in the computation written inline in '{key}': {fail.message}", at) from None
        self.module.computations[name] = comp
        return name

    def parse_literal_value(self, i: int) -> tuple[str, int]:
        """`literal=s32[2]{0} {1, 2}`: a shape, then a literal (a number or word, or a braced group)."""
        shape_at = i
        if self.tok(i) != "(":  # a tuple literal `( s32[2] {1, 2}, pred[] true )` has no outer shape
            _, i = self.parse_shape(i)
        tok = self.tok(i)
        if tok in _OPENERS:
            end = self.skip_balanced(i)
        elif tok and (_is_word(tok) or tok[0] == '"'):
            end = i + 1
        else:
            raise _Fail(f"expected a literal after its shape, got {_describe(tok)}", i)
        return " ".join(self.toks[shape_at:end]), end


# Building an Instruction through its slots directly takes half the time of the frozen dataclass's
# __init__ (which calls object.__setattr__ once per field); the parser builds 300,000 of them for a
# large module. Every field is set, so the result is the same as Instruction(...).
_new_instruction = object.__new__
(_set_name, _set_opcode, _set_shape, _set_operands, _set_attrs, _set_called, _set_is_root, _set_literal,
 _set_line) = (Instruction.__dict__[f].__set__ for f in (
    "name", "opcode", "shape", "operands", "attrs", "called", "is_root", "literal", "line"))


def _called(attrs: dict[str, str]) -> tuple[str, ...]:
    names: list[str] = []
    for key in _CALL_ATTRS:
        value = attrs.get(key)
        if value is None:
            continue
        if value.startswith("{"):
            names.extend(p.strip().lstrip("%") for p in value[1:-1].split(",") if p.strip())
        else:
            names.append(value.lstrip("%"))
    return tuple(names)


def _unique(taken: dict[str, object], base: str) -> str:
    """`base`, or `base.1`, `base.2`, ... : the first not in `taken` (as XLA's NameUniquer does)."""
    if base not in taken:
        return base
    k = 1
    while f"{base}.{k}" in taken:
        k += 1
    return f"{base}.{k}"


def _replace_root(inst: Instruction) -> Instruction:
    return Instruction(inst.name, inst.opcode, inst.shape, inst.operands, inst.attrs, inst.called, True,
                       inst.literal, inst.line)


def _replace_entry(comp: Computation) -> Computation:
    return Computation(comp.name, comp.instructions, comp.root_name, True, comp.attrs, comp.by_name)


def _stack_frames(tables: dict[str, dict[int, str]]) -> dict[int, tuple[str, str, int, int | None]]:
    """stack_frame_id -> (file, function, line, parent id) from the four debug-info tables."""
    if "StackFrames" not in tables:
        return {}
    files = {k: v.strip('"') for k, v in tables.get("FileNames", {}).items()}
    funcs = {k: v.strip('"') for k, v in tables.get("FunctionNames", {}).items()}
    locations: dict[int, dict[str, int]] = {}
    for k, v in tables.get("FileLocations", {}).items():
        locations[k] = {key: int(val) for key, val in re.findall(r"(\w+) = (-?\d+)", v)}
    frames: dict[int, tuple[str, str, int, int | None]] = {}
    for k, v in tables["StackFrames"].items():
        fields = {key: int(val) for key, val in re.findall(r"(\w+) = (-?\d+)", v)}
        loc = locations.get(fields.get("file_location_id", -1), {})
        parent = fields.get("parent_frame_id")
        frames[k] = (
            files.get(loc.get("file_name_id", -1), "?"),
            funcs.get(loc.get("function_name_id", -1), "?"),
            loc.get("line", 0),
            parent if parent and parent != k else None,
        )
    return frames


_WORD_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_%.$#@-?")


def _is_word(tok: str) -> bool:
    return tok[0] in _WORD_START  # XLA names, opcodes and numbers are ASCII


def _describe(tok: str) -> str:
    if not tok:
        return "end of input"
    if tok[0] == '"' and (len(tok) == 1 or tok[-1] != '"'):
        return "an unterminated string"
    return repr(tok if len(tok) <= 40 else tok[:37] + "...")


def _split_modules(text: str) -> list[tuple[int, str]]:
    """Pieces of a file with several modules split by `// -----` lines, with their line offsets."""
    if "-----" not in text:
        return [(0, text)] if _TOKEN_PRESENT.search(text) else []
    pieces: list[tuple[int, str]] = []
    last = 0
    for m in _SPLIT.finditer(text):
        pieces.append((last, text[last:m.start()]))
        last = m.end()
    pieces.append((last, text[last:]))
    return [(text.count("\n", 0, start), piece) for start, piece in pieces if _TOKEN_PRESENT.search(piece)]


_TOKEN_PRESENT = re.compile(r"^[ \t]*(?!//)\S", re.M)
split_modules = _split_modules  # public: `irscope diff --module N` splits a file the same way


def parse_modules(text: str, source: str = "<string>") -> list[Module]:
    """Every module of an HLO text: one, several after one another, or pieces split by `// -----`.

    Raises HloParseError (with the line and column in the whole text) on malformed input.
    """
    default = _default_name(source)
    modules: list[Module] = []
    # A large module is millions of new objects, none of them garbage: the collector's passes over
    # them (each a walk of everything allocated so far) cost a third of the parse, so it waits.
    collecting = gc.isenabled()
    gc.disable()
    try:
        for line_offset, piece in _split_modules(text):
            parser = _Parser(piece, source)
            try:
                modules.extend(parser.parse_modules(default))
            except _Fail as fail:
                line, col, text_line = parser.fail_position(fail.at, fail.offset)
                raise HloParseError(fail.message, source, line + line_offset, col, text_line) from None
    finally:
        if collecting:
            if not gc.get_freeze_count():
                # Then hand them to the oldest generation at once (freeze + unfreeze splices lists):
                # else the next young collection walks them all, and the next middle one again
                # (0.3 s of the 48-layer report). Garbage made before the parse waits for a full one.
                gc.freeze()
                gc.unfreeze()
            gc.enable()
    if not modules:
        raise HloParseError("no HLO module found (the text has no computations)", source)
    return modules


def parse_module(text: str, source: str = "<string>") -> Module:
    """The one module of an HLO text (the first, if the text holds several: see `parse_modules`)."""
    return parse_modules(text, source)[0]


def parse_file(path: str | os.PathLike[str]) -> list[Module]:
    """Every module of an HLO text file."""
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    return parse_modules(text, os.fspath(path))


def _default_name(source: str) -> str:
    base = os.path.basename(source)
    stem = base.split(".")[0] if base and not base.startswith("<") else ""
    return stem or "module"
