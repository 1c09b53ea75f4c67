"""
test_success_dsn.py - RCPT TO: NOTIFY=SUCCESS gets the sender a
"Successful Mail Delivery Report" (RFC 3464, Action: delivered).
"""
import email
import time

from posthorn import Instance


def submit(inst, rcpts):
    s = inst.session(helo="EHLO client.example", sender="phjonas@example.test")
    for r in rcpts:
        assert s.cmd("RCPT TO:%s" % r) == ["250 2.1.5 Ok"]
    s.cmd("DATA")
    s.send("Subject: tell me\r\n\r\nbody\r\n.\r\n")
    assert s.reply()[0].startswith("250 2.0.0 Ok: queued as ")
    s.cmd("QUIT")


def test_notify_success_report():
    with Instance("dsnok") as inst:
        inst.start()
        submit(inst, ["<phedison@example.test> NOTIFY=SUCCESS", "<phalice@example.test>"])
        inst.wait_mbox("phedison", "^Subject: tell me$")
        inst.wait_mbox("phalice", "^Subject: tell me$")
        box = inst.wait_mbox("phjonas", "^Subject: Successful Mail Delivery Report$")
        inst.wait_log(r"sender delivery status notification: [0-9A-F]+")
        msg = email.message_from_string(box[box.index("\n") + 1:])
        assert msg.get_content_type() == "multipart/report"
        assert msg.get_param("report-type") == "delivery-status"
        status = [p for p in msg.walk() if p.get_content_type() == "message/delivery-status"]
        assert len(status) == 1
        text = status[0].as_string()
        assert "Final-Recipient: rfc822; phedison@example.test" in text, text
        assert "Action: delivered" in text and "Status: 2.0.0" in text, text
        # phalice did not ask: she is not in the report
        assert "phalice" not in text, text
        assert box.count("Subject: Successful Mail Delivery Report") == 1


def test_no_notify_no_report():
    with Instance("dsnnone") as inst:
        inst.start()
        submit(inst, ["<phedison@example.test>"])
        inst.wait_mbox("phedison", "^Subject: tell me$")
        inst.wait_log(r"removed")
        time.sleep(1)
        assert "Successful Mail Delivery Report" not in inst.mbox("phjonas")
