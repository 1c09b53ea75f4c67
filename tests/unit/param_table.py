#!/usr/bin/env python3
"""
param_table.py - checks that the parameter table's "implemented" marks
match the code, and that docs/PARAMETERS.md is the table's current list.

A parameter counts as read by the code when:
  - its name appears as a string literal in a program or lib/ source file
    (tests/, bench/ and the table itself are not code that reads; neither
    is lib/global/param_guard.c, which names the parameters posthorn does NOT
    implement);
  - in smtp/ (the smtp and lmtp client), a literal X where smtp_X or
    lmtp_X is a parameter: that program builds "smtp_" / "lmtp_" + X;
  - or its $name appears in the default of a parameter that is read
    (a default that expands $compatibility_level reads it), except in
    the defaults of proxy_read_maps and proxy_write_maps: proxymap reads
    those lists only to find the "proxy:" tables in them, which does not
    implement the parameters they name.

Every parameter read must carry PARAM_FLAG_IMPL in lib/global/params.c, every
parameter carrying PARAM_FLAG_IMPL must be read, and PARAM_FLAG_DOC
(installation paths kept only for postconf) must not be read.

  tests/unit/param_table.py          check (exit 1 and a list on mismatch)
  tests/unit/param_table.py --fix    rewrite the marks and the doc
Prints "N passed, N failed" as its last line, like the unit programs.
"""
import glob
import os
import re
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PARAMS_C = os.path.join(ROOT, "lib", "global", "params.c")
DOC = os.path.join(ROOT, "docs", "PARAMETERS.md")
NOT_READERS = {"lib/global/params.c", "lib/global/param_guard.c"}

ENTRY = re.compile(r'^(\s*\{"([a-z0-9_]+)", (NULL|"(?:[^"\\]|\\.)*"), (PARAM_[A-Z]+), '
                   r'(-?\d+L?), (-?\d+L?), ([^,]+), )([^}]*)(\},.*)$')
LITERAL = re.compile(r'"((?:[^"\\\n]|\\.)*)"')
REF = re.compile(r'\$[{(]?([a-z0-9_]+)')
TABLE_LISTS = {"proxy_read_maps", "proxy_write_maps"}    # see the docstring


def table_entries():
    """(line index, name, default, flags) for each entry of param_table."""
    lines = open(PARAMS_C).read().split("\n")
    out = []
    for i, line in enumerate(lines):
        m = ENTRY.match(line)
        if m:
            dflt = None if m.group(3) == "NULL" else m.group(3)[1:-1]
            flags = set(f.strip() for f in m.group(8).split("|")) - {"0", ""}
            out.append((i, m.group(2), dflt, flags))
    return lines, out


def strip_comments(src):
    return re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), src, flags=re.S)


def code_literals(names):
    """Names read by the code, with where."""
    read = {}
    files = glob.glob(os.path.join(ROOT, "*", "*.[ch]")) + \
        glob.glob(os.path.join(ROOT, "lib", "*", "*.[ch]"))
    for path in sorted(files):
        rel = os.path.relpath(path, ROOT)
        top = rel.split("/")[0]
        if top in ("tests", "bench", "build", "bin", "run") or top.startswith(("build-", "bin-")):
            continue
        src = open(path, errors="replace").read()
        if rel == "lib/global/params.c":       # the computing code after the table reads
            src = src[src.index("const int param_table_size"):]
        elif rel in NOT_READERS:
            continue
        for m in LITERAL.finditer(strip_comments(src)):
            v = m.group(1)
            if v in names:
                read.setdefault(v, rel)
            elif top == "smtp":
                for pre in ("smtp_", "lmtp_"):
                    if pre + v in names:
                        read.setdefault(pre + v, rel)
    return read


def read_set(entries):
    names = {e[1] for e in entries}
    dflts = {e[1]: e[2] or "" for e in entries}
    read = code_literals(names)
    todo = list(read)
    while todo:
        n = todo.pop()
        if n in TABLE_LISTS:
            continue
        for ref in REF.findall(dflts.get(n, "")):
            if ref in names and ref not in read:
                read[ref] = "default of " + n
                todo.append(ref)
    return read


def doc_text(entries):
    impl = [e[1] for e in entries if "PARAM_FLAG_IMPL" in e[3]]
    doc = [e[1] for e in entries if "PARAM_FLAG_DOC" in e[3]]
    out = ["# Parameters posthorn implements", "",
           "Generated from the parameter table (lib/global/params.c) by",
           "`tests/unit/param_table.py --fix`; `make check` fails when it is stale.",
           "",
           "posthorn knows every Postfix 3.7 parameter name (`postconf -d` shows",
           "them all). Those below are the ones it implements. A parameter not",
           "listed here that is set in main.cf or with `-o` in master.cf draws a",
           "warning from `postfix start` and `postfix check`; those whose absence",
           "would weaken security make the service that needs them refuse work",
           "(see lib/global/param_guard.c and docs/STATUS.md).",
           "",
           "%d of %d parameters implemented:" % (len(impl), len(entries)), ""]
    out += ["- `%s`" % n for n in impl]
    out += ["", "Installation paths kept for `postconf` only (nothing to implement):", ""]
    out += ["- `%s`" % n for n in doc]
    return "\n".join(out) + "\n"


def fix(lines, entries, read):
    for i, name, dflt, flags in entries:
        flags = set(flags) - {"PARAM_FLAG_IMPL"}
        if name in read:
            flags.add("PARAM_FLAG_IMPL")
        m = ENTRY.match(lines[i])
        text = " | ".join(sorted(flags)) if flags else "0"
        lines[i] = m.group(1) + text + m.group(9)
    open(PARAMS_C, "w").write("\n".join(lines))
    _, entries = table_entries()
    os.makedirs(os.path.dirname(DOC), exist_ok=True)
    open(DOC, "w").write(doc_text(entries))


def main():
    lines, entries = table_entries()
    read = read_set(entries)
    if "--fix" in sys.argv[1:]:
        fix(lines, entries, read)
        lines, entries = table_entries()
    failed = passed = 0
    problems = []
    for i, name, dflt, flags in entries:
        impl = "PARAM_FLAG_IMPL" in flags
        if name in read and not impl:
            problems.append("%s is read (%s) but not marked PARAM_FLAG_IMPL" % (name, read[name]))
        if impl and name not in read:
            problems.append("%s is marked PARAM_FLAG_IMPL but nothing reads it" % name)
        if "PARAM_FLAG_DOC" in flags and name in read:
            problems.append("%s is marked PARAM_FLAG_DOC but is read (%s)" % (name, read[name]))
    if problems:
        print("FAIL test_implemented_marks_match_code")
        for p in problems:
            print("  " + p)
        failed += 1
    else:
        print("ok   test_implemented_marks_match_code")
        passed += 1
    current = open(DOC).read() if os.path.exists(DOC) else ""
    if current != doc_text(entries):
        print("FAIL test_parameters_doc_current")
        print("  docs/PARAMETERS.md is stale: run tests/unit/param_table.py --fix")
        failed += 1
    else:
        print("ok   test_parameters_doc_current")
        passed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
