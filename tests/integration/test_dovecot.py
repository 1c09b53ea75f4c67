"""
test_dovecot.py - delivery into a real Dovecot (Debian's dovecot-core and
dovecot-lmtpd, started privately by dovecot.py): LMTP over the unix
socket $queue_directory/private/dovecot-lmtp and over 127.0.0.1:<port>
with per-recipient replies in one transaction (one delivered, one unknown
-> bounced 5.1.1 at RCPT, one over its quota -> Dovecot's 552 5.2.2 after
the final dot), a front end with virtual_transport = lmtp:unix:... and
local delivery disabled (local_transport = error:...), and the pipe agent
with dovecot-lda (flags=DRhu user=vmail) writing a Maildir.
"""
import os
import re

from dovecot import LDA, Dovecot
from posthorn import Instance
from test_smtp import submit

USERS = {
    "alice@dove.example": "",
    "full@dove.example": "userdb_quota_rule=*:storage=1K",
    "bob@inet.dove.example": "",
}

BODY = (b"From: jonas@example.test\r\n"
        b"Subject: to dovecot\r\n"
        b"\r\n"
        b"..a leading dot\r\n"
        + b"filler line to go over a small quota\r\n" * 60)

SOCKET = "lmtp:unix:private/dovecot-lmtp"


def dovecot_for(inst, users=USERS):
    return Dovecot(os.path.join(inst.queue, "private", "dovecot-lmtp"), users)


def test_lmtp_unix_socket_per_recipient_replies():
    with Instance("dove-unix", main={"default_transport": SOCKET}) as inst:
        inst.start()
        with dovecot_for(inst) as dv:
            qid = submit(inst, ["alice@dove.example", "nobody@dove.example",
                                "full@dove.example"], BODY)
            msg, = dv.wait_messages("alice@dove.example")
            assert b"\n.a leading dot\n" in msg, msg
            assert re.search(rb"(?m)^Return-Path: <jonas@example\.test>$", msg), msg
            inst.wait_log(r"postfix/lmtp\[\d+\]: %s: to=<alice@dove\.example>, relay=\S+, "
                          r".*dsn=2\.0\.0, status=sent \(250 2\.0\.0 <alice@dove\.example> "
                          % qid)
            inst.wait_log(r"%s: to=<nobody@dove\.example>, .*dsn=5\.1\.1, status=bounced "
                          r"\(host \S+ said: 550 5\.1\.1 <nobody@dove\.example> User doesn't "
                          r"exist: nobody@dove\.example \(in reply to RCPT TO command\)\)" % qid)
            inst.wait_log(r"%s: to=<full@dove\.example>, .*dsn=5\.2\.2, status=bounced "
                          r"\(host \S+ said: 552 5\.2\.2 <full@dove\.example> Quota exceeded"
                          r".*\(in reply to end of DATA command\)\)" % qid)
            assert dv.messages("full@dove.example") == []


def test_lmtp_inet():
    with Instance("dove-inet") as inst:
        inst.start()
        with dovecot_for(inst) as dv:
            inst.params["default_transport"] = "lmtp:inet:127.0.0.1:%d" % dv.port
            inst.write_main()
            inst.cmd("postfix", "reload", check=True)
            inst.wait_log(r"reload")
            qid = submit(inst, ["bob@inet.dove.example"], BODY)
            msg, = dv.wait_messages("bob@inet.dove.example")
            assert b"Subject: to dovecot" in msg
            inst.wait_log(r"%s: to=<bob@inet\.dove\.example>, relay=127\.0\.0\.1\[127\.0\.0\.1\]"
                          r":%d, .*status=sent \(250 2\.0\.0 <bob@inet\.dove\.example> "
                          % (qid, dv.port))


def test_virtual_transport_lmtp_front_end():
    """A front end: virtual domains to Dovecot over LMTP, local delivery off."""
    main = {
        "virtual_mailbox_domains": "dove.example",
        "virtual_mailbox_maps": "inline:{alice@dove.example=ok, full@dove.example=ok}",
        "virtual_transport": SOCKET,
        "local_transport": "error:local mail delivery is disabled",
    }
    with Instance("dove-front", main=main) as inst:
        inst.start()
        with dovecot_for(inst) as dv:
            qid = submit(inst, ["alice@dove.example"], BODY)
            dv.wait_messages("alice@dove.example")
            inst.wait_log(r"%s: to=<alice@dove\.example>, .*status=sent" % qid)
            s = inst.session(helo="EHLO client.test", sender="jonas@example.test")
            r = s.cmd("RCPT TO:<nobody@dove.example>")
            assert r[0].startswith("550 5.1.1 <nobody@dove.example>: Recipient address "
                                   "rejected: User unknown in virtual mailbox table"), r
            s.cmd("QUIT")
            s.close()
            qid = submit(inst, ["phjonas@example.test"], BODY)
            inst.wait_log(r"%s: to=<phjonas@example\.test>, relay=none, .*dsn=5\.0\.0, "
                          r"status=bounced \(local mail delivery is disabled\)" % qid)


def test_pipe_dovecot_lda_into_maildir():
    with Instance("dove-lda") as inst:
        # no LMTP here: the listener outside the (not yet started) queue
        with Dovecot(os.path.join(inst.dir, "dovecot-lmtp"), USERS) as dv:
            inst.params.update({
                "transport_maps": "inline:{dove.example=dovecot}",
                "dovecot_destination_recipient_limit": "1",
            })
            inst.write_main()
            inst.append_master_cf(
                "dovecot unix - n n - - pipe\n"
                "  flags=DRhu user=vmail argv=%s -c %s -f ${sender} -a ${recipient} "
                "-d ${user}@${nexthop}\n" % (LDA, dv.conf))
            inst.start()
            qid = submit(inst, ["Alice@Dove.Example", "nobody@dove.example"], BODY)
            msg, = dv.wait_messages("alice@dove.example")
            assert re.search(rb"(?m)^Delivered-To: Alice@Dove\.Example$", msg), msg  # case kept, as Postfix
            assert re.search(rb"(?m)^Return-Path: <jonas@example\.test>$", msg), msg
            assert b"\n.a leading dot\n" in msg, msg
            inst.wait_log(r"postfix/pipe\[\d+\]: %s: to=<Alice@Dove\.Example>, relay=dovecot, "
                          r".*dsn=2\.0\.0, status=sent \(delivered via dovecot service\)" % qid)
            inst.wait_log(r"postfix/pipe\[\d+\]: %s: to=<nobody@dove\.example>, relay=dovecot, "
                          r".*dsn=5\.1\.1, status=bounced \(user unknown" % qid)
