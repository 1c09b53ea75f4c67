"""
run.py - runs the integration tests: every test_* function in every
tests/integration/test_*.py, each against instances it starts itself.

Setup (root only): installs the built binaries into a temporary root with
`make install DESTDIR=...`, creates the postfix user and postdrop group
when missing, and throw-away test users; removes the users at the end.
Prints one line per test and a closing "N passed, N failed".
"""
import importlib
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
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
