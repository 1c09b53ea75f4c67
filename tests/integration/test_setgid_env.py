"""
test_setgid_env.py - the set-gid commands (postdrop, postqueue) take a
configuration directory from an unprivileged invoker (-c or
MAIL_CONFIG) only when the default main.cf lists it in
alternate_config_directories, and start with a clean environment.
"""
from posthorn import Instance, run, sbin, setgid_programs


def refused(p, conf):
    """Refused: not listed in /etc/postfix/main.cf, or (on a host without
    one, as Postfix does too) that file cannot be read."""
    return p.returncode != 0 and (
        "fatal: %s: not listed in alternate_config_directories of /etc/postfix/main.cf" % conf
        in p.stderr or "fatal: open /etc/postfix/main.cf: " in p.stderr)


def test_unlisted_config_dir_is_refused():
    with Instance("setgid-env") as inst:
        pd, pq = sbin("postdrop"), sbin("postqueue")
        with setgid_programs(inst, "postdrop", "postqueue", listed=False):
            p = run(["runuser", "-u", "phjonas", "--", pd, "-c", inst.conf],
                    input="Subject: x\n\nx\n")
            assert refused(p, inst.conf), (p.returncode, p.stderr)
            assert inst.queue_files("maildrop") == []
            p = run(["runuser", "-u", "phjonas", "--", "env", "MAIL_CONFIG=" + inst.conf, pq, "-p"])
            assert refused(p, inst.conf), (p.returncode, p.stderr)
            p = run(["runuser", "-u", "phjonas", "--", pq, "-c", "relative/dir", "-p"])
            assert p.returncode == 69, (p.returncode, p.stderr)
            assert "configuration directory must be absolute: relative/dir" in p.stderr, p.stderr
