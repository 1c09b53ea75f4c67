"""
test_debian.py - what a Debian 12 server's own configuration needs.
"""
import os

from posthorn import Instance, run, sbin


def test_myorigin_names_a_file():
    """Debian writes "myorigin = /etc/mailname": the first word of that file."""
    with Instance("mailname") as inst:
        mailname = os.path.join(inst.dir, "mailname")
        with open(mailname, "w") as f:
            f.write("origin.example.test\n")
        inst.params["myorigin"] = mailname
        inst.params["mydestination"] += ", origin.example.test"
        inst.write_main()
        inst.start()
        p = run([sbin("sendmail"), "-c", inst.conf, "phedison"],
                input="Subject: cron output\n\nfrom cron\n")
        assert p.returncode == 0, p.stderr
        box = inst.wait_mbox("phedison", "from cron")
        assert "Return-Path: <root@origin.example.test>" in box, box
        assert "From: root <root@origin.example.test>" in box, box
        assert "Delivered-To: phedison@origin.example.test" in box, box
        assert mailname not in box, box
        assert "bad address syntax" not in inst.log()
