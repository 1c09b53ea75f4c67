"""
test_header_actions.py - header_checks actions beyond REJECT/IGNORE/HOLD
(REPLACE, PREPEND, BCC, REDIRECT, WARN), MIME part headers, and
recipient_canonical_maps, through a running instance.
"""
import re

from posthorn import Instance

CHECKS = r"""/^Subject: replace me/ REPLACE Subject: replaced
/^Subject: prepend me/ PREPEND X-Prepended: yes
/^Subject: bcc me/ BCC phalice@example.test
/^Subject: redirect me/ REDIRECT phjonas@example.test
/^Subject: warn me/ WARN looks odd
/^Content-Type: application\/x-evil/ REJECT evil attachment
"""


def send(inst, subject, body="body\r\n", extra="", rcpt="phedison@example.test"):
    s = inst.session(helo="EHLO client.example", sender="jonas@example.test")
    s.cmd("RCPT TO:<%s>" % rcpt)
    s.cmd("DATA")
    s.send("Subject: %s\r\n%s\r\n%s.\r\n" % (subject, extra, body))
    r = s.reply()
    s.cmd("QUIT")
    return r[0]


def checks_instance(name):
    inst = Instance(name)
    inst.params["header_checks"] = "regexp:" + inst.write_table("header_checks", CHECKS)
    inst.write_main()
    return inst


def test_replace_prepend_warn():
    with checks_instance("hdract") as inst:
        inst.start()
        assert send(inst, "replace me").startswith("250 ")
        box = inst.wait_mbox("phedison", r"^Subject: replaced$")
        assert "Subject: replace me" not in box
        assert send(inst, "prepend me").startswith("250 ")
        box = inst.wait_mbox("phedison", r"^X-Prepended: yes\nSubject: prepend me$")
        r = send(inst, "warn me")
        qid = re.search(r"queued as ([0-9A-F]+)", r).group(1)
        inst.wait_log(r"%s: warning: header Subject: warn me from \S+\[127\.0\.0\.1\]; "
                      r"from=<jonas@example\.test> to=<phedison@example\.test> "
                      r"proto=ESMTP helo=<client\.example>: looks odd" % qid)
        inst.wait_mbox("phedison", r"^Subject: warn me$")


def test_bcc_and_redirect():
    with checks_instance("hdrbcc") as inst:
        inst.start()
        assert send(inst, "bcc me").startswith("250 ")
        inst.wait_mbox("phedison", r"^Subject: bcc me$")
        inst.wait_mbox("phalice", r"^Subject: bcc me$")
        assert send(inst, "redirect me").startswith("250 ")
        inst.wait_mbox("phjonas", r"^Subject: redirect me$")
        inst.wait_log(r"to=<phjonas@example\.test>.*status=sent")
        assert "redirect me" not in inst.mbox("phedison")


def test_mime_part_header_rejected():
    with checks_instance("hdrmime") as inst:
        inst.start()
        boundary = "XYZ"
        extra = ("MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"%s\"\r\n"
                 % boundary)
        body = ("--%s\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
                "--%s\r\nContent-Type: application/x-evil\r\n\r\nAAAA\r\n--%s--\r\n"
                % (boundary, boundary, boundary))
        r = send(inst, "with attachment", body=body, extra=extra)
        assert r == "550 5.7.1 evil attachment", r
        inst.wait_log(r"reject: header Content-Type: application/x-evil from \S+\[127\.0\.0\.1\]; "
                      r"from=<jonas@example\.test> to=<phedison@example\.test> proto=ESMTP "
                      r"helo=<client\.example>: 5\.7\.1 evil attachment")


def test_recipient_canonical_maps():
    main = {"recipient_canonical_maps": "inline:{oldname@example.test=phjonas@example.test}"}
    with Instance("rcptcanon", main=main) as inst:
        inst.start()
        # smtpd accepts the old name only if it exists; use an empty local_recipient_maps
        inst.params["local_recipient_maps"] = ""
        inst.write_main()
        inst.cmd("postfix", "reload", check=True)
        import time
        time.sleep(1)
        assert send(inst, "renamed", rcpt="oldname@example.test").startswith("250 ")
        box = inst.wait_mbox("phjonas", r"^Subject: renamed$")
        assert "X-Original-To: oldname@example.test" in box
