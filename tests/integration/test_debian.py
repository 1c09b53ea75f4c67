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


def test_debian_mynetworks_parse_and_match():
    """Debian's mynetworks: IPv4, an IPv4-mapped IPv6 network and [::1]."""
    from smtp_sink import SmtpSink
    with SmtpSink() as sink, \
            Instance("mynet", main={"mynetworks": "[::ffff:127.0.0.0]/104 [::1]/128",
                                    "relayhost": "[127.0.0.1]:%d" % sink.port}) as inst:
        inst.start()
        # 127.0.0.1 is inside only through the IPv4-mapped network
        s = inst.smtp()
        s.ehlo("client.test")
        assert s.mail("jonas@example.test")[0] == 250
        code, text = s.rcpt("someone@remote.example")
        assert code == 250, (code, text)
        s.quit()
        log = inst.log()
        assert "bad address pattern" not in log and "bad net/mask" not in log, log
