"""
test_install.py - make install lays out a Postfix-compatible tree.
"""
import grp
import os
import shutil
import stat
import tempfile

from posthorn import REPO, run


def test_make_install_layout():
    d = tempfile.mkdtemp(prefix="posthorn-install-", dir="/tmp")
    try:
        p = run(["make", "-s", "-C", REPO, "install", "DESTDIR=" + d,
                 "BIN=" + os.environ.get("POSTHORN_BIN", "bin"),
                 "OBJ=" + os.environ.get("POSTHORN_OBJ", "build")])
        assert p.returncode == 0, p.stdout + p.stderr
        for cmd in ("postfix", "postmap", "postalias", "postconf", "sendmail", "postdrop",
                    "postqueue", "postsuper", "postcat", "postlog"):
            path = os.path.join(d, "usr/sbin", cmd)
            assert os.access(path, os.X_OK), path
        for daemon in ("master", "smtpd", "cleanup", "qmgr", "trivial-rewrite", "local", "postlogd",
                       "pickup", "smtp", "lmtp", "bounce", "showq", "anvil", "policy-spf"):
            path = os.path.join(d, "usr/libexec/posthorn", daemon)
            assert os.access(path, os.X_OK), path
        assert os.path.islink(os.path.join(d, "usr/bin/newaliases"))
        assert os.path.islink(os.path.join(d, "usr/bin/mailq"))
        # postdrop, postqueue and postlog are setgid postdrop, as in Postfix
        for cmd in ("postdrop", "postqueue", "postlog"):
            st = os.stat(os.path.join(d, "usr/sbin", cmd))
            assert st.st_mode & stat.S_ISGID and grp.getgrgid(st.st_gid).gr_name == "postdrop", cmd
        for conf in ("main.cf", "master.cf"):
            assert os.path.isfile(os.path.join(d, "etc/postfix", conf)), conf
        # no setuid programs
        for root, _, files in os.walk(d):
            for f in files:
                m = os.lstat(os.path.join(root, f)).st_mode
                assert not (m & stat.S_ISUID), f
    finally:
        shutil.rmtree(d)
