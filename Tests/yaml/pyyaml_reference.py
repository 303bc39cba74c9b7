#!/usr/bin/env python3
"""The PyYAML side of the differential YAML test (Tests/SchedulerTests/PyYAMLDifferentialTests.swift).

What multirun's config reader must make of a YAML file is what PyYAML's pure-Python
`yaml.safe_load` makes of it, with the deliberate differences of docs/YAML-DIFFERENCES.md
applied by `ReferenceLoader` and `canonical` below (and nothing else changed):

- keys stay text: a scalar mapping key is its node's text (`1:` is "1", `on:` is "on"),
  after PyYAML's flatten_mapping, so merge keys keep PyYAML's semantics and key order;
- dates stay text: a timestamp is its node's text (PyYAML still refuses an impossible
  date such as 2001-02-30, and so must the reader);
- duplicate keys (by key text) are refused: "DUPKEY" when that is the file's only problem;
- complex keys (`? `), an alias inside the node it names (recursive data), integers
  outside 64 bits, nesting deeper than 256 lists and mappings, !!binary/!!set/!!omap/
  !!pairs values and NEL/LS/PS characters are refused (`ERROR Refused-<what>`).

Each document becomes one line of text, the same text `canonical` in the Swift test
prints: `null`, `true`, `i42`, `f<IEEE bits in hex>`, `"text"` (printable ASCII but `"`
and `\\` as is, every other UTF-8 byte as `\\hh`), `[a,b]`, `{"k":v,...}` in key order; or
`ERROR <PyYAML's exception>`, or `DUPKEY`.

    pyyaml_reference.py --out DIR [--seed S] [--count N] [--refused M] [--merge-mutants] [FILE...]

writes N generated documents meant to load, M meant to be refused and the hand-written
EDGES to DIR/gen/NNNNN.yaml (seeded: the same every run), and DIR/expected.tsv with one
line per FILE and per generated document:
`file<TAB>PATH<TAB>EXPECTED` and `gen<TAB>INDEX<TAB>INTENT<TAB>FEATURES<TAB>EXPECTED`;
INTENT (load, refuse, dupkey) is what the generator meant, so a document PyYAML reads
otherwise is a bug of the generator, not of the reader. It prints how many
documents exercise each feature. Without --out it prints the FILE lines only.
"""

import math
import multiprocessing
import os
import random
import signal
import struct
import sys
import textwrap

import yaml
from yaml.nodes import MappingNode, ScalarNode


class Refused(Exception):
    """A deliberate difference: the reader refuses what PyYAML reads."""


class DuplicateKey(Exception):
    pass


class ReferenceLoader(yaml.SafeLoader):
    """yaml.SafeLoader (pure Python), changed only where docs/YAML-DIFFERENCES.md says."""

    check_duplicates = True

    def __init__(self, stream):
        super().__init__(stream)
        self.checked_nodes = set()

    # Complex keys (`? key`) are refused.
    def fetch_key(self):
        raise Refused("ComplexKey")

    def flatten_mapping(self, node):
        # A node's own keys are checked once, before its merges are flattened into it
        # (flatten_mapping puts the merged pairs in front of the node's own).
        if self.check_duplicates and id(node) not in self.checked_nodes:
            self.checked_nodes.add(id(node))
            seen = set()
            for key_node, _ in node.value:
                if isinstance(key_node, ScalarNode):
                    if key_node.value in seen:
                        raise DuplicateKey(key_node.value)
                    seen.add(key_node.value)
        super().flatten_mapping(node)

    def construct_mapping(self, node, deep=False):
        if not isinstance(node, MappingNode):
            return super().construct_mapping(node, deep=deep)
        self.flatten_mapping(node)
        mapping = {}
        for key_node, value_node in node.value:
            # Constructed all the same, so a key PyYAML refuses (a bad tag) is refused.
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key_node, ScalarNode):
                key = key_node.value
            elif not isinstance(key, (str, int, float, bool, type(None))):
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping", node.start_mark, "found unhashable key", key_node.start_mark)
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping

    def construct_yaml_map(self, node):
        data = {}
        yield data
        data.update(self.construct_mapping(node))

    def construct_yaml_timestamp(self, node):
        super().construct_yaml_timestamp(node)  # PyYAML refuses impossible dates
        return self.construct_scalar(node)


ReferenceLoader.add_constructor("tag:yaml.org,2002:map", ReferenceLoader.construct_yaml_map)
ReferenceLoader.add_constructor("tag:yaml.org,2002:timestamp", ReferenceLoader.construct_yaml_timestamp)


class NoDuplicateCheckLoader(ReferenceLoader):
    check_duplicates = False


MAX_DEPTH = 256


def text(s):
    return '"' + "".join(chr(b) if 0x20 <= b < 0x7F and b not in (0x22, 0x5C) else "\\%02x" % b
                         for b in s.encode("utf-8")) + '"'


def canonical(value, depth=0, path=()):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        if not -(1 << 63) <= value < (1 << 63):
            raise Refused("BigInteger")
        return "i%d" % value
    if isinstance(value, float):
        if math.isnan(value):
            value = float("nan")
        return "f" + struct.pack(">d", value).hex()
    if isinstance(value, str):
        return text(value)
    if isinstance(value, (list, dict)):
        if depth + 1 > MAX_DEPTH:
            raise Refused("TooDeep")
        if any(value is p for p in path):
            raise Refused("RecursiveAlias")
        path = path + (value,)
        if isinstance(value, list):
            return "[" + ",".join(canonical(x, depth + 1, path) for x in value) + "]"
        return "{" + ",".join(text(k) + ":" + canonical(x, depth + 1, path) for k, x in value.items()) + "}"
    raise Refused("Unsupported-" + type(value).__name__)


def load(data, loader):
    return canonical(yaml.load(data, Loader=loader))


def reference(data):
    """What the reader must make of `data` (bytes, read exactly as PyYAML reads a file)."""
    try:
        decoded = data.decode("utf-16") if data[:2] in (b"\xff\xfe", b"\xfe\xff") else data.decode("utf-8", "ignore")
        if any(c in decoded for c in "\x85\u2028\u2029"):
            return "ERROR Refused-NEL-LS-PS"
        return load(data, ReferenceLoader)
    except DuplicateKey:
        try:
            load(data, NoDuplicateCheckLoader)
            return "DUPKEY"
        except Refused as e:
            return "ERROR Refused-" + str(e)
        except Exception as e:
            return "ERROR " + type(e).__name__
    except Refused as e:
        return "ERROR Refused-" + str(e)
    except Exception as e:  # RecursionError included
        return "ERROR " + type(e).__name__


# MARK: - The generated corpus

WORDS = ["alpha", "beta", "x", "y2", "lr", "0.5", "1e-4", "yes", "null", "a.b", "x-y", "path/to/f", "v1.2", "n_layers",
         "caf\u00e9", "\u65e5\u672c", "a:b", "50%", "a#b", "(x)", "1", "on", "~", "-x", "a,b", "[x]", "{y}", "it's", 'say"hi"']
FLOW_WORDS = ["alpha", "beta", "x", "y2", "lr", "0.5", "1e-4", "yes", "null", "a.b", "x-y", "path/to/f", "v1.2", "caf\u00e9",
              "1", "on", "~", "-x", "a#b", "it's", "12"]
OLD_PLAIN = ["1", "-3", "+4", "0", "017", "0x1A", "0b11", "1_000", "2:30", "3.14", "-0.5", "1.", ".25", "1.0e+5", "2.5E-3",
             "1e5", ".inf", "-.inf", "yes", "No", "on", "OFF", "true", "False", "y", "n", "null", "~", "Null", "hello",
             "hello world", "a-b_c", "x.y", "path/to/file.yaml", "v1.2.3", "0.1.2", "1_2.5", "12e", "a:b", "-x", "caf\u00e9",
             "x#y", "1,000"]
OLD_QUOTED = ["'yes'", '"1"', "'a: b'", '"#c"', '"tab\\tx"', "'it''s'", '"\\u00e9"', "''", '""']
KEYS = ["alpha", "beta", "gamma", "delta_1", "eps-2", "zeta.z", "eta", "theta", "iota", "kappa", "lr", "model", "data",
        "seed", "optimizer", "batch_size", "name", "steps", "note", "paths"]
TEXT_KEYS = ["1", "0x10", "on", "off", "yes", "No", "null", "~", "1.5", "true", "2001-01-01", "1_000", "2:30", ".inf",
             "'quoted key'", '"dq key"', "'1'", '"true"', '"tab\\tkey"', "'it''s'"]
MERGE_KEYS = ["lr", "bs", "seed", "opt", "name", "wd"]
DATES = ["2001-12-14", "2002-01-02", "1999-12-31", "2024-02-29", "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10 -5",
         "2001-12-15T02:59:43.1Z", "2001-12-14 21:59:43.10", "2001-12-15 2:59:43.10", "2002-12-14T01:02:03",
         "2001-12-14t21:59:43.123456789+05:30", "2001-1-2 3:04:05", "2001-12-14 21:59:43 Z", "2001-12-14 21:59:43 +01:00"]
BAD_DATES = ["2001-02-30", "2001-13-01", "2023-02-29", "2001-12-14 25:00:00", "2001-00-10"]
DQ_ESCAPES = ["\\t", "\\n", "\\\\", '\\"', "\\x41", "\\u00e9", "\\U0001F600", "\\0", "\\a", "\\b", "\\v", "\\f", "\\r",
              "\\e", "\\ ", "\\N", "\\_", "\\L", "\\P", "\\/", "\\\t", "\\u263A", "\\xe9"]
TAGGED = [("!!str", ["1", "true", "~", "1.5", "'quoted'", "2001-01-01", "hello"]),
          ("!!int", ["1", "-12", "0x1F", "017", "0b101", "1_000", "2:30", '"42"', "'7'", "+3"]),
          ("!!float", ["1e-4", "1", "-2.5", "1_0.5", ".inf", "-.Inf", ".nan", "1:30.5", '"3.25"', "6.02e+23", "2"]),
          ("!!bool", ["yes", "no", "true", "False", "on", "OFF", '"Yes"']),
          ("!!null", ["", "~", "null", "''"]),
          ("!!timestamp", ["2001-12-14", "2001-12-14 21:59:43.10 -5"])]


_key_texts = {}


def plain_text(plain):
    """The text of a one-line scalar as a key: None where it cannot be a key (`"`-quoted
    escapes are fine; the generator only needs keys it can tell apart)."""
    try:
        return key_text(plain)
    except yaml.YAMLError:
        return None


def written_key(text):
    return text if all(c.isalnum() or c in "_.-" for c in text) and key_text(text) == text else \
        "'" + text.replace("'", "''") + "'"


def key_text(k):
    """A plain or quoted key's text, as the reader keeps it."""
    if k not in _key_texts:
        _key_texts[k] = yaml.compose(k + ": 0").value[0][0].value
    return _key_texts[k]


class Doc:
    """One generated document: its text is built top to bottom, so anchors are known
    before aliases use them."""

    def __init__(self, rng):
        self.r = rng
        self.features = set()
        # name -> ("scalar", its text or None) | ("list", None) | ("map", its keys, merges included)
        self.anchors = {}
        self.anchor_count = 0
        self.counter = 0
        self.last_merged = set()

    def f(self, *names):
        self.features.update(names)

    def chance(self, p):
        return self.r.random() < p

    def unique(self):
        self.counter += 1
        return self.counter

    def new_anchor(self):
        self.anchor_count += 1
        return "a%d" % self.anchor_count

    # Scalars that fit on one line.

    def plain(self, flow):
        s = self.r.choice(OLD_PLAIN)
        return "'%s'" % s if flow and "," in s else s

    def date(self):
        d = self.r.choice(DATES)
        self.f("datetime" if len(d) > 10 else "date")
        return d

    def tagged_scalar(self):
        tag, values = self.r.choice(TAGGED)
        self.f("tag-" + tag[2:])
        return "%s %s" % (tag, self.r.choice(values))

    def scalar(self, flow):
        k = self.r.random()
        if k < 0.55:
            return self.plain(flow)
        if k < 0.7:
            return self.r.choice(OLD_QUOTED)
        if k < 0.8:
            return self.date()
        if k < 0.9:
            return self.tagged_scalar()
        return self.double_quoted_line()

    def double_quoted_line(self):
        self.f("dq-escapes")
        parts = [self.r.choice(["a", "b c", "\u00e9", "x:y", "#z", "'"]) for _ in range(self.r.randint(0, 2))]
        parts += [self.r.choice(DQ_ESCAPES) for _ in range(self.r.randint(1, 3))]
        self.r.shuffle(parts)
        return '"' + "".join(parts) + '"'

    def words(self, n, pool=WORDS):
        out = []
        for i in range(n):
            w = self.r.choice(pool)
            if i == 0:  # indicators cannot start a plain scalar
                while w[0] in "-[{!&*|>'\"%@`#,?:~":
                    w = self.r.choice(pool)
            out.append(w)
        return out

    # Multi-line scalars: `cont` is the least indentation a continuation line may have.

    def gap(self, cont):
        """Blank lines between lines of a folded scalar, some holding spaces."""
        n = self.r.choice([0, 0, 0, 1, 1, 2])
        if n:
            self.f("multiline-blank-lines")
        return ["" if self.chance(0.6) else " " * self.r.randint(1, cont + 2) for _ in range(n)]

    def plain_multiline(self, cont, flow):
        self.f("plain-multiline-flow" if flow else "plain-multiline-block")
        pool = FLOW_WORDS if flow else WORDS
        lines = [" ".join(self.words(self.r.randint(1, 3), pool))]
        for _ in range(self.r.randint(1, 3)):
            lines += self.gap(cont)
            pad = " " * (cont + self.r.randint(0, 3))
            lines.append(pad + " ".join(self.words(self.r.randint(1, 3), pool)) + (" " if self.chance(0.1) else ""))
        return "\n".join(lines)

    def quoted_multiline(self, cont):
        double = self.chance(0.6)
        self.f("double-multiline" if double else "single-multiline")
        lines = []
        count = self.r.randint(2, 4)
        for i in range(count):
            if i:
                lines += self.gap(cont)
            ws = self.words(self.r.randint(1, 3), ["a", "b c", "x:y", "#z", "1", "\u00e9", "- d", "[e]"])
            if double:
                if self.chance(0.4):
                    ws.insert(self.r.randint(0, len(ws)), self.r.choice(DQ_ESCAPES))
                    self.f("dq-escapes")
                line = " ".join(ws)
            else:
                line = " ".join(ws) + ("''" if self.chance(0.3) else "")
            lead = " " * (cont + self.r.randint(0, 3)) + ("\t" if self.chance(0.05) else "") if i else ""
            trail = self.r.choice(["", "", "", " ", "\t"])
            if double and i < count - 1 and self.chance(0.25):
                trail = self.r.choice(["\\", " \\", "\\ "])
                self.f("dq-line-continuation")
            lines.append(lead + line + trail)
        q = '"' if double else "'"
        first = q + lines[0]
        if self.chance(0.2):  # the text starts on the line after the quote
            first = q
            lines.insert(1, " " * cont + lines[0].lstrip())
        return "\n".join([first] + lines[1:]) + q

    def block_scalar(self, base, in_list=False):
        """A `|` or `>` scalar for a node whose parent collection is at column `base`:
        the header and the lines after it (no final line break)."""
        folded = self.chance(0.5)
        chomp = self.r.choice(["", "-", "+"])
        indicator = self.r.choice([None, None, 1, 2, 3])
        self.f("block-folded" if folded else "block-literal", "chomp" + {"": "-clip", "-": "-strip", "+": "-keep"}[chomp],
               "block-in-list" if in_list else "block-in-map",
               "block" + (">" if folded else "|") + chomp + ("N" if indicator else ""))
        header = (">" if folded else "|")
        if indicator:
            self.f("block-indent-indicator")
            header += str(indicator) + chomp if self.chance(0.5) else chomp + str(indicator)
            col = base + indicator
        else:
            header += chomp
            col = base + self.r.choice([1, 2, 2, 4])
        if self.chance(0.15):
            header += "  # comment"
        lines = []
        if self.chance(0.25):
            self.f("block-leading-blank-lines")
            lines += [" " * self.r.randint(0, col) for _ in range(self.r.randint(1, 2))]
        for i in range(self.r.randint(1, 5)):
            if i and self.chance(0.25):
                self.f("block-inner-blank-lines")
                lines += ["" if self.chance(0.5) else " " * self.r.randint(1, col) for _ in range(self.r.randint(1, 2))]
            extra = 0
            if (i or indicator) and self.chance(0.25):
                extra = self.r.randint(1, 3)
                self.f("block-more-indented", "folded-more-indented" if folded else "literal-more-indented")
            body = " ".join(self.words(self.r.randint(1, 4), WORDS + ["# not a comment", "k: v", "- item", "'q'", '"dq"']))
            if self.chance(0.05):
                body = "\t" + body
                self.f("block-tab")
            if self.chance(0.05):
                body += "  "
            lines.append(" " * (col + extra) + body)
        if self.chance(0.35):
            self.f("block-trailing-blank-lines")
            lines += ["" if self.chance(0.6) else " " * self.r.randint(1, col + 1) for _ in range(self.r.randint(1, 3))]
        return header + "\n" + "\n".join(lines)

    # Values in block context, after `key:` (parent mapping at column `col`) or after
    # `- ` (sequence at column `col`): text starting with " " (same line) or "\n".

    def block_value(self, col, depth, in_list=False):
        r = self.r.random()
        if depth >= 3:
            r = r * 0.55
        if r < 0.25:
            return " " + self.scalar(False)
        if r < 0.31:
            return " " + self.plain_multiline(col + 1, False) if self.chance(0.7) else \
                "\n" + " " * (col + 2) + self.plain_multiline(col + 1, False)
        if r < 0.37:
            return " " + self.quoted_multiline(col + 1)
        if r < 0.45:
            return " " + self.block_scalar(col, in_list)
        if r < 0.52:
            return " " + self.alias_or_scalar()
        if r < 0.55:
            return " " + self.flow(depth, col + 1)
        if r < 0.64:
            return self.anchored(col, depth, in_list)
        if r < 0.68:
            return self.tagged_collection(col, depth)
        if r < 0.84:
            self.f("nested-block-map")
            return "\n" + self.block_map(col + self.r.choice([1, 2, 2, 4]), depth + 1)
        self.f("nested-block-list")
        if in_list or self.chance(0.5):
            return "\n" + self.block_seq(col + self.r.choice([1, 2, 2, 4]), depth + 1)
        self.f("indentless-sequence")
        return "\n" + self.block_seq(col, depth + 1)

    def alias_or_scalar(self):
        if not self.anchors:
            return self.scalar(False)
        kind = self.r.choice(sorted(set(v[0] for v in self.anchors.values())))
        name = self.r.choice(sorted(n for n, v in self.anchors.items() if v[0] == kind))
        self.f("alias-" + kind)
        return "*" + name

    def anchored(self, col, depth, in_list):
        name = self.new_anchor()
        kind = self.r.choice(["scalar", "map", "map", "list"])
        prop = "&" + name
        if self.chance(0.2):
            tag = {"scalar": "!!str", "map": "!!map", "list": "!!seq"}[kind]
            prop = self.r.choice([tag + " " + prop, prop + " " + tag])
            self.f("tag-" + tag[2:] if kind == "scalar" else "tag-on-collection")
        keys = None
        if kind == "scalar":
            self.f("anchor-scalar")
            if self.chance(0.2):
                value = " " + prop + " " + self.block_scalar(col, in_list)
            else:
                plain = self.plain(False)
                keys = plain_text(plain)
                value = " " + prop + " " + plain
        elif kind == "list":
            self.f("anchor-list")
            if self.chance(0.4):
                value = " " + prop + " " + self.flow_seq(depth, col + 1)
                self.f("anchor-flow")
            else:
                value = " " + prop + "\n" + self.block_seq(col + 2, depth + 1)
        else:
            self.f("anchor-map")
            if self.chance(0.4):
                self.f("anchor-flow")
                text, keys = self.merge_source_flow()
                value = " " + prop + " " + text
            else:
                text, keys = self.merge_source_block(col + 2, depth + 1)
                value = " " + prop + "\n" + text
        self.anchors[name] = (kind, keys)
        return value

    def tagged_collection(self, col, depth):
        self.f("tag-on-collection")
        r = self.r.random()
        if r < 0.35:
            return " !!map\n" + self.block_map(col + 2, depth + 1)
        if r < 0.7:
            return " !!seq\n" + self.block_seq(col + 2, depth + 1)
        if r < 0.85:
            return " !!seq " + self.flow_seq(depth, col + 1)
        return " !!map " + self.flow_map(depth, col + 1)

    def key(self, used):
        for _ in range(50):
            if self.chance(0.08):
                k = self.r.choice(TEXT_KEYS)
                self.f("keys-as-text")
            elif self.chance(0.04) and self.scalar_anchors():
                name = self.r.choice(self.scalar_anchors())
                k, text = "*" + name + " ", self.anchors[name][1]
                if text not in used:
                    used.add(text)
                    self.f("alias-as-key")
                    return k
                continue
            else:
                k = self.r.choice(KEYS)
            text = key_text(k)
            if text not in used:
                used.add(text)
                return k
        k = "k%d" % self.unique()
        used.add(k)
        return k

    def scalar_anchors(self):
        """Anchored plain scalars, with their text."""
        return sorted(n for n, v in self.anchors.items() if v[0] == "scalar" and v[1] is not None)

    def block_map(self, col, depth, merge_pool=False):
        pad = " " * col
        lines = []
        used = set()
        if self.chance(0.2) and any(v[0] == "map" for v in self.anchors.values()):
            lines += self.merge_entry(col, used)
        for _ in range(self.r.randint(1, 3)):
            k = self.key(used)
            lines.append(pad + k + ":" + self.block_value(col, depth) + (" # note" if self.chance(0.05) else ""))
        return "\n".join(lines)

    def block_seq(self, col, depth):
        pad = " " * col
        lines = []
        for _ in range(self.r.randint(1, 3)):
            r = self.r.random()
            if r < 0.25 and depth < 3:
                # A compact mapping: `- a: 1` with the rest at the column after the dash.
                m = self.block_map(col + 2, depth + 1)
                lines.append(pad + "- " + m[col + 2:])
                self.f("compact-map-in-list")
            else:
                v = self.block_value(col, depth, in_list=True)
                lines.append(pad + "-" + v)
        return "\n".join(lines)

    # Merges. Mergeable maps use few keys (MERGE_KEYS) and values that differ, so a
    # key is often in two merged maps and in the mapping's own keys: which one wins and
    # where it lands in the key order matter.

    def merge_value(self):
        n = self.unique()
        return self.r.choice(["%d" % n, "v%d" % n, "'q%d'" % n, "[%d, %d]" % (n, n + 1), "{x: %d}" % n])

    def merge_source_keys(self):
        return self.r.sample(MERGE_KEYS, self.r.randint(1, 4))

    def merge_source_flow(self):
        keys = self.merge_source_keys()
        merged = []
        head = ""
        if self.chance(0.2) and self.map_anchors():
            a = self.r.choice(self.map_anchors())
            head = "<<: *%s, " % a
            merged = self.anchors[a][1]
            self.f("merge-nested", "merge-flow")
        return "{" + head + ", ".join("%s: %s" % (k, self.merge_value()) for k in keys) + "}", \
            list(dict.fromkeys(merged + keys))

    def merge_source_block(self, col, depth):
        pad = " " * col
        keys = self.merge_source_keys()
        lines = []
        used = set(keys)
        merged = []
        if self.chance(0.25) and self.map_anchors():
            a = self.r.choice(self.map_anchors())
            lines.append(pad + "<<: *" + a)
            merged = self.anchors[a][1]
            self.f("merge-nested")
        for k in keys:
            if self.chance(0.15):
                lines.append(pad + k + ":" + self.block_scalar(col).join([" ", ""]))
            else:
                lines.append(pad + k + ": " + self.merge_value())
        return "\n".join(lines), list(dict.fromkeys(merged + keys))

    def map_anchors(self):
        return sorted(n for n, v in self.anchors.items() if v[0] == "map")

    def merge_entry(self, col, used):
        """`<<: ...` lines for a mapping at `col`; adds to `used` the keys this mapping's
        own entries may then override (they are added back by the caller's key picks)."""
        pad = " " * col
        names = self.map_anchors()
        if len(names) >= 2 and self.chance(0.6):
            chosen = self.r.sample(names, self.r.randint(2, min(3, len(names))))
            self.f("merge-list")
            text = "[" + ", ".join("*" + n for n in chosen) + "]"
            if self.chance(0.2):
                text = "\n" + "\n".join(pad + "  - *" + n for n in chosen)
                self.f("merge-list-block")
            else:
                text = " " + text
        else:
            chosen = [self.r.choice(names)]
            self.f("merge-one")
            text = " *" + chosen[0]
        sets = [self.anchors[n][1] for n in chosen]
        everything = set().union(*map(set, sets))
        if sum(len(s) for s in sets) > len(everything):
            self.f("merge-list-conflict")
        lines = [pad + "<<:" + text]
        self.last_merged = everything
        # Own keys overriding merged ones, with different values.
        own = [k for k in sorted(everything) if self.chance(0.4)]
        for k in own:
            lines.append(pad + written_key(k) + ": " + self.merge_value())
            used.add(k)
        if own:
            self.f("merge-override")
            if any(sum(k in s for s in sets) >= 2 for k in own):
                self.f("merge-order-matters")
        if self.chance(0.3):  # own keys before the merge key: the merge still comes first
            self.f("merge-after-own-keys")
            lines = lines[1:] + lines[:1]
        return lines

    def merge_part(self, used):
        """Top-level entries: two or three anchored mergeable maps, then mappings that merge
        them, one and several, overriding some keys."""
        lines = []
        for _ in range(self.r.randint(2, 3)):
            name = self.new_anchor()
            k = self.key(used)
            if self.chance(0.4):
                text, keys = self.merge_source_flow()
                lines.append("%s: &%s %s" % (k, name, text))
                self.f("anchor-flow")
            else:
                text, keys = self.merge_source_block(2, 1)
                lines.append("%s: &%s\n%s" % (k, name, text))
            self.anchors[name] = ("map", keys)
            self.f("anchor-map")
        for _ in range(self.r.randint(1, 3)):
            k = self.key(used)
            if self.chance(0.2):
                names = self.map_anchors()
                chosen = self.r.sample(names, min(len(names), self.r.randint(1, 2)))
                own = self.r.sample(MERGE_KEYS, 2)
                self.f("merge-flow", "merge-list" if len(chosen) > 1 else "merge-one", "merge-override")
                merged = "[" + ", ".join("*" + n for n in chosen) + "]" if len(chosen) > 1 else "*" + chosen[0]
                lines.append("%s: {%s: %s, <<: %s, %s: %s}" % (k, own[0], self.merge_value(), merged, own[1],
                                                                self.merge_value()))
                continue
            sub = []
            used_inner = set()
            sub += self.merge_entry(2, used_inner)
            merged = self.last_merged
            for _ in range(self.r.randint(0, 2)):
                kk = self.key(used_inner)
                sub.append("  " + kk + ":" + self.block_value(2, 2))
            if self.chance(0.3):
                name = self.new_anchor()
                lines.append("%s: &%s\n%s" % (k, name, "\n".join(sub)))
                self.anchors[name] = ("map", sorted(merged | used_inner))
                self.f("merge-nested")
            else:
                lines.append("%s:\n%s" % (k, "\n".join(sub)))
        if self.chance(0.2):
            self.f("merge-inline-map")
            k = self.key(used)
            lines.append("%s:\n  <<: {lr: %d, bs: %d}\n  lr: %d" % (k, self.unique(), self.unique(), self.unique()))
        return lines

    # Flow collections; continuation lines at `cont` or deeper.

    def flow(self, depth, cont):
        self.f("flow-collection")
        return self.flow_seq(depth, cont) if self.chance(0.5) else self.flow_map(depth, cont)

    def flow_item(self, depth, cont):
        r = self.r.random()
        if depth < 3 and r < 0.2:
            return self.flow(depth + 1, cont)
        if r < 0.3:
            self.f("plain-multiline-flow")
            return self.plain_multiline(cont, True)
        if r < 0.35:
            return self.quoted_multiline(cont)
        if r < 0.45 and self.anchors:
            name = self.r.choice(sorted(self.anchors))
            self.f("alias-" + self.anchors[name][0], "alias-in-flow")
            return "*" + name
        if r < 0.5:
            name = self.new_anchor()
            self.f("anchor-flow", "anchor-scalar")
            plain = self.plain(True)
            self.anchors[name] = ("scalar", plain_text(plain))
            return "&%s %s" % (name, plain)
        return self.scalar(True)

    def sep(self, cont):
        if self.chance(0.15):
            self.f("flow-multiline")
            return ",\n" + " " * (cont + self.r.randint(0, 2))
        return ", "

    def flow_seq(self, depth, cont):
        items = [self.flow_item(depth, cont) for _ in range(self.r.randint(0, 4))]
        out = "["
        for i, it in enumerate(items):
            out += (self.sep(cont) if i else "") + it
        return out + ("," if items and self.chance(0.1) else "") + "]"

    def flow_map(self, depth, cont):
        used = set()
        out = "{"
        for i in range(self.r.randint(0, 4)):
            k = self.key(used)
            if k.startswith("*"):
                k = "k%d" % self.unique()
            out += (self.sep(cont) if i else "") + k + ": " + self.flow_item(depth, cont)
        return out + "}"

    # Documents.

    def top_level_entries(self):
        used = set()
        lines = []
        for _ in range(self.r.randint(1, 3)):
            if self.chance(0.25):
                lines += self.merge_part(used)
            else:
                k = self.key(used)
                lines.append(k + ":" + self.block_value(0, 1))
        return lines

    def wrap(self, body):
        """Document markers, directives, comments, byte order mark, line breaks."""
        head = ""
        if self.chance(0.1):
            head += "# a config\n"
        if self.chance(0.1):
            self.f("yaml-directive")
            head += "%YAML 1.1" + (" # version" if self.chance(0.3) else "") + "\n---\n"
            self.f("document-start")
        elif self.chance(0.15):
            self.f("document-start")
            head += "---" + (" # start" if self.chance(0.3) else "") + "\n"
        text = head + body
        if self.chance(0.12):
            self.f("document-end")
            text += "\n..." + ("\n# after the end" if self.chance(0.3) else "")
        if self.chance(0.06):
            self.f("no-final-line-break")
        else:
            text += "\n"
        if self.chance(0.05):
            self.f("crlf")
            text = text.replace("\n", "\r\n")
        if self.chance(0.03):
            self.f("byte-order-mark")
            text = "\ufeff" + text
        return text

    def loadable(self):
        if self.chance(0.12):
            self.f("subset")
            return self.old_subset()
        if self.chance(0.1):
            self.f("top-level-list")
            body = self.block_seq(0, 1)
        else:
            body = "\n".join(self.top_level_entries())
        return self.wrap(body)

    # The old subset (the generator this test had before): block mappings and sequences,
    # flow collections and one-line scalars, no new feature.

    def old_scalar(self, flow):
        if self.chance(0.25):
            return self.r.choice(OLD_QUOTED)
        return self.plain(flow)

    def old_flow(self, depth):
        if depth > 2 or self.chance(1 / 3):
            return self.old_scalar(True)
        if self.chance(0.5):
            return "[" + ", ".join(self.old_flow(depth + 1) for _ in range(self.r.randrange(4))) + "]"
        keys = list(dict.fromkeys(self.r.choice(KEYS[:10]) for _ in range(self.r.randrange(4))))
        return "{" + ", ".join("%s: %s" % (k, self.old_flow(depth + 1)) for k in keys) + "}"

    def old_block(self, indent, depth):
        pad = " " * indent
        if self.chance(1 / 3):
            return "\n".join(pad + "- " + (self.old_flow(1) if self.chance(1 / 3) else self.old_scalar(False))
                             for _ in range(1 + self.r.randrange(3)))
        lines = []
        for k in dict.fromkeys(self.r.choice(KEYS[:10]) for _ in range(1 + self.r.randrange(4))):
            c = self.r.randrange(4) if depth < 3 else 0
            if c == 0:
                lines.append(pad + k + ": " + self.old_scalar(False) + ("  # note" if self.chance(0.2) else ""))
            elif c == 1:
                lines.append(pad + k + ": " + self.old_flow(0))
            else:
                lines.append(pad + k + ":\n" + self.old_block(indent + 2, depth + 1))
        return "\n".join(lines)

    def old_subset(self):
        return self.old_block(0, 0) + "\n"

    # Documents to refuse. Each is embedded among loadable entries.

    def refused(self):
        kind, make = self.r.choice(REFUSALS)
        bad = make(self)
        before = []
        if self.chance(0.6) and not bad.startswith(("%", "---", "[")):
            # Keys in `bad` start with zz_ (or are letters no generated key is), so they
            # cannot clash with the entries before it.
            before = self.top_level_entries()
        # What these documents test is the refusal: the entries before it are not counted.
        self.features = {"refuse-" + kind}
        return "\n".join(before + [bad]) + "\n", ("dupkey" if kind == "duplicate-key" else "refuse")


def _custom_tag(d):
    return d.r.choice(["inc: !include other.yaml", "f: !!python/tuple [1, 2]", "e: !!python/object/apply:eval ['1+1']",
                       "fn: !function utils.process_docs", "b: !bool true", "m: !custom {a: 1}", "s: [1, !x 2]",
                       "u: !!foo bar", "p: !!python/name:os.system", "l: !local\n  - a"])


def _undefined_alias(d):
    return d.r.choice(["zz_a: *nope", "zz_a: *later\nzz_b: &later 1", "zz_a: [1, *missing]", "zz_a:\n  <<: *nobase\n  x: 1"])


def _complex_key(d):
    return d.r.choice(["? zz_a\n: 1", "? [a, b]\n: 1", "zz_m: {? a : 1}", "? |\n  block key\n: 1", "zz_s:\n  ? x\n  : y",
                       "? zz_a"])


def _second_document(d):
    return d.r.choice(["zz_a: 1\n---\nzz_b: 2", "zz_a: 1\n---", "zz_a: 1\n...\n---\nzz_b: 2", "zz_a: 1\n...\nzz_b: 2",
                       "zz_a: 1\n--- |\n  text"])


def _duplicate_key(d):
    return d.r.choice(["zz_a: 1\nzz_b: 2\nzz_a: 3", "zz_m:\n  x: 1\n  'x': 2", "zz_f: {a: 1, b: 2, a: 3}",
                       "zz_n:\n  1: x\n  '1': y", "zz_t:\n  on: 1\n  \"on\": 2", "zz_l:\n- k: 1\n  k: 2",
                       "zz_a: &zdup {x: 1}\nzz_m:\n  <<: *zdup\n  y: 1\n  y: 2", "zz_q:\n  \"tab\\tkey\": 1\n  'tab\tkey': 2"])


def _bad_merge(d):
    return d.r.choice(["zz_a: &zs 1\nzz_m:\n  <<: *zs", "zz_m:\n  <<: 1", "zz_a: &zm {x: 1}\nzz_m:\n  <<: [*zm, 2]",
                       "zz_m:\n  <<: [[1]]", "zz_m: {<<: x}"])


def _unsupported_type(d):
    return d.r.choice(["zz_b: !!binary aGVsbG8=", "zz_s: !!set {x, y}", "zz_o: !!omap [x: 1, y: 2]",
                       "zz_p: !!pairs [x: 1]", "zz_v: =", "zz_m: <<"])


def _big_integer(d):
    return d.r.choice(["zz_i: 9223372036854775808", "zz_i: -9223372036854775809", "zz_i: 0x1_0000_0000_0000_0000",
                       "zz_i: 0b1" + "0" * 64, "zz_i: 0" + "7" * 22, "zz_i: 99999999999999:0:0:0", "zz_i: !!int 1e30".replace("1e30", "1" + "0" * 30),
                       "zz_i: [1, 123456789012345678901234567890]"])


def _too_deep(d):
    n = 257 + d.r.randint(0, 3)
    return d.r.choice(["[" * n + "]" * n, "zz_d: " + "[" * (n - 1) + "]" * (n - 1),
                       "zz_d:\n" + "\n".join(" " * (i + 1) + "k:" for i in range(n - 1)) + " 1",
                       "zz_d: " + "{a: " * (n - 1) + "1" + "}" * (n - 1)])


def _recursive_alias(d):
    return d.r.choice(["zz_r: &zr [1, *zr]", "zz_r: &zr\n  self: *zr", "zz_r: &zr {a: [*zr]}"])


def _duplicate_anchor(d):
    return "zz_a: &zx 1\nzz_b: &zx 2\nzz_c: *zx"


def _bad_block_scalar(d):
    return d.r.choice(["zz_b: |0\n  x", "zz_b: |10\n  x", "zz_b: |++\n  x", "zz_b: |\n   a\n  b", "zz_b: |2\n x",
                       "zz_b: > x\n  y", "zz_b: |\n  \tx\n\tc: 1"])


def _bad_quoted(d):
    return d.r.choice(['zz_q: "unterminated\n  more', "zz_q: 'a\n---\n  b'", 'zz_q: "bad \\q escape"', 'zz_q: "\\xZZ"',
                       "zz_q: 'x' y", 'zz_q: "a"b'])


def _line_separator(d):
    return d.r.choice(["zz_n: a\u2028b", "zz_n: a\u0085b", "# c\u2029\nzz_n: 1"])


def _impossible_date(d):
    return "zz_d: " + d.r.choice(BAD_DATES)


def _bad_tagged(d):
    return d.r.choice(["zz_t: !!int 1.5", "zz_t: !!float abc", "zz_t: !!bool maybe", "zz_t: !!int ''", "zz_t: !!str [a]",
                       "zz_t: !!seq {a: 1}", "zz_t: !!map [a]", "zz_t: !!timestamp yesterday", "zz_t: !!int 0x"])


REFUSALS = [("custom-tag", _custom_tag), ("undefined-alias", _undefined_alias), ("complex-key", _complex_key),
            ("second-document", _second_document), ("duplicate-key", _duplicate_key), ("bad-merge", _bad_merge),
            ("unsupported-type", _unsupported_type), ("big-integer", _big_integer), ("too-deep", _too_deep),
            ("recursive-alias", _recursive_alias), ("duplicate-anchor", _duplicate_anchor),
            ("bad-block-scalar", _bad_block_scalar), ("bad-quoted", _bad_quoted), ("nel-ls-ps", _line_separator),
            ("impossible-date", _impossible_date), ("bad-tagged", _bad_tagged)]


# Hand-written documents for edges the random ones rarely reach; each must load.
EDGES = [
    ("depth-256", "[" * 256 + "]" * 256 + "\n"),
    ("depth-256", "d: " + "[" * 255 + "]" * 255 + "\n"),
    ("merge-order-matters", "a: &A {k1: 1, k2: 2}\nb: &B\n  k2: 3\n  k3: 4\nc:\n  <<: [*A, *B]\n  k3: 5\n"),
    ("merge-order-matters", "a: &A {x: 1, y: 1}\nb: &B {y: 2, z: 2}\nc: &C {z: 3, x: 3, w: 3}\nd:\n  w: 0\n  <<: [*A, *B, *C]\n"),
    ("merge-nested", "a: &A {x: 1}\nb: &B\n  <<: *A\n  y: 2\nc:\n  <<: *B\n  x: 3\n"),
    ("merge-inline-map", "c:\n  <<: [{x: 1}, {x: 2, y: 2}]\n  z: 3\n"),
    ("merge-quoted-key", "a: &A {x: 1}\nc:\n  '<<': *A\n"),
    ("keys-as-text", "1: a\n0x10: b\non: c\nnull: d\n~: e\n1.5: f\n2001-01-01: g\n1_000: h\n"),
    ("tag-edge", "a: !!int 0o17\nb: !!float nan\nc: !!null foo\nd: !!int '12'\ne: !!float 1\nf: !!bool 'YES'\n"),
    ("tag-edge", "a: !!int |\n  12\nb: !<tag:yaml.org,2002:str> 12\nc: !!str\nd: !!float '-.5'\n"),
    ("tag-on-collection", "--- !!map\na: !!seq\n- 1\n- !!map {b: c}\n"),
    ("anchor-key", "- &a x: 1\n- *a\n"),
    ("flow-single-pair", "x: [a: 1, b]\n"),
    ("block-keep-at-end", "a: |+\n  text\n\n\n"),
    ("block-keep-at-end", "a: >+\n  text\n\n  \n"),
    ("block-strip-at-end", "a: |-\n  text\n\n"),
    ("block-no-final-break", "a: |\n  text"),
    ("block-no-final-break", "a: >-\n  text"),
    ("block-empty", "a: |\nb: >-\nc: |+\n\nd: 1\n"),
    ("block-in-list", "- |\n a\n- >\n b\n c\n- |2-\n    x\n   y\n"),
    ("document-end-then-comment", "a: 1\n...\n# c\n"),
    ("yaml-directive", "%YAML 1.1\n--- {a: 1}\n"),
    ("document-start", "--- |\n  top-level text\n"),
    ("document-start", "---\n- a\n- b\n...\n"),
    ("plain-multiline-block", "a: b\n  c\n\n  d\n"),
    ("plain-multiline-flow", "{a: [b\n  c]}\n"),
    ("double-multiline", 'a: "x\\\n   y"\n'),
    ("double-multiline", 'a: "one\n\n\n  two \\\n  three\\n\\\n  four"\n'),
    ("single-multiline", "a: 'x\n\n  y'\n"),
    ("alias-scalar", "a: &x 1\nb: *x\nc: [*x, &y two, *y]\n"),
    ("alias-map", "a: &m {x: 1}\nb: *m\nc:\n- *m\n"),
    ("date", "d: 2001-12-14\ne: '2001-12-14'\nf: !!str 2001-12-14\ng: [2002-01-02]\n"),
    ("datetime", "d: 2001-12-14t21:59:43.10-05:00\ne: 2001-12-14 21:59:43.10 -5\n"),
]


def generate(seed, count, refused):
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        d = Doc(random.Random(rng.getrandbits(64)))
        text = d.loadable()
        out.append((text, d.features, "load"))
    for _ in range(refused):
        d = Doc(random.Random(rng.getrandbits(64)))
        text, intent = d.refused()
        out.append((text, d.features, intent))
    for feature, text in EDGES:
        out.append((text, {feature, "hand-written"}, "load"))
    return out


# MARK: - Merge mutants
#
# `--merge-mutants` shows that the generated corpus catches a reader whose merge keys
# differ from PyYAML's: for each mutant below (PyYAML's merge changed one way) it counts
# the generated documents whose canonical form changes, each of which the Swift test would
# report as a mismatch for a reader with that bug.


class MutantLaterEntryWins(ReferenceLoader):
    """<<: [*a, *b]: b's values win over a's (PyYAML: a's), key order kept."""

    def construct_mapping(self, node, deep=False):
        if not isinstance(node, MappingNode):
            return super().construct_mapping(node, deep)
        own = {k.value for k, _ in node.value if k.tag != "tag:yaml.org,2002:merge"}
        lists = [v for k, v in node.value if k.tag == "tag:yaml.org,2002:merge" and v.id == "sequence"]
        mapping = super().construct_mapping(node, deep)
        for merged in lists:
            for sub in merged.value:
                for k, v in self.construct_object(sub).items():
                    if k not in own:
                        mapping[k] = v
        return mapping


class MutantMergedWins(ReferenceLoader):
    """Merged values win over the mapping's own keys."""

    def flatten_mapping(self, node):
        own = [(k, v) for k, v in node.value if k.tag != "tag:yaml.org,2002:merge"]
        super().flatten_mapping(node)
        node.value = own + node.value[:len(node.value) - len(own)]


class MutantOwnKeysFirst(ReferenceLoader):
    """PyYAML's values, but the mapping's own keys first in the key order."""

    def construct_mapping(self, node, deep=False):
        own = [k.value for k, _ in node.value if k.tag != "tag:yaml.org,2002:merge"] \
            if isinstance(node, MappingNode) else []
        mapping = super().construct_mapping(node, deep)
        return {**{k: mapping[k] for k in own if k in mapping}, **mapping}


class MutantWrittenOrder(ReferenceLoader):
    """<<: [*a, *b] merged in written order: b's values win and a's keys come first."""

    def flatten_mapping(self, node):
        for k, v in node.value:
            if k.tag == "tag:yaml.org,2002:merge" and v.id == "sequence" and not getattr(v, "mutated", False):
                v.value.reverse()
                v.mutated = True
        super().flatten_mapping(node)


MUTANTS = [MutantLaterEntryWins, MutantMergedWins, MutantOwnKeysFirst, MutantWrittenOrder]


def mutant_changes(args):
    data, expected = args
    changed = []
    for mutant in MUTANTS:
        try:
            got = load(data, mutant)
        except Exception:
            got = "ERROR"
        changed.append(got != expected)
    return changed


def main(argv):
    out, seed, count, refused, files, mutants = None, 42, 5000, 600, [], False
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--merge-mutants":
            mutants = True
            i += 1
        elif a in ("--out", "--seed", "--count", "--refused"):
            v = argv[i + 1]
            i += 2
            if a == "--out":
                out = v
            elif a == "--seed":
                seed = int(v)
            elif a == "--count":
                count = int(v)
            else:
                refused = int(v)
        else:
            files.append(a)
            i += 1
    rows = []
    inputs = []
    for path in files:
        with open(path, "rb") as f:
            inputs.append(f.read())
    documents = generate(seed, count, refused) if out else []
    inputs += [text.encode("utf-8") for text, _, _ in documents]
    # PyYAML's pure loader reads ~200 KB/s: one process a core. The workers end by
    # themselves (close, join); the parent's blocked signals (a test runner's) are unblocked
    # so that an interrupted run still ends them.
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    pool = multiprocessing.Pool(min(8, os.cpu_count() or 1), initializer=sys.setrecursionlimit, initargs=(10000,))
    try:
        results = pool.map(reference, inputs, chunksize=32)
        pool.close()
    except BaseException:
        pool.terminate()
        raise
    finally:
        pool.join()
    for path, expected in zip(files, results):
        rows.append("file\t%s\t%s" % (path, expected))
    counts = {}
    bugs = 0
    if out:
        os.makedirs(os.path.join(out, "gen"), exist_ok=True)
        for index, ((text, features, intent), expected) in enumerate(zip(documents, results[len(files):])):
            with open(os.path.join(out, "gen", "%05d.yaml" % index), "wb") as f:
                f.write(text.encode("utf-8"))
            got = "dupkey" if expected == "DUPKEY" else "refuse" if expected.startswith("ERROR") else "load"
            if got != intent:
                bugs += 1
                features = set(features) | {"GENERATOR-BUG"}
            for name in features:
                counts[name] = counts.get(name, 0) + 1
            rows.append("gen\t%d\t%s\t%s\t%s" % (index, intent, ",".join(sorted(features)), expected))
        with open(os.path.join(out, "expected.tsv"), "w") as f:
            f.write("\n".join(rows) + "\n")
        print("generated %d documents (seed %d): %d meant to load, %d meant to be refused, %d hand-written; "
              "%d the generator got wrong" % (count + refused + len(EDGES), seed, count, refused, len(EDGES), bugs))
        if mutants:
            merging = [(text.encode("utf-8"), expected) for (text, features, intent), expected
                       in zip(documents, results[len(files):]) if intent == "load" and any("merge" in f for f in features)]
            pool = multiprocessing.Pool(min(8, os.cpu_count() or 1), initializer=sys.setrecursionlimit, initargs=(10000,))
            changes = pool.map(mutant_changes, merging, chunksize=16)
            pool.close()
            pool.join()
            for n, mutant in enumerate(MUTANTS):
                print("%s (%s): %d of the %d generated documents with merges read otherwise"
                      % (mutant.__name__, mutant.__doc__, sum(c[n] for c in changes), len(merging)))
        print(textwrap.fill("documents per feature: " + ", ".join("%s %d" % (k, counts[k]) for k in sorted(counts)), 120, break_long_words=False, break_on_hyphens=False))
    else:
        print("\n".join(rows))


if __name__ == "__main__":
    main(sys.argv[1:])
