"""
test_smtpd.py - the SMTP server's protocol, through a real instance: the
replies a client sees (Postfix 3.7's exact texts), the log lines smtpd
writes, and what reaches the mailbox (long lines, 8-bit data, dot-stuffing,
big messages).
"""
import os
import re
import socket
import time

from posthorn import QUEUED_RX, Instance, Session, wait_for


def start(inst):
    inst.start()
    s = inst.session()
    assert s.greeting == ["220 mail.example.test ESMTP Postfix"], s.greeting
    return s


def wait_mbox_bytes(inst, user, needle, timeout=60):
    return wait_for(lambda: needle in inst.mbox_bytes(user) and inst.mbox_bytes(user),
                    timeout, "%r in the mailbox of %s" % (needle[:40], user))


def send_message(s, data, sender="jonas@example.test", rcpt="phedison@example.test"):
    """MAIL, RCPT, DATA with data (bytes, already dot-stuffed, no final dot)."""
    return s.message(sender, [rcpt], data)


def test_helo_ehlo_rset_noop_unknown():
    with Instance("sd-basic") as inst:
        s = start(inst)
        assert s.cmd("HELO") == ["501 Syntax: HELO hostname"]
        assert s.cmd("EHLO") == ["501 Syntax: EHLO hostname"]
        assert s.cmd("HELO client.example") == ["250 mail.example.test"]
        r = s.cmd("EHLO client.example")
        assert r[0] == "250-mail.example.test" and r[-1] == "250 CHUNKING", r
        assert s.cmd("RSET") == ["250 2.0.0 Ok"]
        assert s.cmd("RSET now") == ["501 5.5.4 Syntax: RSET"]
        assert s.cmd("NOOP") == ["250 2.0.0 Ok"]
        assert s.cmd("XYZZY plugh") == ["500 5.5.2 Error: command not recognized"]
        assert s.cmd("QUIT") == ["221 2.0.0 Bye"]
        inst.wait_log(r"postfix/smtpd\[\d+\]: disconnect from unknown\[127\.0\.0\.1\] "
                      r"helo=1/2 ehlo=1/2 rset=1/2 noop=1 quit=1 unknown=0/1 commands=5/9$")


def test_helo_resets_transaction():
    with Instance("sd-helo") as inst:
        s = start(inst)
        s.cmd("EHLO client.example")
        assert s.cmd("MAIL FROM:<jonas@example.test>") == ["250 2.1.0 Ok"]
        assert s.cmd("EHLO again.example") == [
            "250-mail.example.test", "250-PIPELINING", "250-SIZE 10240000", "250-VRFY",
            "250-ETRN", "250-ENHANCEDSTATUSCODES", "250-8BITMIME", "250-DSN",
            "250-SMTPUTF8", "250 CHUNKING"]
        # the transaction is gone: MAIL is not "nested"
        assert s.cmd("MAIL FROM:<jonas@example.test>") == ["250 2.1.0 Ok"]
        s.cmd("QUIT")


def test_disconnect_statistics():
    with Instance("sd-stats") as inst:
        s = start(inst)
        s.cmd("EHLO client.example")
        send_message(s, b"Subject: stats\r\n\r\nbody\r\n")
        assert s.cmd("QUIT") == ["221 2.0.0 Bye"]
        s.close()
        inst.wait_log(r"postfix/smtpd\[\d+\]: disconnect from unknown\[127\.0\.0\.1\] "
                      r"ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5$")
        # a client that says nothing at all
        s = inst.session()
        s.close()
        inst.wait_log(r"postfix/smtpd\[\d+\]: lost connection after CONNECT from unknown\[127\.0\.0\.1\]$")
        inst.wait_log(r"postfix/smtpd\[\d+\]: disconnect from unknown\[127\.0\.0\.1\] commands=0/0$")


def test_vrfy():
    with Instance("sd-vrfy") as inst:
        s = start(inst)
        s.cmd("HELO client.example")
        assert s.cmd("VRFY") == ["501 5.5.4 Syntax: VRFY address [SMTPUTF8]"]
        assert s.cmd("VRFY phedison") == ["252 2.0.0 phedison"]
        assert s.cmd("VRFY <phedison@example.test>") == ["252 2.0.0 <phedison@example.test>"]
        assert s.cmd("VRFY nosuchuser@example.test") == [
            "550 5.1.1 <nosuchuser@example.test>: Recipient address rejected: "
            "User unknown in local recipient table"]
        s.cmd("QUIT")
        inst.wait_log(r"NOQUEUE: reject: VRFY from unknown\[127\.0\.0\.1\]: 550 5\.1\.1 "
                      r"<nosuchuser@example\.test>: Recipient address rejected: User unknown in "
                      r"local recipient table; to=<nosuchuser@example\.test> proto=SMTP "
                      r"helo=<client\.example>")


def test_vrfy_disabled():
    with Instance("sd-novrfy", main={"disable_vrfy_command": "yes"}) as inst:
        s = start(inst)
        r = s.cmd("EHLO client.example")
        assert "250-VRFY" not in r and "250 VRFY" not in r, r
        assert s.cmd("VRFY phedison") == ["502 5.5.1 VRFY command is disabled"]
        s.cmd("QUIT")
        inst.wait_log(r"disconnect from unknown\[127\.0\.0\.1\] ehlo=1 vrfy=0/1 quit=1 commands=2/3$")


def test_etrn():
    with Instance("sd-etrn") as inst:
        s = start(inst)
        assert s.cmd("ETRN example.test") == ["503 Error: send HELO/EHLO first"]
        s.cmd("EHLO client.example")
        assert s.cmd("ETRN") == ["500 Syntax: ETRN domain"]
        assert s.cmd("ETRN bad!domain") == ["501 Error: invalid parameter syntax"]
        # fast_flush_domains is empty by default: no domain is eligible
        assert s.cmd("ETRN example.test") == ["459 <example.test>: service unavailable"]
        s.cmd("MAIL FROM:<jonas@example.test>")
        assert s.cmd("ETRN example.test") == ["503 Error: MAIL transaction in progress"]
        s.cmd("QUIT")


def test_mail_from_forms():
    with Instance("sd-mail", main={"message_size_limit": "100000"}) as inst:
        s = start(inst)
        s.cmd("EHLO client.example")
        for ok in ("MAIL FROM:<>", "MAIL FROM:jonas@example.test", "MAIL FROM:<jonas>",
                   "mail from: <jonas@example.test>",
                   "MAIL FROM:<jonas@example.test> BODY=8BITMIME",
                   "MAIL FROM:<jonas@example.test> BODY=7BIT SIZE=99999",
                   "MAIL FROM:<jonas@example.test> RET=HDRS ENVID=abc+2Bdef"):
            assert s.cmd(ok) == ["250 2.1.0 Ok"], ok
            assert s.cmd("RSET") == ["250 2.0.0 Ok"]
        bad = [("MAIL FROM:<jonas@example.test> SIZE=100001",
                "552 5.3.4 Message size exceeds fixed limit"),
               ("MAIL FROM:<jonas@example.test> SIZE=big", "501 5.5.4 Bad message size syntax"),
               ("MAIL FROM:<jonas@example.test> BODY=9BIT", "501 5.5.4 Unsupported BODY type"),
               ("MAIL FROM:<jonas@example.test> FOO=bar", "555 5.5.4 Unsupported option: FOO=bar"),
               ("MAIL FROM:<jonas@example.test> RET=ALL", "501 5.5.4 Bad RET parameter syntax"),
               ("MAIL TO:<jonas@example.test>", "501 5.5.4 Syntax: MAIL FROM:<address>"),
               ("MAIL", "501 5.5.4 Syntax: MAIL FROM:<address>"),
               ("MAIL FROM:<jonas@example.test", "501 5.1.7 Bad sender address syntax")]
        for cmd, reply in bad:
            assert s.cmd(cmd) == [reply], cmd
        inst.wait_log(r"warning: Illegal address syntax from unknown\[127\.0\.0\.1\] in MAIL "
                      r"command: <jonas@example\.test$")
        s.cmd("QUIT")


def test_command_order():
    with Instance("sd-order") as inst:
        s = start(inst)
        s.cmd("EHLO client.example")
        assert s.cmd("RCPT TO:<phedison@example.test>") == ["503 5.5.1 Error: need MAIL command"]
        assert s.cmd("DATA") == ["503 5.5.1 Error: need RCPT command"]
        assert s.cmd("MAIL FROM:<jonas@example.test>") == ["250 2.1.0 Ok"]
        assert s.cmd("MAIL FROM:<jonas@example.test>") == ["503 5.5.1 Error: nested MAIL command"]
        assert s.cmd("DATA") == ["554 5.5.1 Error: no valid recipients"]
        assert s.cmd("RCPT TO:phedison@example.test") == ["250 2.1.5 Ok"]
        assert s.cmd("RCPT TO:<phedison@example.test> FOO") == ["555 5.5.4 Unsupported option: FOO"]
        assert s.cmd("RCPT FROM:<phedison@example.test>") == ["501 5.5.4 Syntax: RCPT TO:<address>"]
        assert s.cmd("DATA now") == ["501 5.5.4 Syntax: DATA"]
        assert s.cmd("DATA") == ["354 End data with <CR><LF>.<CR><LF>"]
        s.send("Subject: order\r\n\r\nin order\r\n.\r\n")
        assert re.match(QUEUED_RX, s.reply()[0])
        s.cmd("QUIT")
        inst.wait_mbox("phedison", "in order")


def test_recipient_limit():
    with Instance("sd-rcptlim", main={"smtpd_recipient_limit": "2"}) as inst:
        s = start(inst)
        s.cmd("EHLO client.example")
        s.cmd("MAIL FROM:<jonas@example.test>")
        assert s.cmd("RCPT TO:<phedison@example.test>") == ["250 2.1.5 Ok"]
        assert s.cmd("RCPT TO:<phjonas@example.test>") == ["250 2.1.5 Ok"]
        assert s.cmd("RCPT TO:<phalice@example.test>") == ["452 4.5.3 Error: too many recipients"]
        assert s.cmd("DATA") == ["354 End data with <CR><LF>.<CR><LF>"]
        s.send("Subject: limited\r\n\r\ntwo only\r\n.\r\n")
        assert re.match(QUEUED_RX, s.reply()[0])
        s.cmd("QUIT")
        inst.wait_mbox("phedison", "two only")
        inst.wait_mbox("phjonas", "two only")
        inst.wait_log(r"disconnect from unknown\[127\.0\.0\.1\] ehlo=1 mail=1 rcpt=2/3 data=1 "
                      r"quit=1 commands=6/7$")
        assert "two only" not in inst.mbox("phalice")


def test_hard_error_limit():
    with Instance("sd-errlim", main={"smtpd_hard_error_limit": "3"}) as inst:
        s = start(inst)
        assert s.cmd("BOGUS1") == ["500 5.5.2 Error: command not recognized"]
        assert s.cmd("BOGUS2") == ["500 5.5.2 Error: command not recognized"]
        assert s.cmd("BOGUS3") == ["500 5.5.2 Error: command not recognized"]
        assert s.reply() == ["421 4.7.0 mail.example.test Error: too many errors"]
        try:
            s.line()
            closed = False
        except (EOFError, OSError):
            closed = True
        assert closed
        inst.wait_log(r"postfix/smtpd\[\d+\]: too many errors after UNKNOWN from "
                      r"unknown\[127\.0\.0\.1\]$")
        inst.wait_log(r"disconnect from unknown\[127\.0\.0\.1\] unknown=0/3 commands=0/3$")


def test_timeout():
    with Instance("sd-timeout", main={"smtpd_timeout": "2s"}) as inst:
        s = start(inst)
        t0 = time.time()
        assert s.reply() == ["421 4.4.2 mail.example.test Error: timeout exceeded"]
        assert 1.5 < time.time() - t0 < 10
        inst.wait_log(r"postfix/smtpd\[\d+\]: timeout after CONNECT from unknown\[127\.0\.0\.1\]$")
        inst.wait_log(r"disconnect from unknown\[127\.0\.0\.1\] commands=0/0$")
        # the same in the middle of a session
        s = inst.session(helo="EHLO client.example")
        assert s.reply() == ["421 4.4.2 mail.example.test Error: timeout exceeded"]
        inst.wait_log(r"timeout after EHLO from unknown\[127\.0\.0\.1\]$")


def test_long_command_line():
    with Instance("sd-longcmd") as inst:
        s = start(inst)
        # longer than line_length_limit (2048): cut there, the rest skipped
        assert s.cmd("NOOP " + "x" * 5000) == ["250 2.0.0 Ok"]
        assert s.cmd("X" * 3000) == ["500 5.5.2 Error: command not recognized"]
        assert s.cmd("") == ["500 5.5.2 Error: bad syntax"]
        assert s.cmd("HELO client.example") == ["250 mail.example.test"]
        s.cmd("QUIT")


def test_bdat():
    with Instance("sd-bdat") as inst:
        s = start(inst)
        s.cmd("EHLO client.example")
        # BDAT with no transaction: the chunk is read and thrown away
        s.send("BDAT 5 LAST\r\nabcde")
        assert s.reply() == ["503 5.5.1 Error: need RCPT command"]
        s.cmd("MAIL FROM:<jonas@example.test>")
        s.cmd("RCPT TO:<phedison@example.test>")
        part1 = b"Subject: chunks\r\n\r\nfirst chunk, "
        part2 = b"same line\r\nsecond line\r\n"
        s.send(b"BDAT %d\r\n" % len(part1) + part1)
        assert s.reply() == ["250 2.0.0 Ok: %d bytes" % len(part1)]
        assert s.cmd("DATA") == ["503 5.5.1 Error: DATA after BDAT"]
        assert s.cmd("RCPT TO:<phjonas@example.test>") == ["503 5.5.1 Error: RCPT after BDAT"]
        assert s.cmd("BDAT 0") == ["551 5.7.1 Null BDAT request"]
        s.send(b"BDAT %d LAST\r\n" % len(part2) + part2)
        r = s.reply()
        assert re.match(r"^250 2\.0\.0 Ok: \d+ bytes queued as [0-9A-F]{6,}$", r[0]), r
        box = inst.wait_mbox("phedison", "second line")
        assert "\nfirst chunk, same line\nsecond line\n" in box, box
        assert re.search(r"with ESMTP id [0-9A-F]+", box), box
        # a BDAT without a count ends the session: the stream cannot be resynchronized
        assert s.cmd("BDAT lots") == ["521 5.5.4 Syntax: BDAT count [LAST]"]
        try:
            s.line()
            closed = False
        except (EOFError, OSError):
            closed = True
        assert closed
        inst.wait_log(r"NOQUEUE: malformed BDAT command syntax from unknown\[127\.0\.0\.1\]: BDAT lots")


def test_forbidden_commands():
    with Instance("sd-forbid") as inst:
        s = start(inst)
        assert s.cmd("GET / HTTP/1.0") == ["221 2.7.0 Error: I can break rules, too. Goodbye."]
        inst.wait_log(r"warning: non-SMTP command from unknown\[127\.0\.0\.1\]: GET / HTTP/1\.0")
        s = inst.session()
        assert s.cmd("Subject: hello") == ["221 2.7.0 Error: I can break rules, too. Goodbye."]
        # TODO: the default's regexp:{{/^[^A-Z]/ Bogus}} should also catch "\x16\x03\x01"
        # (a TLS hello); that needs inline regexp tables in lib/ (dict_open fails on it today).


def test_banner_and_peername_lookup():
    main = {"smtpd_banner": "$myhostname ESMTP ready ($mail_name)",
            "smtpd_peername_lookup": "yes"}
    with Instance("sd-banner", main=main) as inst:
        inst.start()
        s = Session(inst.port)
        assert s.reply() == ["220 mail.example.test ESMTP ready (Postfix)"]
        s.cmd("QUIT")
        # /etc/hosts maps 127.0.0.1 to localhost first
        inst.wait_log(r"postfix/smtpd\[\d+\]: connect from localhost\[127\.0\.0\.1\]$")
        inst.wait_log(r"disconnect from localhost\[127\.0\.0\.1\] quit=1 commands=1$")


def _refused_at_start(name, main, fatal):
    """smtpd logs fatal (the parameter's name and value) and greets nobody."""
    with Instance(name, main=main) as inst:
        inst.start()
        sock = socket.create_connection(("127.0.0.1", inst.port), timeout=10)
        try:
            inst.wait_log(r"postfix/smtpd\[\d+\]: fatal: " + fatal)
            sock.settimeout(3)
            try:
                got = sock.recv(4096)
            except (socket.timeout, OSError):
                got = b""
        finally:
            sock.close()
        assert not got.startswith(b"220"), got


def test_bad_parameter_value_is_fatal_at_start():
    """smtpd reads every parameter once, at start: a bad value is fatal
    then, with its name and value, even one only some sessions would use
    (no check_policy_service here), as Postfix does."""
    _refused_at_start("sd-badtime", {"smtpd_policy_service_timeout": "10x"},
                      r"parameter smtpd_policy_service_timeout: bad time value or unit: 10x")
    _refused_at_start("sd-badtry", {"smtpd_policy_service_try_limit": "0"},
                      r"invalid smtpd_policy_service_try_limit parameter value 0 < 1")
    _refused_at_start("sd-badbool", {"smtpd_delay_reject": "perhaps"},
                      r"bad boolean configuration: smtpd_delay_reject = perhaps")


def test_body_delivered_intact():
    with Instance("sd-body") as inst:
        s = start(inst)
        s.cmd("EHLO client.example")
        long_line = b"".join(b"%07d " % i for i in range(1000))      # 8000 bytes
        eight_bit = "Grüße aus Köln, ça va? 日本語".encode("utf-8") + b" \xe9\xff latin-1"
        body = (b"Subject: intact\r\n\r\n" + b"start\r\n" + long_line + b"\r\n"
                + eight_bit + b"\r\n" + b"..leading dot\r\n" + b". \r\n" + b"end\r\n")
        s.cmd("MAIL FROM:<jonas@example.test> BODY=8BITMIME")
        s.cmd("RCPT TO:<phedison@example.test>")
        s.cmd("DATA")
        s.send(body + b".\r\n")
        assert re.match(QUEUED_RX, s.reply()[0])
        s.cmd("QUIT")
        box = wait_mbox_bytes(inst, "phedison", b"\nend\n")
        expect = b"\nstart\n" + long_line + b"\n" + eight_bit + b"\n.leading dot\n \nend\n"
        assert expect in box, box[-9000:]


def test_five_megabyte_message():
    with Instance("sd-big") as inst:
        s = start(inst)
        s.cmd("EHLO client.example")
        lines = [b"%08d abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789" % i
                 for i in range(70000)]
        body = b"\r\n".join(lines) + b"\r\n"
        assert len(body) > 5 * 1000 * 1000
        qid = send_message(s, b"Subject: big\r\n\r\n" + body)
        s.cmd("QUIT")
        inst.wait_log(r"%s: removed" % qid, timeout=120)
        box = inst.mbox_bytes("phedison")
        assert body.replace(b"\r\n", b"\n") in box
        inst.wait_log(r"%s: from=<jonas@example\.test>, size=\d{7}, nrcpt=1" % qid)


def test_header_size_limit():
    with Instance("sd-hdrlim", main={"header_size_limit": "1024"}) as inst:
        s = start(inst)
        s.cmd("EHLO client.example")
        folded = "".join("\r\n\tfold%03d %s" % (i, "y" * 40) for i in range(60))
        data = ("Subject: big header" + folded + "\r\nX-After: still here\r\n\r\n"
                "the body\r\n").encode()
        send_message(s, data)
        s.cmd("QUIT")
        box = inst.wait_mbox("phedison", "the body")
        # the header is cut at header_size_limit; the rest of it is dropped,
        # the following header and the body are kept
        assert "\tfold000 " in box and "\tfold059 " not in box, box
        assert "X-After: still here" in box
        subject = re.search(r"^Subject:.*?(?=^\S)", box, re.M | re.S).group(0)
        assert len(subject) <= 1024 + 2, len(subject)
