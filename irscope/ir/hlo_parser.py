"""irscope's own HLO text parser: a regex lexer and a recursive-descent parser over its tokens.

It reads what XLA prints (`HloModule::ToString()`, `--xla_dump_to` files, the text in XLA's tests):
the module header and its attributes, the FileNames/FunctionNames/FileLocations/StackFrames tables,
computations with or without `ENTRY`, `ROOT` and signatures, every shape form, operands with or
without inline shapes, `/*index=N*/` and `//` comments, and every attribute form. Attribute values
are kept as text (see `irscope.ir.attrs` for the decoders); called computations are resolved.

How it stays fast: one `re.findall` turns a chunk of text into a list of token strings (comments
come back empty and are filtered out), an array shape with its layout is one token (decoded once per
distinct spelling), and an attribute value in braces is one token (`={...}`, up to five levels of
nesting; deeper ones fall back to token-by-token parsing). Positions are not tracked on the fast
path: when an error is found, the chunk is lexed again with `finditer` to find the offending token's
line and column.

Naming follows STYLE.md: `_parse_x` raises `HloParseError`, `_optional_x` returns None on no match.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from irscope.errors import HloParseError as HloParseError
from irscope.ir.hlo import Computation, Instruction, Module, Shape

# Possessive quantifiers (Python 3.11+) keep the lexer linear: no backtracking into a run.
_STRING = r'"(?:[^"\\\n]++|\\.)*+"'
_BRACE0 = r'\{(?:[^{}"]++|' + _STRING + r')*+\}'


def _nest(inner: str) -> str:
    return r'\{(?:[^{}"]++|' + _STRING + "|" + inner + r")*+\}"


_BRACE = _nest(_nest(_nest(_nest(_BRACE0))))
# A word (name, opcode, number, keyword) and, glued to it, an array shape's dims and layout: the
# lexer does not know dtype names; the parser decodes a word that ends in `]` or `}` as a shape.
_WORD = r"-?[\w.$%#@+]++(?:-(?!>)[\w.$%#@+]*+)*+(?:\[[^\]\n]*+\](?:\{[^{}\n]*+\})?)?"
_TOKEN = re.compile(
    r"\s*+(?://[^\n]*+|/\*.*?\*/|(" + "|".join([_WORD, _STRING, "=" + _BRACE, r"->|<=|[^\s\w]"]) + "))",
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
_SECTIONS = ("FileNames", "FunctionNames", "FileLocations", "StackFrames")
_OPENERS = {"{": "}", "(": ")", "[": "]"}


class _Fail(Exception):
    """Internal: a parse failure at token index `at`; turned into HloParseError with a position."""

    def __init__(self, message: str, at: int):
        super().__init__(message)
        self.message, self.at = message, at


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

    def fail_position(self, at: int) -> tuple[int, int, str]:
        """Line, column and source line of token `at` (lexes its chunk again, with positions)."""
        offset = len(self.text)
        for first, chunk_offset in reversed(self.chunk_starts):
            if at >= first:
                k = at - first
                for m in _TOKEN.finditer(self.text, chunk_offset):
                    if m.group(1):
                        if k == 0:
                            offset = m.start(1)
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

    def parse_shape(self, i: int) -> tuple[Shape, int]:
        tok = self.tok(i)
        if tok == "(":
            elements: list[Shape] = []
            i += 1
            if self.tok(i) == ")":
                return _tuple_shape(elements), i + 1
            while True:
                sub, i = self.parse_shape(i)
                elements.append(sub)
                tok = self.tok(i)
                if tok == ",":
                    i += 1
                elif tok == ")":
                    return _tuple_shape(elements), i + 1
                else:
                    raise _Fail(f"expected ',' or ')' in a tuple shape, got {_describe(tok)}", i)
        if tok and (tok[-1] == "]" or tok[-1] == "}") and tok[0].isalpha():
            try:
                return shape_from_token(tok), i + 1
            except ValueError:
                raise _Fail(f"malformed shape {tok!r}", i) from None
        if tok in ("token", "opaque"):
            return Shape(tok), i + 1
        raise _Fail(f"expected a shape, got {_describe(tok)}", i)

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
        toks = self.toks
        if self.tok(i) == "HloModule":
            b.name, i = self.parse_name(i + 1, "a module name")
            while self.tok(i) == ",":
                key, i = self.parse_name(i + 1, "a module attribute name")
                b.attrs[key], i = self.parse_attr_value(i)
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
        if self.tok(i) == "(":
            i = self.skip_balanced(i)  # the signature repeats the parameters' shapes
            if self.tok(i) == "->":
                _, i = self.parse_shape(i + 1)
        if self.tok(i) != "{":
            raise _Fail(f"expected '{{' to open computation '{name}', got {_describe(self.tok(i))}", i)
        i += 1
        instructions: list[Instruction] = []
        starts: list[int] = []
        root_name = None
        toks = self.toks
        n = len(toks)
        while True:
            if i >= n:
                raise _Fail(f"computation '{name}' is not closed with '}}'", i - 1)
            if toks[i] == "}":
                i += 1
                break
            starts.append(i)
            inst, i = self.parse_instruction(i)
            if inst.is_root:
                if root_name is not None:
                    raise _Fail(f"computation '{name}' has more than one ROOT", starts[-1])
                root_name = inst.name
            instructions.append(inst)
        if not instructions:
            raise _Fail(f"computation '{name}' has no instructions", i - 1)
        attrs: dict[str, str] = {}
        while self.tok(i) == "," and i + 2 < n and toks[i + 2][:1] == "=":
            key, j = self.parse_name(i + 1, "a computation attribute")
            attrs[key], i = self.parse_attr_value(j)
        by_name: dict[str, Instruction] = {}
        for inst, start in zip(instructions, starts, strict=True):
            if inst.name in by_name:
                raise _Fail(f"instruction '{inst.name}' is defined twice in '{name}'", start)
            by_name[inst.name] = inst
        for inst, start in zip(instructions, starts, strict=True):
            for operand in inst.operands:
                if operand not in by_name:
                    raise _Fail(f"'{inst.name}' uses '{operand}', which is not defined in '{name}'", start)
        if root_name is None:
            # A computation that marks no ROOT returns its last instruction (as XLA's parser does).
            last = instructions[-1]
            instructions[-1] = _replace_root(last)
            by_name[last.name] = instructions[-1]
            root_name = last.name
        return i, Computation(name, tuple(instructions), root_name, is_entry, attrs, by_name)

    def parse_instruction(self, i: int) -> tuple[Instruction, int]:
        toks = self.toks
        n = len(toks)
        ws = _WORD_START
        is_root = False
        tok = toks[i]
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
        i += 1
        # result shape: almost always one array-shape token
        tok = toks[i] if i < n else ""
        if tok and tok[-1] in "]}" and tok[0].isalpha():
            shape = _shape_cache.get(tok)
            if shape is None:
                shape, i = self.parse_shape(i)
            else:
                i += 1
        else:
            shape, i = self.parse_shape(i)
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
                    if tok == "(" or (tok and tok[-1] in "]}" and tok[0].isalpha()):
                        _, i = self.parse_shape(i)  # inline operand type
                        tok = toks[i] if i < n else ""
                    if not tok or tok[0] not in ws:
                        raise _Fail(f"expected an operand name, got {_describe(tok)}", i)
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
        while i + 2 < n and toks[i] == "," and toks[i + 2][:1] == "=":
            key = toks[i + 1]
            if key[0] not in ws:
                raise _Fail(f"expected an attribute name, got {_describe(key)}", i + 1)
            value, i = self.parse_attr_value(i + 2)
            attrs[key] = value
            if key in _CALL_ATTR_SET:
                called = _called(attrs)
        inst = Instruction(name, opcode, shape, tuple(operands), attrs, called, is_root, literal)
        return inst, i


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


_WORD_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_%.$#@-")


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
    for line_offset, piece in _split_modules(text):
        parser = _Parser(piece, source)
        try:
            modules.extend(parser.parse_modules(default))
        except _Fail as fail:
            line, col, text_line = parser.fail_position(fail.at)
            raise HloParseError(fail.message, source, line + line_offset, col, text_line) from None
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
