"""
test_install.py - make install lays out a Postfix-compatible tree.
"""
import os
import shutil
import stat
import tempfile

from posthorn import REPO, run


def test_make_install_layout():
    d = tempfile.mkdtemp(prefix="posthorn-install-", dir="/tmp")
    try:
        p = run(["make", "-s", "-C", REPO, "install", "DESTDIR=" + d,
                 "BIN=" + os.environ.get("POSTHORN_BIN", "bin")])
        assert p.returncode == 0, p.stdout + p.stderr
        for cmd in ("postfix", "postmap", "postalias", "postconf"):
            path = os.path.join(d, "usr/sbin", cmd)
            assert os.access(path, os.X_OK), path
        for daemon in ("master", "smtpd", "cleanup", "qmgr", "trivial-rewrite", "local", "postlogd"):
            path = os.path.join(d, "usr/libexec/posthorn", daemon)
            assert os.access(path, os.X_OK), path
        assert os.path.islink(os.path.join(d, "usr/bin/newaliases"))
        for conf in ("main.cf", "master.cf"):
            assert os.path.isfile(os.path.join(d, "etc/postfix", conf)), conf
        # no setuid programs
        for root, _, files in os.walk(d):
            for f in files:
                m = os.lstat(os.path.join(root, f)).st_mode
                assert not (m & stat.S_ISUID), f
    finally:
        shutil.rmtree(d)
