#!/usr/bin/env python3
# Enforces the size limits of issue 16 on non-test sources: no file over 800 lines and no
# function body over 150 lines. Long functions hide their steps; the limit makes a split name them.
# A heuristic C++ scanner (comments, strings and preprocessor lines stripped, braces matched) is
# enough here because the sources follow .clang-format; it counts only functions at namespace or
# class scope, so a lambda is part of the function that holds it.
import os
import re
import sys

MAX_FILE = 800
MAX_FUNC = 150
DIRS = ["cli", "compiler", "frontend", "runtime", "stdlib", "train", "bench", "engine", "ir", "numerics", "python"]
EXTS = (".cpp", ".h", ".cu", ".cuh", ".hpp", ".cc")
SCOPE_WORDS = re.compile(r"\b(namespace|class|struct|union|enum)\b")
CONTROL = re.compile(r"^\s*(if|for|while|switch|catch|do|else|try)\b")


def strip(text):
    """Blanks comments, string/char literals and preprocessor lines, keeping newlines."""
    out = []
    i, n = 0, len(text)
    line_start = True
    while i < n:
        c = text[i]
        if line_start and c == "#":
            j = i
            while j < n and text[j] != "\n":
                if text[j] == "\\" and j + 1 < n and text[j + 1] == "\n":
                    out.append("\n")
                    j += 2
                    continue
                j += 1
            i = j
            continue
        if c == "/" and i + 1 < n and text[i + 1] == "/":
            while i < n and text[i] != "\n":
                i += 1
            continue
        if c == "/" and i + 1 < n and text[i + 1] == "*":
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("\n" * text.count("\n", i, j))
            i = j
            continue
        if c == "R" and i + 1 < n and text[i + 1] == '"':
            m = re.match(r'R"([^(]*)\(', text[i:])
            if m:
                end = text.find(")" + m.group(1) + '"', i)
                end = n if end < 0 else end + len(m.group(1)) + 2
                out.append('""' + "\n" * text.count("\n", i, end))
                i = end
                continue
        if c in "\"'":
            if c == "'" and i > 0 and text[i - 1].isalnum():  # digit separator 1'000
                i += 1
                continue
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(c + c)
            i = j + 1
            continue
        out.append(c)
        line_start = c == "\n" or (line_start and c in " \t")
        i += 1
    return "".join(out)


def functions(path):
    """Yields (name, first line, line count) for each function defined at namespace/class scope."""
    text = strip(open(path, encoding="utf-8", errors="replace").read())
    stack = []  # entries: (kind, start line, name)
    head_start = 0
    line = 1
    for i, c in enumerate(text):
        if c == "\n":
            line += 1
        elif c in ";":
            if not stack or stack[-1][0] == "scope":
                head_start = i + 1
        elif c == "{":
            head = text[head_start:i]
            outer = not stack or stack[-1][0] == "scope"
            if outer:
                flat = " ".join(head.split())
                if SCOPE_WORDS.search(flat) and ")" not in flat.split("{")[0][-1:] and not flat.rstrip().endswith(")") and "(" not in flat:
                    stack.append(("scope", line, ""))
                elif flat.startswith("extern"):
                    stack.append(("scope", line, ""))
                elif ")" in flat and not flat.rstrip().endswith("=") and not CONTROL.match(flat):
                    name = re.findall(r"([~\w:<>]+)\s*\(", flat)
                    stack.append(("func", line, name[0] if name else flat[:40]))
                else:
                    stack.append(("other", line, ""))
            else:
                stack.append(("inner", line, ""))
            head_start = i + 1
        elif c == "}":
            if stack:
                kind, start, name = stack.pop()
                if kind == "func":
                    yield name, start, line - start + 1
            if not stack or stack[-1][0] == "scope":
                head_start = i + 1


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    bad = []
    for d in DIRS:
        for base, _, files in os.walk(os.path.join(root, d)):
            for f in sorted(files):
                if not f.endswith(EXTS):
                    continue
                p = os.path.join(base, f)
                rel = os.path.relpath(p, root)
                n = sum(1 for _ in open(p, encoding="utf-8", errors="replace"))
                if n > MAX_FILE:
                    bad.append(f"{rel}: file has {n} lines (limit {MAX_FILE})")
                for name, start, length in functions(p):
                    if length > MAX_FUNC:
                        bad.append(f"{rel}:{start}: {name} has {length} lines (limit {MAX_FUNC})")
    for b in bad:
        print(b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
