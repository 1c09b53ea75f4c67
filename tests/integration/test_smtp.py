"""
test_smtp.py - the SMTP and LMTP delivery agent, end to end: a message
enters through smtpd, qmgr hands it to smtp (relayhost) or lmtp
(default_transport = lmtp:inet:127.0.0.1:PORT), and a capturing server
(smtp_sink.py) receives it on 127.0.0.1.

Checked: the message arrives byte for byte (dot lines, 8-bit text, CRLF),
the envelope (MAIL FROM with SIZE and BODY=8BITMIME, RCPT TO), the log
lines (relay=, dsn=, status=sent/bounced/deferred with Postfix's reason
wording), and LMTP's per-recipient replies after the final dot.
"""
import re

from posthorn import Instance, free_port, wait_for
from smtp_sink import SmtpSink

MSG_ID_RX = r"queued as ([0-9A-F]+)"


def submit(inst, rcpts, data, sender="jonas@example.test", body8=False):
    """Send one message through smtpd with a raw session; returns the queue id."""
    s = inst.session(helo="EHLO client.test")
    r = s.cmd("MAIL FROM:<%s>%s" % (sender, " BODY=8BITMIME" if body8 else ""))
    assert r[0].startswith("250"), r
    for rc in rcpts:
        r = s.cmd("RCPT TO:<%s>" % rc)
        assert r[0].startswith("250"), r
    assert s.cmd("DATA")[0].startswith("354")
    s.send(data + b".\r\n")
    r = s.reply()
    assert r[0].startswith("250"), r
    s.cmd("QUIT")
    s.close()
    return re.search(MSG_ID_RX, r[0]).group(1)


BODY = (b"From: jonas@example.test\r\n"
        b"To: someone@remote.example\r\n"
        b"Subject: dots and 8bit\r\n"
        b"\r\n"
        b"first line\r\n"
        b"..\r\n"                   # a lone dot, stuffed by the client
        b"...three\r\n"
        b".leading dot\r\n"
        b"8-bit: \xc3\xa4\xc3\xb6\xc3\xbc \xe2\x82\xac\r\n"
        b"  indented   spaces  \r\n"
        b"\r\n"
        b"last line\r\n")


def unstuffed(data):
    return b"".join(l[1:] if l.startswith(b".") else l for l in data.splitlines(keepends=True))


def test_relayhost_byte_exact():
    with SmtpSink() as srv, \
            Instance("smtp-relay", main={"relayhost": "[127.0.0.1]:%d" % srv.port}) as inst:
        inst.start()
        qid = submit(inst, ["someone@remote.example"], BODY, body8=True)
        t = srv.wait()
        assert t["helo"] == "EHLO mail.example.test", t["helo"]
        assert re.match(r"MAIL FROM:<jonas@example\.test> SIZE=\d+ BODY=8BITMIME", t["mail"]), t["mail"]
        assert t["rcpts"][0].startswith("RCPT TO:<someone@remote.example>"), t["rcpts"]
        # The body arrives unchanged; the client's headers are all there
        # (cleanup adds Received:, Message-Id:, Date:).
        sent_head, sent_body = unstuffed(BODY).split(b"\r\n\r\n", 1)
        got_head, got_body = t["body"].split(b"\r\n\r\n", 1)
        assert got_body == sent_body, t["body"]
        for h in sent_head.split(b"\r\n"):
            assert h + b"\r\n" in got_head + b"\r\n", (h, got_head)
        assert got_head.startswith(b"Received: from client.test"), got_head
        assert b"\r\n" in t["data"] and b"\n" not in t["data"].replace(b"\r\n", b"")
        # smtpd removed one dot from each of those lines; smtp doubles it again
        assert b"\r\nfirst line\r\n..\r\n...three\r\nleading dot\r\n" in t["data"], t["data"]
        rx = (r"postfix/smtp\[\d+\]: %s: to=<someone@remote\.example>, "
              r"relay=127\.0\.0\.1\[127\.0\.0\.1\]:%d, delay=[\d.]+, "
              r"delays=[\d.]+/[\d.]+/[\d.]+/[\d.]+, dsn=2\.0\.0, "
              r"status=sent \(250 2\.0\.0 Ok: queued as SINK1\)" % (qid, srv.port))
        inst.wait_log(rx)
        inst.wait_log(r"postfix/qmgr\[\d+\]: %s: removed" % qid)


def test_relayhost_multiple_recipients_bounce():
    def rcpt_reply(addr):
        if addr.startswith("nobody@"):
            return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % addr
        return "250 2.1.5 Ok"

    with SmtpSink(rcpt_reply=rcpt_reply) as srv, \
            Instance("smtp-bounce", main={"relayhost": "[127.0.0.1]:%d" % srv.port}) as inst:
        inst.start()
        qid = submit(inst, ["good@remote.example", "nobody@remote.example"],
                     b"Subject: x\r\n\r\nhello\r\n")
        t = srv.wait()
        assert t["accepted"] == ["good@remote.example"], t
        inst.wait_log(r"postfix/smtp\[\d+\]: %s: to=<good@remote\.example>, .*status=sent" % qid)
        inst.wait_log(
            r"postfix/smtp\[\d+\]: %s: to=<nobody@remote\.example>, "
            r"relay=127\.0\.0\.1\[127\.0\.0\.1\]:%d, .*dsn=5\.1\.1, status=bounced "
            r"\(host 127\.0\.0\.1\[127\.0\.0\.1\] said: 550 5\.1\.1 <nobody@remote\.example>: "
            r"Recipient address rejected: User unknown \(in reply to RCPT TO command\)\)"
            % (qid, srv.port))


def test_relayhost_down_defers():
    port = free_port()          # nobody listens there
    with Instance("smtp-down", main={"relayhost": "[127.0.0.1]:%d" % port}) as inst:
        inst.start()
        qid = submit(inst, ["someone@remote.example"], b"Subject: x\r\n\r\nhello\r\n")
        inst.wait_log(
            r"postfix/smtp\[\d+\]: %s: to=<someone@remote\.example>, relay=none, "
            r"delay=[\d.]+, delays=[\d.]+/[\d.]+/[\d.]+/[\d.]+, dsn=4\.4\.1, status=deferred "
            r"\(connect to 127\.0\.0\.1\[127\.0\.0\.1\]:%d: Connection refused\)" % (qid, port))


def test_relayhost_greeting_421_defers():
    with SmtpSink(greeting="421 4.3.2 sink.test busy") as srv, \
            Instance("smtp-421", main={"relayhost": "[127.0.0.1]:%d" % srv.port}) as inst:
        inst.start()
        qid = submit(inst, ["someone@remote.example"], b"Subject: x\r\n\r\nhello\r\n")
        inst.wait_log(
            r"%s: to=<someone@remote\.example>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:%d, .*"
            r"dsn=4\.3\.2, status=deferred \(host 127\.0\.0\.1\[127\.0\.0\.1\] refused to talk "
            r"to me: 421 4\.3\.2 sink\.test busy\)" % (qid, srv.port))


def test_bad_parameter_value_is_fatal_with_name_and_value():
    """smtp_* values come from the one table; a bad one is fatal, no private default."""
    with SmtpSink() as srv, \
            Instance("smtp-badparam", main={"relayhost": "[127.0.0.1]:%d" % srv.port,
                                            "smtp_mx_address_limit": "five"}) as inst:
        inst.start()
        submit(inst, ["someone@remote.example"], b"Subject: x\r\n\r\nhello\r\n")
        inst.wait_log(r"postfix/smtp\[\d+\]: fatal: bad numerical configuration: "
                      r"smtp_mx_address_limit = five")
        assert srv.transactions == []


def test_lmtp_per_recipient_replies():
    def dot_replies(rcpts):
        return ["452 4.2.2 <%s> Quota exceeded" % r if r.startswith("full@")
                else "250 2.0.0 <%s> Saved" % r for r in rcpts]

    with SmtpSink(lmtp=True, greeting="220 lmtp.test LMTP ready",
                       ehlo=("lmtp.test", "PIPELINING", "ENHANCEDSTATUSCODES", "8BITMIME"),
                       dot_replies=dot_replies) as srv, \
            Instance("lmtp", main={"default_transport": "lmtp:inet:127.0.0.1:%d" % srv.port}) as inst:
        inst.start()
        qid = submit(inst, ["alice@remote.example", "full@remote.example"],
                     b"Subject: lmtp\r\n\r\n..dot\r\nbody\r\n")
        t = srv.wait()
        assert t["helo"] == "LHLO mail.example.test", t["helo"]
        assert t["data"].endswith(b"\r\n\r\n..dot\r\nbody\r\n"), t["data"]
        inst.wait_log(r"postfix/lmtp\[\d+\]: %s: to=<alice@remote\.example>, "
                      r"relay=127\.0\.0\.1\[127\.0\.0\.1\]:%d, .*dsn=2\.0\.0, status=sent "
                      r"\(250 2\.0\.0 <alice@remote\.example> Saved\)" % (qid, srv.port))
        inst.wait_log(r"postfix/lmtp\[\d+\]: %s: to=<full@remote\.example>, .*dsn=4\.2\.2, "
                      r"status=deferred \(host 127\.0\.0\.1\[127\.0\.0\.1\] said: 452 4\.2\.2 "
                      r"<full@remote\.example> Quota exceeded \(in reply to end of DATA command\)\)"
                      % qid)


def postfix_fold(line, limit=998):
    """smtp_line_length_limit as Postfix applies it (checked against Debian's
    Postfix 3.7 relaying the same message): after exactly `limit` bytes of
    output line, <CR><LF><SPACE>; the SPACE counts toward the next output
    line, so a 3000-byte line goes out as 998 + 1+997 + 1+997 + 1+7. A line
    of exactly `limit` bytes is left alone; dot-stuffing adds a byte that
    does not count, and a continuation line (starting with the SPACE) is
    never stuffed."""
    out, first = [], True
    while True:
        room = limit if first else limit - 1
        if len(line) <= room:
            out.append(line if first else b" " + line)
            return out
        out.append(line[:room] if first else b" " + line[:room])
        line, first = line[room:], False


def test_long_lines_folded_as_postfix():
    hdr = b"X-Long: " + b"".join(b"%04d" % i for i in range(750))[:2992]
    body = b"".join(b"b%03d" % (i % 1000) for i in range(750))
    dots = b"." + b"x" * 1200
    exact = b"e" * 998
    assert len(hdr) == len(body) == 3000
    data = (b"Subject: long lines\r\n" + hdr + b"\r\n\r\n" + body + b"\r\n"
            + dots + b"\r\n" + exact + b"\r\nend\r\n")
    with SmtpSink() as srv, \
            Instance("smtp-fold", main={"relayhost": "[127.0.0.1]:%d" % srv.port}) as inst:
        inst.start()
        qid = submit(inst, ["someone@remote.example"], data.replace(b"\r\n.", b"\r\n.."))
        raw = srv.wait()["data"]
        want = b"".join(b"".join(p + b"\r\n" for p in postfix_fold(l))
                        for l in (hdr,))
        assert b"\r\n" + want in raw, raw[:3000]
        want_body = b"".join(p + b"\r\n" for l in (body, dots, exact, b"end")
                             for p in postfix_fold(l))
        want_body = want_body.replace(b"\r\n.x", b"\r\n..x", 1)     # stuffed once
        assert raw.endswith(b"\r\n\r\n" + want_body), raw[-3000:]
        assert [len(l) for l in raw.split(b"\r\n") if len(l) > 900] == \
            [998, 998, 998, 998, 998, 998, 999, 998], [len(l) for l in raw.split(b"\r\n")]
        # unfolding gives the original lines back
        assert hdr in unstuffed(raw).replace(b"\r\n ", b"")
        assert body + b"\r\n" + dots + b"\r\n" in unstuffed(raw).replace(b"\r\n ", b"")
        inst.wait_log(r"postfix/smtp\[\d+\]: %s: breaking line > 998 bytes with <CR><LF>SPACE" % qid)
        assert len(re.findall(r"breaking line", inst.log())) == 1, inst.log()
