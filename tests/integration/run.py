"""
run.py - runs the integration tests: every test_* function in every
tests/integration/test_*.py, each against instances it starts itself.

Setup (root only): installs the built binaries into a temporary root with
`make install DESTDIR=...`, creates the postfix user and postdrop group
when missing, and throw-away test users; removes the users at the end.
Prints one line per test and a closing "N passed, N failed".
"""
import importlib
import re
import os
import subprocess
import sys
import tempfile
import shutil
import traceback
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)


def main():
    only = sys.argv[1:]
    if os.geteuid() != 0:
        print("integration tests need root (they create users and start master); skipped")
        print("0 passed, 0 failed")
        return 0
    root = tempfile.mkdtemp(prefix="posthorn-root-", dir="/tmp")
    os.chmod(root, 0o755)
    binvar = os.environ.get("POSTHORN_BIN", "bin")
    objvar = os.environ.get("POSTHORN_OBJ", "build-asan" if binvar == "bin-asan" else "build")
    p = subprocess.run(["make", "-s", "-C", REPO, "install", "DESTDIR=" + root, "BIN=" + binvar,
                        "OBJ=" + objvar],
                       capture_output=True, text=True)
    if p.returncode != 0:
        print(p.stdout + p.stderr)
        print("0 passed, 1 failed")
        return 1
    os.environ["POSTHORN_ROOT"] = root
    vg_dir = None
    if os.environ.get("POSTHORN_VALGRIND"):
        vg_dir = wrap_daemons_in_valgrind(root)
    import posthorn
    posthorn.ROOT = root
    posthorn.ensure_system_accounts()
    posthorn.create_test_users()
    passed = failed = 0
    try:
        for fn in sorted(os.listdir(HERE)):
            if not (fn.startswith("test_") and fn.endswith(".py")):
                continue
            mod = importlib.import_module(fn[:-3])
            for name in sorted(n for n in dir(mod) if n.startswith("test_")):
                if only and not any(o in (fn[:-3], name) for o in only):
                    continue
                t0 = time.time()
                try:
                    getattr(mod, name)()
                    print("ok   %s.%s (%.1fs)" % (fn[:-3], name, time.time() - t0), flush=True)
                    passed += 1
                except Exception:
                    print("FAIL %s.%s" % (fn[:-3], name), flush=True)
                    traceback.print_exc(file=sys.stdout)
                    failed += 1
    finally:
        # POSTHORN_KEEP_USERS=1: several runs share the users (development)
        if not os.environ.get("POSTHORN_KEEP_USERS"):
            posthorn.remove_test_users()
        shutil.rmtree(root, ignore_errors=True)
    if vg_dir:
        bad = valgrind_findings(vg_dir)
        for b in bad:
            print("FAIL valgrind: %s" % b)
        failed += len(bad)
        shutil.rmtree(vg_dir, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


def wrap_daemons_in_valgrind(root):
    """Replace each installed daemon by a script that runs it under valgrind
    (make valgrind). Each process writes its own log into vg_dir."""
    vg_dir = tempfile.mkdtemp(prefix="posthorn-valgrind-", dir="/tmp")
    os.chmod(vg_dir, 0o1777)
    libexec = os.path.join(root, "usr/libexec/posthorn")
    real = os.path.join(libexec, ".real")
    os.makedirs(real)
    for name in os.listdir(libexec):
        path = os.path.join(libexec, name)
        if name in ("master", ".real") or name.endswith(".so"):
            continue                    # .so: the table types loaded with dlopen()
        # the real program keeps its name (programs log and behave by it: lmtp)
        shutil.copy2(os.path.realpath(path), os.path.join(real, name))
        os.unlink(path)
        with open(path, "w") as f:
            f.write("#!/bin/sh\nexec valgrind -q --vgdb=no --leak-check=full --show-leak-kinds=definite "
                    "--errors-for-leak-kinds=definite --suppressions=%s/tests/valgrind.supp "
                    "--log-file=%s/%s.%%p.log %s \"$@\"\n"
                    % (REPO, vg_dir, name, os.path.join(real, name)))
        os.chmod(path, 0o755)
    return vg_dir


def valgrind_findings(vg_dir):
    """Logs with errors (a clean -q run writes nothing)."""
    bad = []
    for fn in sorted(os.listdir(vg_dir)):
        with open(os.path.join(vg_dir, fn), errors="replace") as f:
            text = f.read()
        if re.search(r"^==\d+== (Invalid|Conditional jump|Use of uninitialised|Syscall param|"
                     r"Mismatched|Source and destination overlap|.*definitely lost)", text, re.M):
            print("---- valgrind %s\n%s" % (fn, text[:3000]))
            bad.append(fn)
    return bad


if __name__ == "__main__":
    sys.exit(main())
