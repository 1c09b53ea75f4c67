"""
test_bounce.py - delivery status notifications (the bounce service):
a recipient that local cannot deliver comes back to the sender as an
RFC 3464 report; DSN NOTIFY=NEVER and RET=HDRS are honoured; a bounce
never bounces back to the null sender, and with notify_classes=2bounce
it goes to the postmaster instead.
"""
import os
import re

from posthorn import Instance, wait_for

# smtpd accepts any local part; local then bounces "unknown user"
OPEN_RCPT = {"local_recipient_maps": ""}


def submit(inst, sender, rcpts, body=("Subject: test message", "", "hello there"),
           mail_params="", ehlo=True):
    """One SMTP transaction; rcpts are strings, optionally with parameters.
    Returns the queue id."""
    s = inst.session()
    s.cmd(("EHLO" if ehlo else "HELO") + " client.example")
    assert s.cmd("MAIL FROM:<%s>%s" % (sender, mail_params)) == ["250 2.1.0 Ok"]
    for r in rcpts:
        addr, _, params = r.partition(" ")
        assert s.cmd("RCPT TO:<%s>%s" % (addr, " " + params if params else "")) == \
            ["250 2.1.5 Ok"]
    assert s.cmd("DATA")[0].startswith("354")
    s.send("".join(line + "\r\n" for line in body) + ".\r\n")
    r = s.reply()
    s.cmd("QUIT")
    s.close()
    m = re.search(r"queued as ([0-9A-F]+)", r[0])
    assert m, r
    return m.group(1)


def dsn_fields(part):
    """message/delivery-status: the per-message block and recipient blocks."""
    blocks = part.get_payload()
    assert isinstance(blocks, list) and len(blocks) >= 2, blocks
    return blocks[0], blocks[1:]


def test_unknown_user_bounces_to_sender():
    with Instance("bounce", main=OPEN_RCPT) as inst:
        inst.start()
        qid = submit(inst, "phjonas@example.test", ["nosuchuser@example.test"],
                     ("Subject: lost letter", "Message-Id: <lost@client.example>", "",
                      "this will not arrive"))
        m = inst.wait_log(r"postfix/bounce\[\d+\]: %s: sender non-delivery notification: "
                          r"([0-9A-F]+)$" % qid)
        new_id = m.group(1)
        inst.wait_log(r"postfix/qmgr\[\d+\]: %s: removed" % qid)
        log = inst.log()
        assert re.search(r"postfix/local\[\d+\]: %s: to=<nosuchuser@example.test>, relay=local, "
                         r".*dsn=5\.1\.1, status=bounced \(unknown user: \"nosuchuser\"\)" % qid,
                         log), log
        assert re.search(r"postfix/qmgr\[\d+\]: %s: from=<>, size=\d+, nrcpt=1 \(queue active\)"
                         % new_id, log), log
        inst.wait_mbox("phjonas", "Undelivered Mail Returned to Sender")
        inst.wait_log(r"postfix/qmgr\[\d+\]: %s: removed" % new_id)
        box = inst.mbox("phjonas")
        assert box.startswith("From MAILER-DAEMON "), box[:80]
        assert "Return-Path: <>" in box

        msgs = inst.messages("phjonas")
        assert len(msgs) == 1
        msg = msgs[0]
        # Postfix 3.7's failure template, as Debian's Postfix sends it
        assert msg["From"] == "Mail Delivery System <MAILER-DAEMON@mail.example.test>"
        assert msg["Subject"] == "Undelivered Mail Returned to Sender"
        assert msg["To"] == "phjonas@example.test"
        assert msg["Auto-Submitted"] == "auto-replied"
        assert re.match(r"<\d{14}\.%s@mail\.example\.test>$" % new_id, msg["Message-Id"]), \
            msg["Message-Id"]
        assert msg.get_content_type() == "multipart/report"
        assert msg.get_param("report-type") == "delivery-status"
        parts = msg.get_payload()
        assert [p.get_content_type() for p in parts] == \
            ["text/plain", "message/delivery-status", "message/rfc822"]

        text = parts[0].get_payload()
        # smtputf8_enable = yes (compatibility_level 3.6): utf-8, 8bit, as Postfix
        assert parts[0]["Content-Type"] == "text/plain; charset=utf-8", parts[0]["Content-Type"]
        assert parts[0]["Content-Transfer-Encoding"] == "8bit"
        assert text.startswith(
            "This is the mail system at host mail.example.test.\n\n"
            "I'm sorry to have to inform you that your message could not\n"
            "be delivered to one or more recipients. It's attached below.\n\n"
            "For further assistance, please send mail to postmaster.\n\n"
            "If you do so, please include this problem report. You can\n"
            "delete your own text from the attached returned message.\n\n"
            "                   The mail system\n\n"), text
        # the returned message keeps its Return-Path, as Postfix returns it
        returned = parts[2].get_payload()[0]
        assert returned["Return-Path"] == "<phjonas@example.test>", returned.items()
        assert "\nReturn-Path: <phjonas@example.test>\nReceived: from " in box, box
        assert '<nosuchuser@example.test>: unknown user: "nosuchuser"' in text

        per_msg, per_rcpt = dsn_fields(parts[1])
        assert per_msg["Reporting-MTA"] == "dns; mail.example.test"
        assert per_msg["X-Postfix-Queue-ID"] == qid
        assert per_msg["X-Postfix-Sender"] == "rfc822; phjonas@example.test"
        assert per_msg["Arrival-Date"]
        assert len(per_rcpt) == 1
        r = per_rcpt[0]
        assert r["Final-Recipient"] == "rfc822; nosuchuser@example.test"
        assert r["Original-Recipient"] == "rfc822;nosuchuser@example.test"
        assert r["Action"] == "failed"
        assert r["Status"] == "5.1.1"
        assert r["Diagnostic-Code"] == 'X-Postfix; unknown user: "nosuchuser"'

        orig = parts[2].get_payload()[0]
        assert orig["Subject"] == "lost letter"
        assert orig["Message-Id"] == "<lost@client.example>"
        assert "this will not arrive" in orig.get_payload()
        # the log is gone with the message
        assert inst.queue_files("bounce") == []


def test_ret_hdrs_and_envid():
    with Instance("bouncehdrs", main=OPEN_RCPT) as inst:
        inst.start()
        qid = submit(inst, "phjonas@example.test", ["nosuchuser@example.test"],
                     ("Subject: headers only", "", "secret body text"),
                     mail_params=" RET=HDRS ENVID=env-42")
        inst.wait_log(r"%s: sender non-delivery notification: " % qid)
        inst.wait_mbox("phjonas", "Undelivered Mail Returned to Sender")
        msg = wait_for(lambda: inst.messages("phjonas"), 10, "the bounce")[0]
        parts = msg.get_payload()
        assert parts[2].get_content_type() == "text/rfc822-headers"
        per_msg, _ = dsn_fields(parts[1])
        assert per_msg["Original-Envelope-Id"] == "env-42"
        assert "Subject: headers only" in inst.mbox("phjonas")
        assert "secret body text" not in inst.mbox("phjonas")


def test_notify_never_sends_no_bounce():
    with Instance("bouncenever", main=OPEN_RCPT) as inst:
        inst.start()
        qid = submit(inst, "phjonas@example.test",
                     ["nosuchuser@example.test NOTIFY=NEVER"])
        inst.wait_log(r"postfix/qmgr\[\d+\]: %s: removed" % qid)
        # a control message after it shows the mail system kept going
        qid2 = submit(inst, "phedison@example.test", ["phjonas@example.test"],
                      ("Subject: control", "", "control body"))
        inst.wait_mbox("phjonas", "control body")
        inst.wait_log(r"%s: removed" % qid2)
        log = inst.log()
        assert re.search(r"%s: to=<nosuchuser@example.test>, .*status=bounced" % qid, log), log
        assert "non-delivery notification" not in log, log
        assert "Undelivered Mail" not in inst.mbox("phjonas")
        assert inst.queue_files("bounce") == []


def test_bounce_of_null_sender_is_not_returned():
    with Instance("bouncenull", main=OPEN_RCPT) as inst:
        inst.write_aliases("postmaster: phalice\n")
        inst.start()
        qid = submit(inst, "", ["nosuchuser@example.test"])
        inst.wait_log(r"postfix/qmgr\[\d+\]: %s: removed" % qid)
        log = inst.log()
        assert re.search(r"%s: to=<nosuchuser@example.test>, .*status=bounced" % qid, log), log
        # notify_classes has no 2bounce by default: dropped, no loop, no new mail
        assert "non-delivery notification" not in log, log
        assert len(re.findall(r"postfix/qmgr\[\d+\]: [0-9A-F]+: from=", log)) == 1, log
        assert inst.mbox("phalice") == ""
        assert inst.queue_files("bounce") == []


def test_undeliverable_bounce_goes_to_postmaster():
    main = dict(OPEN_RCPT, notify_classes="resource, software, 2bounce")
    with Instance("bounce2", main=main) as inst:
        inst.write_aliases("postmaster: phalice\n")
        inst.start()
        qid = submit(inst, "", ["nosuchuser@example.test"],
                     ("Subject: a bounce that bounces", "", "bounce body"))
        m = inst.wait_log(r"postfix/bounce\[\d+\]: %s: postmaster non-delivery notification: "
                          r"([0-9A-F]+)$" % qid)
        new_id = m.group(1)
        inst.wait_mbox("phalice", "Postmaster Copy: Undelivered Mail")
        inst.wait_log(r"postfix/qmgr\[\d+\]: %s: removed" % new_id)
        log = inst.log()
        assert re.search(r"%s: from=<double-bounce@mail.example.test>, size=\d+, nrcpt=1"
                         % new_id, log), log
        assert "sender non-delivery notification" not in log
        msg = inst.messages("phalice")[0]
        assert msg["From"] == "Mail Delivery System <MAILER-DAEMON@mail.example.test>"
        assert msg["Return-Path"] == "<double-bounce@mail.example.test>"
        parts = msg.get_payload()
        per_msg, per_rcpt = dsn_fields(parts[1])
        assert per_msg["X-Postfix-Sender"] == "rfc822; "
        assert per_rcpt[0]["Final-Recipient"] == "rfc822; nosuchuser@example.test"
        assert per_rcpt[0]["Status"] == "5.1.1"
        assert parts[2].get_content_type() == "message/rfc822"
        assert "bounce body" in inst.mbox("phalice")
        # exactly one notice: the postmaster one was delivered, not bounced again
        assert len(re.findall(r"non-delivery notification", log)) == 1, log


def test_bounce_kept_while_bounce_service_is_down():
    import socket
    with Instance("bouncedown", main=OPEN_RCPT) as inst:
        full = inst.edit_master_cf(r"^bounce\s+unix\s.*$", "")
        inst.start()
        qid = submit(inst, "phjonas@example.test", ["nosuchuser@example.test"],
                     ("Subject: wait for it", "", "kept body"))
        inst.wait_log(r"postfix/qmgr\[\d+\]: warning: %s: connect to private/bounce: .*; "
                      r"non-delivery notification deferred" % qid)
        # the message waits in deferred/ with its bounce log
        wait_for(lambda: qid in inst.queue_files("deferred"), 10, "deferred queue file")
        assert qid in inst.queue_files("bounce")
        assert not re.search(r"%s: removed" % qid, inst.log())
        # the service comes back: the notice goes out, then the message goes
        inst.write_master_cf(full)
        inst.cmd("postfix", "reload", check=True)
        wait_for(lambda: os.path.exists(os.path.join(inst.queue, "private", "bounce")),
                 10, "private/bounce")
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(os.path.join(inst.queue, "public", "qmgr"))
        s.sendall(b"A")
        s.close()
        inst.wait_log(r"%s: sender non-delivery notification: [0-9A-F]+" % qid)
        inst.wait_log(r"postfix/qmgr\[\d+\]: %s: removed" % qid)
        inst.wait_mbox("phjonas", "kept body")
        assert "Undelivered Mail Returned to Sender" in inst.mbox("phjonas")
        assert inst.queue_files("bounce") == [] and inst.queue_files("deferred") == []
