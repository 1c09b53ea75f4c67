"""
test_maps.py - postmap, postalias and newaliases as an administrator uses them.
"""
import os
import shutil
import tempfile

from posthorn import Instance, run, sbin


def tmpdir():
    d = tempfile.mkdtemp(prefix="posthorn-maps-", dir="/tmp")
    return d


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
        p = run([sbin("postmap"), src])
        assert p.returncode == 0, p.stderr
        assert os.path.exists(src + ".db")
        p = run([sbin("postmap"), "-q", "example.com", "hash:" + src])
        assert p.returncode == 0 and p.stdout == "REJECT spam source\n", p
        # keys are folded to lower case on lookup
        p = run([sbin("postmap"), "-q", "FRIEND.example", "hash:" + src])
        assert p.stdout == "OK\n", p
        p = run([sbin("postmap"), "-q", "multi.example", src])
        assert p.stdout == "first part continued\n", p
        p = run([sbin("postmap"), "-q", "nosuch.example", "hash:" + src])
        assert p.returncode == 1 and p.stdout == "", p
        p = run([sbin("postmap"), "-s", "hash:" + src])
        lines = sorted(p.stdout.splitlines())
        assert lines == ["example.com\tREJECT spam source", "friend.example\tOK",
                         "multi.example\tfirst part continued"], lines
        p = run([sbin("postmap"), "-d", "friend.example", "hash:" + src])
        assert p.returncode == 0, p
        p = run([sbin("postmap"), "-q", "friend.example", "hash:" + src])
        assert p.returncode == 1
        p = run([sbin("postmap"), "-i", "hash:" + src], input="new.example DUNNO\n")
        assert p.returncode == 0, p
        p = run([sbin("postmap"), "-q", "new.example", "hash:" + src])
        assert p.stdout == "DUNNO\n", p
        p = run([sbin("postmap"), "-q", "-", "hash:" + src], input="example.com\nnope\n")
        assert p.stdout == "example.com\tREJECT spam source\n", p
    finally:
        shutil.rmtree(d)


def test_postmap_btree_and_inline():
    d = tmpdir()
    try:
        src = os.path.join(d, "t")
        with open(src, "w") as f:
            f.write("a 1\nb 2\n")
        assert run([sbin("postmap"), "btree:" + src]).returncode == 0
        assert run([sbin("postmap"), "-q", "b", "btree:" + src]).stdout == "2\n"
        p = run([sbin("postmap"), "-q", "k2", "inline:{k1=v1, { k2 = v 2 }}"])
        assert p.stdout == "v 2\n", p
        p = run([sbin("postmap"), "-q", "anything", "static:{fixed value}"])
        assert p.stdout == "fixed value\n", p
        p = run([sbin("postmap"), "-q", "b", "texthash:" + src])
        assert p.stdout == "2\n", p
    finally:
        shutil.rmtree(d)


def test_postmap_errors():
    p = run([sbin("postmap"), "/nonexistent/file"])
    assert p.returncode != 0 and "postmap: fatal: " in p.stderr, p
    p = run([sbin("postmap"), "-q", "x", "nosuchtype:/etc/passwd"])
    assert p.returncode != 0 and "nosuchtype" in p.stderr, p


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
