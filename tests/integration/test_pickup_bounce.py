"""
test_pickup_bounce.py - a locally submitted message that cleanup rejects
for good (header_checks REJECT, message_size_limit, hopcount_limit) is
not lost: pickup removes the maildrop file, and the sender gets a
non-delivery notification that names the reason. Also: a header_checks
DISCARD really discards.
"""
import re
import time

from posthorn import Instance, wait_for
from test_submit import sendmail, unprivileged_submission


def start_with_header_checks(inst, text):
    inst.params["header_checks"] = "regexp:" + inst.write_table("header_checks", text)
    inst.write_main()
    inst.start()


def submit_as_jonas(inst, body, rcpt="phedison@example.test"):
    with unprivileged_submission(inst):
        p = sendmail(inst, [rcpt], body, user="phjonas")
    assert p.returncode == 0, p.stderr
    m = inst.wait_log(r"postfix/pickup\[\d+\]: ([0-9A-F]+): uid=\d+ from=<phjonas>")
    return m.group(1)


def the_bounce(inst, qid):
    """Wait for the notice about qid in phjonas's mailbox; (message, parts)."""
    inst.wait_log(r"postfix/bounce\[\d+\]: %s: sender non-delivery notification: " % qid)
    inst.wait_log(r"postfix/qmgr\[\d+\]: %s: removed" % qid)
    inst.wait_mbox("phjonas", "Undelivered Mail Returned to Sender")
    msgs = inst.messages("phjonas")
    assert len(msgs) == 1, [m["Subject"] for m in msgs]
    msg = msgs[0]
    assert msg["To"] == "phjonas@mail.example.test"
    assert msg.get_content_type() == "multipart/report"
    parts = msg.get_payload()
    return msg, parts


def rcpt_block(parts):
    blocks = parts[1].get_payload()
    assert isinstance(blocks, list) and len(blocks) == 2, blocks
    return blocks[1]


def assert_nothing_left(inst, qid):
    queues = ("maildrop", "incoming", "active", "deferred", "hold", "bounce")
    try:        # the bounce message itself leaves active/ just after its delivery
        wait_for(lambda: not any(inst.queue_files(q) for q in queues), 10, "empty queues")
    except AssertionError:
        pass    # named below
    for q in queues:
        assert inst.queue_files(q) == [], (q, inst.queue_files(q))


def test_header_checks_reject_bounces_to_local_sender():
    with Instance("pbounce-rej") as inst:
        start_with_header_checks(inst, "/^Subject: reject me/ REJECT no thanks\n")
        qid = submit_as_jonas(inst, "Subject: reject me please\n\nrejected body text\n")
        msg, parts = the_bounce(inst, qid)
        log = inst.log()
        assert re.search(r"postfix/cleanup\[\d+\]: %s: reject: header Subject: reject me please "
                         r"from local; from=<phjonas@mail\.example\.test> to=<phedison@example\.test>: "
                         r"5\.7\.1 no thanks" % qid, log), log
        assert re.search(r"postfix/cleanup\[\d+\]: %s: to=<phedison@example\.test>, relay=none, "
                         r"delay=[\d.]+, delays=[\d.]+/0/0/0, dsn=5\.7\.1, "
                         r"status=bounced \(no thanks\)" % qid, log), log
        assert "message rejected" not in log, log    # pickup got "queued", not a rejection
        text = parts[0].get_payload()
        assert "<phedison@example.test>: no thanks" in text, text
        r = rcpt_block(parts)
        assert r["Final-Recipient"] == "rfc822; phedison@example.test"
        assert r["Action"] == "failed"
        assert r["Status"] == "5.7.1"
        assert r["Diagnostic-Code"] == "X-Postfix; no thanks"
        assert parts[2].get_content_type() == "text/rfc822-headers"
        assert "rejected body text" not in str(msg)
        assert inst.messages("phedison") == []
        assert_nothing_left(inst, qid)


def test_size_limit_bounces_to_local_sender():
    """sendmail and postdrop refuse a maildrop file bigger than
    message_size_limit (test_submit); one that was queued before the
    limit was lowered (here: while the mail system was down) is bounced
    by cleanup when pickup takes it."""
    with Instance("pbounce-size") as inst:
        inst.start()
        inst.stop()
        body = "Subject: too big\n\n" + ("x" * 70 + "\n") * 200
        with unprivileged_submission(inst):
            p = sendmail(inst, ["phedison@example.test"], body, user="phjonas")
        assert p.returncode == 0, p.stderr
        assert len(inst.queue_files("maildrop")) == 1
        inst.params["message_size_limit"] = "4000"
        inst.write_main()
        inst.start()
        qid = inst.wait_log(r"postfix/pickup\[\d+\]: ([0-9A-F]+): uid=\d+ from=<phjonas>").group(1)
        msg, parts = the_bounce(inst, qid)
        log = inst.log()
        assert re.search(r"postfix/cleanup\[\d+\]: warning: %s: queue file size limit exceeded"
                         % qid, log), log
        assert re.search(r"postfix/cleanup\[\d+\]: %s: to=<phedison@example\.test>, relay=none, "
                         r".*dsn=5\.3\.4, status=bounced \(message file too big\)" % qid, log), log
        r = rcpt_block(parts)
        assert r["Status"] == "5.3.4"
        assert r["Diagnostic-Code"] == "X-Postfix; message file too big"
        assert "Subject: too big" in parts[2].get_payload()
        assert inst.messages("phedison") == []
        assert_nothing_left(inst, qid)


def test_hopcount_bounces_and_smtp_still_rejects():
    with Instance("pbounce-hops", main={"hopcount_limit": "2"}) as inst:
        inst.start()
        hops = "Received: from a\nReceived: from b\nReceived: from c\n"
        qid = submit_as_jonas(inst, hops + "Subject: loop\n\nloop body\n")
        msg, parts = the_bounce(inst, qid)
        assert rcpt_block(parts)["Status"] == "5.4.0"
        assert rcpt_block(parts)["Diagnostic-Code"] == "X-Postfix; too many hops"
        # smtpd does not ask for bounces: the SMTP client gets the rejection
        s = inst.smtp()
        s.ehlo("client.example")
        code, text = s.mail("phalice@example.test")[0], None
        s.rcpt("phedison@example.test")
        code, text = s.data((hops + "Subject: loop2\r\n\r\nx\r\n").encode())
        s.quit()
        assert (code, text) == (554, b"5.4.0 Error: too many hops"), (code, text)
        time.sleep(0.5)
        assert len(inst.messages("phjonas")) == 1
        assert inst.messages("phedison") == []


def test_header_checks_discard_discards():
    with Instance("pbounce-disc") as inst:
        start_with_header_checks(inst, "/^Subject: drop me/ DISCARD\n")
        qid = submit_as_jonas(inst, "Subject: drop me\n\ndropped body\n")
        inst.wait_log(r"postfix/cleanup\[\d+\]: %s: discard: header Subject: drop me" % qid)
        submit_as_jonas(inst, "Subject: keep me\n\nkept body\n")
        box = inst.wait_mbox("phedison", "kept body")
        assert "dropped body" not in box
        # delivered is not yet removed from active/; the discarded one never gets here
        kept = inst.wait_log(r"postfix/qmgr\[\d+\]: ([0-9A-F]+): removed").group(1)
        assert kept != qid
        assert "%s: removed" % qid not in inst.log()   # never queued for delivery
        assert_nothing_left(inst, qid)
