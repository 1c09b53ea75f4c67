#!/usr/bin/env python3
"""
mkparams.py - params.c's parameter table without pointers, for the programs.

Usage: mkparams.py lib/global/params.c > param_rows.c (the Makefile does it).

param_table in params.c holds two string pointers per parameter; in a
position-independent program the dynamic loader writes each of them at
start-up (a relocation), so the table's 40 kB are private dirty pages in
every process. The generated file has the same rows with the two strings
as offsets into one constant structure of char arrays (the compiler
computes the offsets: offsetof), which needs no relocation and stays
shared and clean. The programs use only this form (config.c,
config_builtin()); param_table is still compiled and links into the unit
tests, which check the two against each other (test_config), and the
linker drops it from the programs (-Wl,--gc-sections).

Each row of param_table must be one line: {"name", "default" or NULL,
the other fields}, as tests/unit/param_table.py expects too; a row in
another form is an error here, not a silent omission.
"""
import re
import sys

LIT = r'"(?:[^"\\]|\\.)*"'
ROW = re.compile(r'^\s*\{(' + LIT + r'), (' + LIT + r'|NULL), (.*)\},\s*$')
START = "const PARAM_INFO param_table[] = {"


def rows(path):
    out, inside = [], False
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if not inside:
                inside = line.startswith(START)
                continue
            if line.startswith("};"):
                return out
            text = line.strip()
            if not text or text.startswith("/*") or text.startswith("*"):
                continue
            m = ROW.match(line)
            if m is None:
                sys.exit("%s:%d: a parameter row that mkparams.py does not understand" % (path, n))
            out.append(m.groups())
    sys.exit("%s: no \"%s ... };\"" % (path, START))


def main():
    table = rows(sys.argv[1])
    w = sys.stdout.write
    w("/* Generated from %s by lib/global/mkparams.py: do not edit. */\n" % sys.argv[1])
    w("#include <limits.h>\n#include <stddef.h>\n\n#include \"config.h\"\n\n")
    w("static const struct param_strings {\n")
    for i, (name, dflt, _) in enumerate(table):
        w("    char n%d[sizeof(%s)];\n" % (i, name))
        if dflt != "NULL":
            w("    char d%d[sizeof(%s)];\n" % (i, dflt))
    w("} param_strings = {\n")
    for name, dflt, _ in table:
        w("    %s,\n" % name)
        if dflt != "NULL":
            w("    %s,\n" % dflt)
    w("};\n\nconst PARAM_ROW param_rows[] = {\n")
    for i, (_, dflt, rest) in enumerate(table):
        d = "PARAM_ROW_COMPUTED" if dflt == "NULL" else "offsetof(struct param_strings, d%d)" % i
        w("    {offsetof(struct param_strings, n%d), %s, %s},\n" % (i, d, rest))
    w("};\n\nconst int param_rows_size = %d;\n\n" % len(table))
    w("const char *\nparam_row_string(unsigned offset)\n{\n"
      "    return (const char *) &param_strings + offset;\n}\n")


if __name__ == "__main__":
    main()
