"""
test_setgid_env.py - the set-gid commands (postdrop, postqueue) take a
configuration directory from an unprivileged invoker (-c or
MAIL_CONFIG) only when the default main.cf lists it in
alternate_config_directories, and start with a clean environment.
"""
import grp
import os
import stat

from posthorn import Instance, run, sbin


def setgid(path):
    st = os.stat(path)
    os.chown(path, 0, grp.getgrnam("postdrop").gr_gid)
    os.chmod(path, 0o2755)
    return st


def restore(path, st):
    os.chown(path, st.st_uid, st.st_gid)
    os.chmod(path, stat.S_IMODE(st.st_mode))


def refused(p, conf):
    """Refused: not listed in /etc/postfix/main.cf, or (on a host without
    one, as Postfix does too) that file cannot be read."""
    return p.returncode != 0 and (
        "fatal: %s: not listed in alternate_config_directories of /etc/postfix/main.cf" % conf
        in p.stderr or "fatal: open /etc/postfix/main.cf: " in p.stderr)


def test_unlisted_config_dir_is_refused():
    with Instance("setgid-env") as inst:
        pd, pq = sbin("postdrop"), sbin("postqueue")
        saved = [(p, setgid(p)) for p in (pd, pq)]
        try:
            p = run(["runuser", "-u", "phjonas", "--", pd, "-c", inst.conf],
                    input="Subject: x\n\nx\n")
            assert refused(p, inst.conf), (p.returncode, p.stderr)
            assert inst.queue_files("maildrop") == []
            p = run(["runuser", "-u", "phjonas", "--", "env", "MAIL_CONFIG=" + inst.conf, pq, "-p"])
            assert refused(p, inst.conf), (p.returncode, p.stderr)
            p = run(["runuser", "-u", "phjonas", "--", pq, "-c", "relative/dir", "-p"])
            assert p.returncode == 69, (p.returncode, p.stderr)
            assert "configuration directory must be absolute: relative/dir" in p.stderr, p.stderr
        finally:
            for path, st in saved:
                restore(path, st)
