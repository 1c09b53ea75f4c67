"""
test_relay.py - a front-end relay's recipient validation, and
reject_unauth_pipelining.
"""
import os

from posthorn import Instance


def test_relay_recipient_maps():
    with Instance("relayrcpt") as inst:
        path = os.path.join(inst.conf, "relay_recipients")
        with open(path, "w") as f:
            f.write("known@relay.example x\n@wildcard.example x\n")
        inst.cmd("postmap", path, check=True)
        inst.params.update({"relay_domains": "relay.example, wildcard.example",
                            "relay_recipient_maps": "hash:" + path,
                            "mynetworks": "127.0.0.1/32"})
        inst.write_main()
        inst.start()
        s = inst.session(source="127.0.0.2", helo="EHLO outside.example",
                         sender="someone@outside.example")
        assert s.cmd("RCPT TO:<known@relay.example>") == ["250 2.1.5 Ok"]
        assert s.cmd("RCPT TO:<anyone@wildcard.example>") == ["250 2.1.5 Ok"]
        reply = ("550 5.1.1 <unknown@relay.example>: Recipient address rejected: "
                 "User unknown in relay recipient table")
        assert s.cmd("RCPT TO:<unknown@relay.example>") == [reply]
        s.cmd("QUIT")
        # the queue id, not NOQUEUE: earlier recipients were accepted
        inst.wait_log(r"[0-9A-F]+: reject: RCPT from unknown\[127\.0\.0\.2\]: %s; "
                      r"from=<someone@outside\.example> to=<unknown@relay\.example> "
                      r"proto=ESMTP helo=<outside\.example>" % reply.replace(".", r"\."))


def test_relay_recipient_maps_empty_accepts_all():
    main = {"relay_domains": "relay.example", "relay_recipient_maps": "",
            "mynetworks": "127.0.0.1/32"}
    with Instance("relayall", main=main) as inst:
        inst.start()
        s = inst.session(source="127.0.0.2", helo="EHLO outside.example",
                         sender="someone@outside.example")
        assert s.rcpt_quit("whoever@relay.example") == ["250 2.1.5 Ok"]


def test_reject_unauth_pipelining():
    main = {"smtpd_data_restrictions": "reject_unauth_pipelining"}
    with Instance("unauthpipe", main=main) as inst:
        inst.start()
        s = inst.session(helo="EHLO client.example", sender="jonas@example.test")
        s.cmd("RCPT TO:<phedison@example.test>")
        # message text sent before the 354: a spamware habit
        s.send("DATA\r\nSubject: early\r\n\r\nbody\r\n.\r\n")
        r = s.reply()
        assert r == ["503 5.5.0 <DATA>: Data command rejected: "
                     "Improper use of SMTP command pipelining"], r
        s.close()
        # a well-behaved client waits for the 354
        s = inst.session(helo="EHLO client.example", sender="jonas@example.test")
        s.cmd("RCPT TO:<phedison@example.test>")
        assert s.cmd("DATA") == ["354 End data with <CR><LF>.<CR><LF>"]
        s.send("Subject: patient\r\n\r\nbody\r\n.\r\n")
        assert s.reply()[0].startswith("250 2.0.0 Ok: queued as ")
        s.cmd("QUIT")


def test_reject_unlisted_recipient_restriction():
    # the implicit check off, the explicit restriction on
    main = {"smtpd_reject_unlisted_recipient": "no",
            "smtpd_recipient_restrictions": "reject_unlisted_recipient, permit"}
    with Instance("unlisted", main=main) as inst:
        inst.start()
        s = inst.session(helo="EHLO client.example", sender="jonas@example.test")
        assert s.cmd("RCPT TO:<nosuch@example.test>") == [
            "550 5.1.1 <nosuch@example.test>: Recipient address rejected: "
            "User unknown in local recipient table"]
        assert s.cmd("RCPT TO:<phedison@example.test>") == ["250 2.1.5 Ok"]
        s.cmd("QUIT")
    # with neither, an unknown local recipient is accepted at RCPT
    with Instance("unlisted2", main={"smtpd_reject_unlisted_recipient": "no"}) as inst:
        inst.start()
        s = inst.session(helo="EHLO client.example", sender="jonas@example.test")
        assert s.rcpt_quit("nosuch@example.test") == ["250 2.1.5 Ok"]
