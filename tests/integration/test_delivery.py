"""
test_delivery.py - outbound delivery and the life of a queued message,
through real instances:

- the error, retry and discard delivery agents (local_transport =
  error:..., transport_maps entries);
- transport_maps routing one domain to its own server while relayhost
  takes the rest;
- MX lookups through a real DNS server (dnsmasq on 127.0.0.x:53) seen by
  the whole instance through a bind-mounted /etc/resolv.conf in a
  private mount namespace;
- a 5 MB message with dot lines and 8-bit text, byte for byte;
- a destination that is down: deferred, the reason in the log and in
  postqueue -p, then "postfix flush" once it is back;
- delay_warning_time: one "Delayed Mail (still being retried)" notice.
"""
import email
import email.policy
import os
import re
import subprocess

from posthorn import Instance, Session, free_port, run, sbin, wait_for
from smtp_sink import SmtpSink
from test_smtp import submit as smtp_submit

BODY = b"Subject: delivery test\r\n\r\nhello\r\n"


def sink(host="127.0.0.1", port=0, **kw):
    """A capturing SMTP server listening on host:port."""
    return SmtpSink(host=host, port=port, **kw)


def down(srv):
    """The server goes away: no more listener, open sessions cut."""
    srv.close()
    srv.drop_connections()


def submit(inst, rcpts, data=BODY, sender="jonas@example.test", body8=False):
    return smtp_submit(inst, rcpts, data, sender=sender, body8=body8)


def parse(data):
    return email.message_from_bytes(data, policy=email.policy.compat32)


# ---- error, retry, discard -------------------------------------------------

def test_local_transport_error_bounces_with_its_text():
    with sink() as srv, Instance("deliv-error", main={
            "relayhost": "[127.0.0.1]:%d" % srv.port,
            "local_transport": "error:local mail delivery is disabled",
            "local_recipient_maps": ""}) as inst:
        inst.start()
        qid = submit(inst, ["nosuchuser@example.test", "phedison@example.test"],
                     sender="sender@remote.example")
        for rcpt in ("nosuchuser", "phedison"):
            inst.wait_log(r"postfix/error\[\d+\]: %s: to=<%s@example\.test>, relay=none, "
                          r"delay=[\d.]+, delays=[\d.]+/[\d.]+/[\d.]+/[\d.]+, dsn=5\.0\.0, "
                          r"status=bounced \(local mail delivery is disabled\)" % (qid, rcpt))
        inst.wait_log(r"%s: sender non-delivery notification: [0-9A-F]+" % qid)
        inst.wait_log(r"postfix/qmgr\[\d+\]: %s: removed" % qid)
        # the notice goes out through the relayhost to the remote sender
        t = srv.wait()
        assert t["rcpts"][0].startswith("RCPT TO:<sender@remote.example>"), t
        assert t["mail"].startswith("MAIL FROM:<>"), t["mail"]
        msg = parse(t["body"])
        assert msg["Subject"] == "Undelivered Mail Returned to Sender"
        text = msg.get_payload()[0].get_payload()
        assert "<phedison@example.test>: local mail delivery is disabled" in text, text
        assert "Status: 5.0.0" in msg.get_payload()[1].as_string()
        assert inst.mbox("phedison") == ""


def test_error_code_in_reason_and_retry_defers():
    transport = "bad.example error:5.7.1 no mail for you\n" \
                "later.example retry:4.3.2 come back later\n" \
                "plain.example retry:\n"
    with Instance("deliv-retry", main={"relayhost": "[127.0.0.1]:%d" % free_port()}) as inst:
        write_transport(inst, transport)
        inst.start()
        qid = submit(inst, ["a@bad.example", "b@later.example"])
        inst.wait_log(r"postfix/error\[\d+\]: %s: to=<a@bad\.example>, relay=none, .*"
                      r"dsn=5\.7\.1, status=bounced \(no mail for you\)" % qid)
        inst.wait_log(r"postfix/error\[\d+\]: %s: to=<b@later\.example>, relay=none, .*"
                      r"dsn=4\.3\.2, status=deferred \(come back later\)" % qid)
        # deferred recipient: the message stays queued with its reason
        wait_for(lambda: qid in inst.queue_files("deferred"), 20, "deferred queue file")
        out = inst.cmd("postqueue", "-p").stdout
        assert re.search(r"\(come back later\)\s+b@later\.example", out), out
        assert "a@bad.example" not in out, out


def test_discard_transport():
    with sink() as srv, Instance("deliv-discard", main={
            "relayhost": "[127.0.0.1]:%d" % srv.port}) as inst:
        write_transport(inst, "discard.example discard:silently dropped\n"
                              "coded.example discard:2.6.0 dropped with a code\n")
        inst.start()
        qid = submit(inst, ["x@discard.example", "y@coded.example", "z@remote.example"])
        inst.wait_log(r"postfix/discard\[\d+\]: %s: to=<x@discard\.example>, relay=none, "
                      r"delay=[\d.]+, delays=[\d.]+/[\d.]+/[\d.]+/[\d.]+, dsn=2\.0\.0, "
                      r"status=sent \(silently dropped\)" % qid)
        inst.wait_log(r"postfix/discard\[\d+\]: %s: to=<y@coded\.example>, relay=none, .*"
                      r"dsn=2\.6\.0, status=sent \(dropped with a code\)" % qid)
        t = srv.wait()
        inst.wait_log(r"postfix/qmgr\[\d+\]: %s: removed" % qid)
        assert [r.split()[1] for r in t["rcpts"]] == ["TO:<z@remote.example>"], t["rcpts"]
        assert inst.queue_files("bounce") == []


def write_transport(inst, text):
    path = os.path.join(inst.conf, "transport")
    with open(path, "w") as f:
        f.write(text)
    inst.cmd("postmap", path, check=True)
    inst.params["transport_maps"] = "hash:" + path
    inst.write_main()


# ---- transport_maps, big messages, deferral and flush -----------------------

def test_transport_maps_route_one_domain_elsewhere():
    with sink() as relay, sink() as special, Instance("deliv-tmaps", main={
            "relayhost": "[127.0.0.1]:%d" % relay.port}) as inst:
        write_transport(inst, "example.org smtp:[127.0.0.1]:%d\n" % special.port)
        inst.start()
        qid = submit(inst, ["one@example.org", "two@elsewhere.example"])
        t1 = special.wait()
        t2 = relay.wait()
        assert [r.split(" ")[1] for r in t1["rcpts"]] == ["TO:<one@example.org>"], t1
        assert [r.split(" ")[1] for r in t2["rcpts"]] == ["TO:<two@elsewhere.example>"], t2
        inst.wait_log(r"postfix/smtp\[\d+\]: %s: to=<one@example\.org>, "
                      r"relay=127\.0\.0\.1\[127\.0\.0\.1\]:%d, .*status=sent" % (qid, special.port))
        inst.wait_log(r"postfix/smtp\[\d+\]: %s: to=<two@elsewhere\.example>, "
                      r"relay=127\.0\.0\.1\[127\.0\.0\.1\]:%d, .*status=sent" % (qid, relay.port))
        inst.wait_log(r"postfix/qmgr\[\d+\]: %s: removed" % qid)
        assert len(special.transactions) == 1 and len(relay.transactions) == 1


def big_body(size=5 * 1024 * 1024):
    """Header and body lines (unstuffed, CRLF) of about size bytes."""
    lines = [b"From: jonas@example.test", b"To: big@remote.example",
             b"Subject: big one", b"MIME-Version: 1.0",
             b"Content-Type: text/plain; charset=utf-8",
             b"Content-Transfer-Encoding: 8bit", b""]
    pieces = [b".", b"..", b".leading dot", b"...", b"",
              "8-bit: \u00e4\u00f6\u00fc \u20ac \u65e5\u672c".encode(),
              bytes(range(0x80, 0x100)), b"x" * 900, b" trailing space ", b"\t tab"]
    n, total = 0, 0
    while total < size:
        line = b"%08d " % n + pieces[n % len(pieces)]
        lines.append(line)
        total += len(line) + 2
        n += 1
    lines.append(b"the end")
    return b"".join(l + b"\r\n" for l in lines)


def stuff(data):
    return b"".join(b"." + l if l.startswith(b".") else l for l in data.splitlines(keepends=True))


def test_five_megabytes_byte_for_byte():
    body = big_body()
    with sink() as srv, Instance("deliv-big", main={
            "relayhost": "[127.0.0.1]:%d" % srv.port}) as inst:
        inst.start()
        qid = submit(inst, ["big@remote.example"], stuff(body), body8=True)
        t = srv.wait(timeout=120)
        inst.wait_log(r"%s: to=<big@remote\.example>, .*status=sent" % qid, timeout=60)
        assert re.match(r"MAIL FROM:<jonas@example\.test> SIZE=\d+ BODY=8BITMIME", t["mail"])
        size = int(re.search(r"SIZE=(\d+)", t["mail"]).group(1))
        assert size >= len(body), (size, len(body))
        # cleanup prepends its Received: header; everything after it is ours
        got = t["body"]
        assert got.startswith(b"Received: "), got[:200]
        idx = got.index(b"\r\nFrom: jonas@example.test\r\n") + 2
        prepended = got[:idx]
        assert b"\r\n\r\n" not in prepended
        rest = got[idx:]
        head, sep, tail = rest.partition(b"\r\n\r\n")
        want_head, _, want_tail = body.partition(b"\r\n\r\n")
        assert tail == want_tail, "body differs"
        for h in want_head.split(b"\r\n"):
            assert h + b"\r\n" in head + b"\r\n", h
        assert t["data"].endswith(stuff(want_tail)), "dot-stuffing on the wire differs"


def test_destination_down_deferred_then_flush():
    port = free_port()
    with Instance("deliv-flush", main={"relayhost": "[127.0.0.1]:%d" % port}) as inst:
        inst.start()
        qid = submit(inst, ["later@remote.example"])
        reason = r"connect to 127\.0\.0\.1\[127\.0\.0\.1\]:%d: Connection refused" % port
        inst.wait_log(r"postfix/smtp\[\d+\]: %s: to=<later@remote\.example>, relay=none, .*"
                      r"dsn=4\.4\.1, status=deferred \(%s\)" % (qid, reason))
        wait_for(lambda: qid in inst.queue_files("deferred"), 20, "deferred queue file")
        out = inst.cmd("postqueue", "-p").stdout
        assert re.search(r"^%s\s+\d+ \w{3} \w{3}\s+\d+ [\d:]+\s+jonas@example\.test$" % qid,
                         out, re.M), out
        assert re.search(r"^\s+\(%s\)$\n^\s+later@remote\.example$" % reason, out, re.M), out
        with sink(port=port) as srv:
            p = inst.cmd("postfix", "flush")
            assert p.returncode == 0, p.stderr
            t = srv.wait()
            assert t["rcpts"][0].startswith("RCPT TO:<later@remote.example>")
            inst.wait_log(r"postfix/smtp\[\d+\]: %s: to=<later@remote\.example>, "
                          r"relay=127\.0\.0\.1\[127\.0\.0\.1\]:%d, .*status=sent" % (qid, port))
            inst.wait_log(r"postfix/qmgr\[\d+\]: %s: removed" % qid)
        out = inst.cmd("postqueue", "-p").stdout
        assert out.strip() == "Mail queue is empty", out
        assert inst.queue_files("defer") == [] and inst.queue_files("deferred") == []


# ---- MX lookups through a real DNS server -----------------------------------

DNS_ADDR = "127.0.31.53"        # dnsmasq
MX1, MX2, AHOST = "127.0.31.10", "127.0.31.20", "127.0.31.30"


class DnsWorld:
    """dnsmasq on DNS_ADDR:53 serving the .test zone below, and a resolv.conf
    that names it. The instance runs in a private mount namespace where that
    file is bind-mounted over /etc/resolv.conf (master and its children
    inherit the namespace), so the rest of the machine is not affected.

      mx.test    MX 10 mx1.mx.test (MX1), MX 20 mx2.mx.test (MX2)
      amx.test   A AHOST, no MX
      anything else under .test: NXDOMAIN
    """

    def __init__(self, tmpdir):
        self.dir = tmpdir
        self.resolv = os.path.join(tmpdir, "resolv.conf")
        with open(self.resolv, "w") as f:
            f.write("nameserver %s\noptions attempts:1 timeout:2\n" % DNS_ADDR)
        self.log = os.path.join(tmpdir, "dnsmasq.log")
        self.proc = subprocess.Popen(
            ["dnsmasq", "--conf-file=/dev/null", "--keep-in-foreground", "--no-resolv",
             "--no-hosts", "--listen-address=" + DNS_ADDR, "--bind-interfaces", "--port=53",
             "--user=root", "--local=/test/",
             "--mx-host=mx.test,mx1.mx.test,10", "--mx-host=mx.test,mx2.mx.test,20",
             "--host-record=mx1.mx.test,%s" % MX1, "--host-record=mx2.mx.test,%s" % MX2,
             "--host-record=amx.test,%s" % AHOST,
             "--log-queries", "--log-facility=" + self.log],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_for(lambda: os.path.exists(self.log) and "started" in open(self.log).read()
                 or self.proc.poll() is not None, 10, "dnsmasq")
        if self.proc.poll() is not None:
            raise AssertionError("dnsmasq failed: %s" % self.proc.stderr.read().decode())

    def start(self, inst):
        """postfix start inside the private mount namespace."""
        p = run(["unshare", "-m", "sh", "-c",
                 'mount --make-rprivate / && mount --bind "$1" /etc/resolv.conf '
                 '&& exec "$2" -c "$3" start',
                 "sh", self.resolv, sbin("postfix"), inst.conf])
        if p.returncode != 0:
            raise AssertionError("postfix start failed: %s%s" % (p.stdout, p.stderr))
        inst.started = True
        wait_for(inst.smtp_ready, 20, "smtpd")

    def close(self):
        self.proc.terminate()
        self.proc.wait(10)

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()
        return False


def relay_of(t):
    return [r.split(" ")[1] for r in t["rcpts"]]


def test_mx_lowest_preference_then_next_mx():
    with Instance("deliv-mx") as inst, DnsWorld(inst.dir) as dns, \
            sink(MX1, 25) as mx1, sink(MX2, 25) as mx2:
        dns.start(inst)
        qid = submit(inst, ["user@mx.test"])
        t = mx1.wait()
        assert relay_of(t) == ["TO:<user@mx.test>"], t
        inst.wait_log(r"postfix/smtp\[\d+\]: %s: to=<user@mx\.test>, "
                      r"relay=mx1\.mx\.test\[127\.0\.31\.10\]:25, .*dsn=2\.0\.0, status=sent" % qid)
        assert mx2.transactions == []
        # the preferred MX goes away: the next one takes the mail
        down(mx1)
        qid = submit(inst, ["other@mx.test"])
        t = mx2.wait()
        assert relay_of(t) == ["TO:<other@mx.test>"], t
        inst.wait_log(r"postfix/smtp\[\d+\]: %s: to=<other@mx\.test>, "
                      r"relay=mx2\.mx\.test\[127\.0\.31\.20\]:25, .*dsn=2\.0\.0, status=sent" % qid)
        assert len(mx1.transactions) == 1
        assert "query[MX] mx.test" in open(dns.log).read()


def test_mx_all_down_defers_with_last_reason():
    with Instance("deliv-mxdown") as inst, DnsWorld(inst.dir) as dns:
        dns.start(inst)
        qid = submit(inst, ["user@mx.test"])
        inst.wait_log(r"postfix/smtp\[\d+\]: %s: to=<user@mx\.test>, relay=none, .*dsn=4\.4\.1, "
                      r"status=deferred \(connect to mx2\.mx\.test\[127\.0\.31\.20\]:25: "
                      r"Connection refused\)" % qid)


def test_domain_without_mx_uses_its_address_and_unknown_domain_bounces():
    with Instance("deliv-amx") as inst, DnsWorld(inst.dir) as dns, sink(AHOST, 25) as ahost:
        dns.start(inst)
        qid = submit(inst, ["user@amx.test"])
        t = ahost.wait()
        assert relay_of(t) == ["TO:<user@amx.test>"], t
        inst.wait_log(r"postfix/smtp\[\d+\]: %s: to=<user@amx\.test>, "
                      r"relay=amx\.test\[127\.0\.31\.30\]:25, .*status=sent" % qid)
        qid = submit(inst, ["user@nosuch.test"], sender="phjonas@example.test")
        reason = (r"Host or domain name not found\. Name service error for "
                  r"name=nosuch\.test type=MX: Host not found")
        inst.wait_log(r"postfix/smtp\[\d+\]: %s: to=<user@nosuch\.test>, relay=none, .*"
                      r"dsn=5\.4\.4, status=bounced \(%s\)" % (qid, reason))
        box = inst.wait_mbox("phjonas", "Undelivered Mail Returned to Sender")
        assert "<user@nosuch.test>: Host or domain name not found." in box, box


# ---- delay warnings -------------------------------------------------------------

def test_delay_warning_sent_once():
    port = free_port()          # stays down
    with Instance("deliv-warn", main={
            "relayhost": "[127.0.0.1]:%d" % port,
            "delay_warning_time": "2s",
            "minimal_backoff_time": "1s", "maximal_backoff_time": "2s",
            "queue_run_delay": "1s"}) as inst:
        inst.start()
        qid = submit(inst, ["slow@remote.example"], sender="phjonas@example.test",
                     data=b"Subject: patience\r\nMessage-Id: <slow@client.test>\r\n\r\nbody\r\n")
        m = inst.wait_log(r"postfix/bounce\[\d+\]: %s: sender delay notification: ([0-9A-F]+)$"
                          % qid, timeout=30)
        box = inst.wait_mbox("phjonas", "Delayed Mail")
        # later attempts go on, but without another warning
        n = len(re.findall(r"%s: to=<slow@remote\.example>.*status=deferred" % qid, inst.log()))
        wait_for(lambda: len(re.findall(r"%s: to=<slow@remote\.example>.*status=deferred" % qid,
                                        inst.log())) >= n + 3, 30, "three more attempts")
        assert len(re.findall(r"%s: sender delay notification" % qid, inst.log())) == 1, inst.log()
        box = inst.mbox("phjonas")
        assert box.count("\nSubject: Delayed Mail (still being retried)\n") == 1, box
        msg = parse(box.split("\n", 1)[1].encode())
        assert msg["From"] == "Mail Delivery System <MAILER-DAEMON@mail.example.test>"
        assert msg["To"] == "phjonas@example.test"
        parts = msg.get_payload()
        assert [p.get_content_type() for p in parts] == \
            ["text/plain", "message/delivery-status", "text/rfc822-headers"], parts
        text = parts[0].get_payload()
        # Postfix 3.7's delay template: $delay_warning_time_hours (2s -> 0)
        # and $maximal_queue_lifetime_days
        assert "# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #" in text, text
        assert "Your message could not be delivered for more than 0 hour(s).\n" \
               "It will be retried until it is 5 day(s) old.\n" in text, text
        assert "<slow@remote.example>: connect to 127.0.0.1[127.0.0.1]:%d: Connection refused" \
            % port in text.replace("\n    ", " "), text
        rcpt = parts[1].get_payload()[1]
        assert rcpt["Final-Recipient"] == "rfc822; slow@remote.example"
        assert rcpt["Action"] == "delayed"
        assert rcpt["Status"] == "4.4.1"
        assert rcpt["Will-Retry-Until"]
        headers = parts[2].get_payload()
        assert "Message-Id: <slow@client.test>" in headers and "body" not in headers, headers
        # the message itself is still queued
        assert qid in inst.cmd("postqueue", "-p").stdout
