"""
test_xforward.py - XFORWARD (Postfix's XFORWARD_README), both sides, with
the replies and log lines Debian's Postfix 3.7 gives (compared on this
machine with a scratch Postfix instance):

- smtpd offers "XFORWARD NAME ADDR PROTO HELO SOURCE PORT IDENT" only to
  smtpd_authorized_xforward_hosts, refuses others with "550 5.7.0 Error:
  insufficient authorization", and checks each attribute (501 replies);
- the attributes hold for one transaction: they go into the "ID:
  client=..., orig_queue_id=..., orig_client=..." log line and the queue
  file (Postfix's log_* attributes), not into Received: (that names the
  real client, as Postfix's does);
- with smtp_send_xforward_command = yes the smtp client passes them on to
  a server that offers XFORWARD, in Postfix's two commands
  (name/address, helo/protocol), leaving out what is unknown; a refusal
  is a warning and the mail still goes.

The real amavisd-new in between is in test_filter.test_amavisd_new_xforward.
"""
import re

from posthorn import Instance, Session
from smtp_sink import SmtpSink

XFWD_EHLO = ("sink.test", "PIPELINING", "SIZE 10240000", "8BITMIME", "DSN",
             "XFORWARD NAME ADDR PROTO HELO SOURCE PORT IDENT")


def xfwd_instance(name, sink_port, **main):
    params = {"relayhost": "[127.0.0.1]:%d" % sink_port,
              "smtp_send_xforward_command": "yes",
              "smtpd_authorized_xforward_hosts": "127.0.0.1"}
    params.update(main)
    return Instance(name, main=params)


def filter_session(inst):
    """A session as a content filter opens it: greeting and EHLO read."""
    s = Session(inst.port)
    s.reply()
    s.cmd("EHLO filter.test")
    return s


def send_message(s, rcpt, subject):
    assert s.cmd("MAIL FROM:<jonas@example.test>")[0].startswith("250")
    assert s.cmd("RCPT TO:<%s>" % rcpt)[0].startswith("250")
    assert s.cmd("DATA")[0].startswith("354")
    r = s.cmd("Subject: %s\r\n\r\nbody\r\n." % subject)
    assert r[0].startswith("250"), r
    return re.search(r"queued as ([0-9A-F]+)", r[0]).group(1)


def test_xforward_honoured_for_one_transaction_and_passed_on():
    with SmtpSink(ehlo=XFWD_EHLO) as srv, xfwd_instance("xfwd", srv.port) as inst:
        inst.start()
        s = Session(inst.port)
        s.reply()
        ehlo = s.cmd("EHLO filter.test")
        assert "250-XFORWARD NAME ADDR PROTO HELO SOURCE PORT IDENT" in ehlo, ehlo
        assert s.cmd("XFORWARD NAME=client.remote.test ADDR=10.1.2.3 PORT=4567") == \
            ["250 2.0.0 Ok"]
        assert s.cmd("XFORWARD PROTO=ESMTP HELO=helo+2Bname IDENT=ABCDEF SOURCE=REMOTE") == \
            ["250 2.0.0 Ok"]
        qid1 = send_message(s, "someone@remote.example", "one")
        qid2 = send_message(s, "someone@remote.example", "two")     # no XFORWARD
        s.cmd("QUIT")
        t1, t2 = srv.wait(1), srv.wait(2)
        if b"Subject: one" not in t1["body"]:
            t1, t2 = t2, t1
        # passed on as Postfix passes it on (same commands as Debian's Postfix sent)
        assert t1["xforward"] == [
            "XFORWARD NAME=client.remote.test ADDR=10.1.2.3 PORT=4567",
            "XFORWARD PROTO=ESMTP HELO=helo+2Bname IDENT=ABCDEF SOURCE=REMOTE"], t1["xforward"]
        # the second transaction is the real client's again (name unknown: not sent)
        assert re.fullmatch(r"XFORWARD ADDR=127\.0\.0\.1 PORT=\d+", t2["xforward"][0]), t2
        assert t2["xforward"][1] == \
            "XFORWARD PROTO=ESMTP HELO=filter.test IDENT=%s SOURCE=LOCAL" % qid2, t2
        log = inst.log()
        assert re.search(r"postfix/smtpd\[\d+\]: %s: client=unknown\[127\.0\.0\.1\], "
                         r"orig_queue_id=ABCDEF, orig_client=client\.remote\.test\[10\.1\.2\.3\]$"
                         % qid1, log, re.M), log
        assert re.search(r"postfix/smtpd\[\d+\]: %s: client=unknown\[127\.0\.0\.1\]$" % qid2,
                         log, re.M), log
        # Received: names the host that connected, as Postfix's does
        assert t1["body"].startswith(b"Received: from filter.test (unknown [127.0.0.1])"), t1
        assert re.search(r"disconnect from unknown\[127\.0\.0\.1\] ehlo=1 xforward=2 mail=2 "
                         r"rcpt=2 data=2 quit=1 commands=10", log), log


def test_xforward_refused_for_unauthorized_client():
    with SmtpSink(ehlo=XFWD_EHLO) as srv, \
            xfwd_instance("xfwd-unauth", srv.port,
                          smtpd_authorized_xforward_hosts="127.0.0.2") as inst:
        inst.start()
        s = Session(inst.port)
        s.reply()
        assert not any("XFORWARD" in l for l in s.cmd("EHLO filter.test"))
        assert s.cmd("XFORWARD NAME=x.test ADDR=10.9.9.9") == \
            ["550 5.7.0 Error: insufficient authorization"]
        assert s.cmd("XFORWARD") == ["501 5.5.4 Syntax: XFORWARD attribute=value..."]
        qid = send_message(s, "someone@remote.example", "unauth")
        s.cmd("QUIT")
        srv.wait()
        assert re.search(r"%s: client=unknown\[127\.0\.0\.1\]$" % qid, inst.log(), re.M)


# (command, reply) as Debian's Postfix 3.7 answers them
MALFORMED = [
    ("XFORWARD FOO=bar", "501 5.5.4 Bad XFORWARD attribute name: FOO"),
    ("XFORWARD NAME", "501 5.5.4 Error: attribute=value expected"),
    ("XFORWARD NAME=", "501 5.5.4 Error: attribute=value expected"),
    ("XFORWARD NAME=a+2Bb.test", "501 5.5.4 Bad NAME syntax: a+b.test"),
    ("XFORWARD NAME=1.2.3.4", "501 5.5.4 Bad NAME syntax: 1.2.3.4"),
    ("XFORWARD NAME=[TEMPUNAVAIL]", "501 5.5.4 Bad NAME syntax: [TEMPUNAVAIL]"),
    ("XFORWARD ADDR=bad", "501 5.5.4 Bad ADDR syntax: bad"),
    ("XFORWARD ADDR=2001:db8::2", "501 5.5.4 Bad ADDR syntax: 2001:db8::2"),
    ("XFORWARD PORT=abc", "501 5.5.4 Bad PORT syntax: abc"),
    ("XFORWARD PROTO=" + "p" * 65, "501 5.5.4 Bad PROTO syntax: " + "p" * 65),
    ("XFORWARD SOURCE=FOO", "501 5.5.4 Bad SOURCE syntax: FOO"),
    ("XFORWARD HELO=" + "h" * 256, "501 5.5.4 Error: attribute value too long"),
    ("XFORWARD HELO=" + "h" * 255, "250 2.0.0 Ok"),
    ("XFORWARD ADDR=IPv6:2001:db8::1 name=v6.test", "250 2.0.0 Ok"),
    ("XFORWARD NAME=[UNAVAILABLE] ADDR=[UNAVAILABLE] PORT=[UNAVAILABLE]", "250 2.0.0 Ok"),
]


def test_xforward_malformed_attributes():
    with SmtpSink(ehlo=XFWD_EHLO) as srv, xfwd_instance("xfwd-bad", srv.port) as inst:
        inst.start()
        s = filter_session(inst)
        for cmd, want in MALFORMED:
            assert s.cmd(cmd) == [want], cmd
        assert s.cmd("MAIL FROM:<jonas@example.test>")[0].startswith("250")
        assert s.cmd("XFORWARD NAME=x.test") == ["503 5.5.1 Error: MAIL transaction in progress"]
        s.cmd("QUIT")


def test_xforward_only_offered_attributes_and_ipv6_form():
    ehlo = XFWD_EHLO[:-1] + ("XFORWARD NAME ADDR",)
    with SmtpSink(ehlo=ehlo) as srv, xfwd_instance("xfwd-v6", srv.port) as inst:
        inst.start()
        s = filter_session(inst)
        s.cmd("XFORWARD NAME=c.remote.test ADDR=IPv6:2001:db8::5 PROTO=ESMTP")
        send_message(s, "someone@remote.example", "v6")
        s.cmd("QUIT")
        t = srv.wait()
        # only what the server offers; IPv6 with its prefix, as Postfix sends it
        assert t["xforward"] == ["XFORWARD NAME=c.remote.test ADDR=IPv6:2001:db8::5"], t


def test_xforward_refusal_by_next_hop_is_a_warning():
    # The sink answers XFORWARD with 502 when its keyword is not spelled
    # "XFORWARD ..." exactly; the smtp client reads keywords in any case.
    ehlo = XFWD_EHLO[:-1] + ("xforward NAME ADDR PROTO HELO SOURCE PORT IDENT",)
    with SmtpSink(ehlo=ehlo) as srv, xfwd_instance("xfwd-warn", srv.port) as inst:
        inst.start()
        s = filter_session(inst)
        qid = send_message(s, "someone@remote.example", "refused")
        s.cmd("QUIT")
        srv.wait()
        for what in ("name/address", "helo/protocol"):
            inst.wait_log(r"postfix/smtp\[\d+\]: warning: host 127\.0\.0\.1\[127\.0\.0\.1\]:%d said: "
                          r"502 5\.5\.2 Error: command not recognized "
                          r"\(in reply to XFORWARD %s command\)" % (srv.port, what))
        inst.wait_log(r"%s: to=<someone@remote\.example>, .*status=sent" % qid)
