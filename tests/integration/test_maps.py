"""
test_maps.py - postmap, postalias and newaliases as an administrator uses them.
"""
import os
import shutil
import tempfile

from posthorn import Instance, run, sbin


def tmpdir():
    """A scratch directory that is also a config directory (postmap reads main.cf)."""
    d = tempfile.mkdtemp(prefix="posthorn-maps-", dir="/tmp")
    with open(os.path.join(d, "main.cf"), "w") as f:
        f.write("compatibility_level = 3.6\n")
    return d


def postmap(d, *args, input=None):
    return run([sbin("postmap"), "-c", d] + list(args), input=input)


def test_postmap_build_query_dump_delete():
    d = tmpdir()
    try:
        src = os.path.join(d, "access")
        with open(src, "w") as f:
            f.write("# comment\n"
                    "Example.COM   REJECT spam source\n"
                    "friend.example OK\n"
                    "multi.example  first part\n"
                    "   continued\n")
        p = postmap(d, src)
        assert p.returncode == 0, p.stderr
        assert os.path.exists(src + ".db")
        p = postmap(d, "-q", "example.com", "hash:" + src)
        assert p.returncode == 0 and p.stdout == "REJECT spam source\n", p
        # keys are folded to lower case on lookup
        p = postmap(d, "-q", "FRIEND.example", "hash:" + src)
        assert p.stdout == "OK\n", p
        p = postmap(d, "-q", "multi.example", src)
        assert p.stdout == "first part   continued\n", p  # continuation keeps its white space
        p = postmap(d, "-q", "nosuch.example", "hash:" + src)
        assert p.returncode == 1 and p.stdout == "", p
        p = postmap(d, "-s", "hash:" + src)
        lines = sorted(p.stdout.splitlines())
        assert lines == ["example.com\tREJECT spam source", "friend.example\tOK",
                         "multi.example\tfirst part   continued"], lines
        p = postmap(d, "-d", "friend.example", "hash:" + src)
        assert p.returncode == 0, p
        p = postmap(d, "-q", "friend.example", "hash:" + src)
        assert p.returncode == 1
        p = postmap(d, "-i", "hash:" + src, input="new.example DUNNO\n")
        assert p.returncode == 0, p
        p = postmap(d, "-q", "new.example", "hash:" + src)
        assert p.stdout == "DUNNO\n", p
        p = postmap(d, "-q", "-", "hash:" + src, input="example.com\nnope\n")
        assert p.stdout == "example.com\tREJECT spam source\n", p
    finally:
        shutil.rmtree(d)


def test_postmap_btree_and_inline():
    d = tmpdir()
    try:
        src = os.path.join(d, "t")
        with open(src, "w") as f:
            f.write("a 1\nb 2\n")
        assert postmap(d, "btree:" + src).returncode == 0
        assert postmap(d, "-q", "b", "btree:" + src).stdout == "2\n"
        p = postmap(d, "-q", "k2", "inline:{k1=v1, { k2 = v 2 }}")
        assert p.stdout == "v 2\n", p
        p = postmap(d, "-q", "anything", "static:{fixed value}")
        assert p.stdout == "fixed value\n", p
        p = postmap(d, "-q", "b", "texthash:" + src)
        assert p.stdout == "2\n", p
    finally:
        shutil.rmtree(d)


def test_postmap_errors():
    p = run([sbin("postmap"), "-c", "/nonexistent/dir", "/etc/hosts"])
    assert p.returncode != 0 and "postmap: fatal: open /nonexistent/dir/main.cf" in p.stderr, p
    d = tmpdir()
    p = postmap(d, "/nonexistent/file")
    assert p.returncode != 0 and "postmap: fatal: " in p.stderr, p
    p = postmap(d, "-q", "x", "nosuchtype:/etc/passwd")
    assert p.returncode != 0 and "nosuchtype" in p.stderr, p
    shutil.rmtree(d)


def test_postalias_and_newaliases():
    with Instance("aliases") as inst:
        path = os.path.join(inst.conf, "aliases")
        with open(path, "w") as f:
            f.write("postmaster: root\nTeam: phedison,\n  phjonas\n")
        p = inst.cmd("postalias", path)
        assert p.returncode == 0, p.stderr
        p = inst.cmd("postalias", "-q", "team", "hash:" + path)
        assert p.stdout.replace(" ", "") == "phedison,phjonas\n", p
        with open(path, "a") as f:
            f.write("extra: root\n")
        # newaliases rebuilds alias_database
        newaliases = os.path.join(inst.dir, "newaliases")
        os.symlink(sbin("postalias"), newaliases)
        p = run([newaliases, "-c", inst.conf])
        assert p.returncode == 0, p.stderr
        p = inst.cmd("postalias", "-q", "extra", "hash:" + path)
        assert p.stdout == "root\n", p
