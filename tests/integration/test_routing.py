"""
test_routing.py - where outgoing mail goes, as Postfix routes it
(transport(5), postconf(5), ADDRESS_REWRITING_README), through running
instances and capturing SMTP servers (smtp_sink.py) on 127.0.0.1:

- sender_dependent_relayhost_maps and sender_dependent_default_transport_maps,
  looked up by trivial-rewrite with the sender (full address, @domain,
  "<>" for the null sender; DUNNO falls back to relayhost/default_transport);
- relay_domains from a table, relay_transport with a next hop,
  default_transport and relayhost;
- transport_maps as transport(5): user+extension keys, parent domains
  (".domain", or "domain" under parent_domain_matches_subdomains),
  "transport:" resetting the next hop to the recipient domain, ":"
  changing nothing, the "*" wildcard, no $1 substitution from regexp:
  tables;
- smtp_fallback_relay (and its old name fallback_relay) when the
  primary destination refuses connections or greets with 421;
- smtp_generic_maps rewriting the envelope and headers on the way out.
"""
import re

from posthorn import Instance, free_port
from smtp_sink import SmtpSink
from test_smtp import submit

BODY = b"Subject: routing\r\n\r\nhello\r\n"


def hop(port):
    return "[127.0.0.1]:%d" % port


def rcpts_of(srv):
    """Every RCPT address a sink received, over all its transactions."""
    return sorted(re.search(r"<([^>]*)>", r).group(1)
                  for t in srv.transactions for r in t["rcpts"])


def senders_of(srv):
    return sorted(t["sender"] for t in srv.transactions)


def sent_via(inst, qid, rcpt, port, prog="smtp"):
    inst.wait_log(r"postfix/%s\[\d+\]: %s: to=<%s>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:%d, "
                  r".*status=sent" % (prog, qid, re.escape(rcpt), port))


# ---- sender-dependent relayhost and default transport ----------------------------

def route_and_check(inst, cases):
    """One message per (sender, recipient, sink port, program): each is sent
    through the sink on that port by that program."""
    qids = [submit(inst, [rcpt], BODY, sender=sender) for sender, rcpt, _, _ in cases]
    for qid, (_, rcpt, port, prog) in zip(qids, cases):
        sent_via(inst, qid, rcpt, port, prog=prog)


def test_sender_dependent_relayhost():
    with SmtpSink() as dflt, SmtpSink() as r1, SmtpSink() as r2, SmtpSink() as r3, \
            Instance("route-sdrh", main={"relayhost": hop(dflt.port),
                                         "relay_domains": "relay.example"}) as inst:
        table = inst.write_table("sender_relay",
                                 "a@x.example %s\n"
                                 "@y.example %s\n"
                                 "c@y.example DUNNO\n"
                                 "<> %s\n" % (hop(r1.port), hop(r2.port), hop(r3.port)),
                                 postmap=True)
        inst.params["sender_dependent_relayhost_maps"] = "hash:" + table
        inst.write_main()
        inst.start()
        route_and_check(inst, [("a@x.example", "one@far.example", r1.port, "smtp"),
                               ("b@y.example", "two@far.example", r2.port, "smtp"),
                               # DUNNO, then no match: relayhost
                               ("c@y.example", "three@far.example", dflt.port, "smtp"),
                               ("d@other.example", "four@far.example", dflt.port, "smtp"),
                               ("", "five@far.example", r3.port, "smtp"),    # <>
                               ("a@x.example", "six@relay.example", r1.port, "relay/smtp")])
        assert rcpts_of(r1) == ["one@far.example", "six@relay.example"]
        assert rcpts_of(r2) == ["two@far.example"]
        assert rcpts_of(r3) == ["five@far.example"] and senders_of(r3) == [""]
        assert rcpts_of(dflt) == ["four@far.example", "three@far.example"]
        assert "not implemented" not in inst.log()


def test_sender_dependent_default_transport():
    with SmtpSink() as dflt, SmtpSink() as r1, SmtpSink() as r2, \
            Instance("route-sddt", main={"relayhost": hop(dflt.port)}) as inst:
        transports = inst.write_table("sender_transport",
                                      "@t.example smtp:%s\n"
                                      "d@t.example DUNNO\n"
                                      "e@t.example smtp\n"
                                      "bad@t.example error:5.7.1 sender not allowed out\n"
                                      % hop(r2.port), postmap=True)
        relays = inst.write_table("sender_relay", "@t.example %s\n" % hop(r1.port),
                                  postmap=True)
        inst.params["sender_dependent_default_transport_maps"] = "hash:" + transports
        inst.params["sender_dependent_relayhost_maps"] = "hash:" + relays
        inst.write_main()
        inst.start()
        route_and_check(inst, [
            # the transport's next hop comes before the sender's relayhost
            ("a@t.example", "one@far.example", r2.port, "smtp"),
            # DUNNO: default_transport, then the sender's relayhost
            ("d@t.example", "two@far.example", r1.port, "smtp"),
            # a transport without next hop: the sender's relayhost
            ("e@t.example", "three@far.example", r1.port, "smtp")])
        q4 = submit(inst, ["four@far.example"], BODY, sender="bad@t.example")
        inst.wait_log(r"postfix/error\[\d+\]: %s: to=<four@far\.example>, relay=none, .*"
                      r"dsn=5\.7\.1, status=bounced \(sender not allowed out\)" % q4)
        assert rcpts_of(r2) == ["one@far.example"]
        assert rcpts_of(r1) == ["three@far.example", "two@far.example"]


# ---- relay_domains, relay_transport, default_transport, relayhost ---------------

def test_relay_domains_table_and_relay_transport():
    with SmtpSink() as dflt, SmtpSink() as relay, SmtpSink() as other, \
            Instance("route-relay", main={"relayhost": hop(dflt.port)}) as inst:
        domains = inst.write_table("relay_domains", "relay.example OK\n", postmap=True)
        inst.params["relay_domains"] = "hash:" + domains
        inst.params["relay_transport"] = "relay:" + hop(relay.port)
        inst.write_main()
        inst.start()
        qid = submit(inst, ["a@relay.example", "b@sub.relay.example", "c@far.example"], BODY)
        sent_via(inst, qid, "a@relay.example", relay.port, prog="relay/smtp")
        sent_via(inst, qid, "b@sub.relay.example", relay.port, prog="relay/smtp")
        sent_via(inst, qid, "c@far.example", dflt.port)
        # default_transport with a next hop wins over relayhost
        inst.stop()
        inst.params["default_transport"] = "smtp:" + hop(other.port)
        inst.write_main()
        inst.start()
        qid = submit(inst, ["d@far.example", "e@relay.example"], BODY)
        sent_via(inst, qid, "d@far.example", other.port)
        sent_via(inst, qid, "e@relay.example", relay.port, prog="relay/smtp")
        assert rcpts_of(dflt) == ["c@far.example"]


# ---- transport_maps ------------------------------------------------------------------

def test_transport_maps_postfix_rules():
    with SmtpSink() as dflt, SmtpSink() as r1, SmtpSink() as r2, SmtpSink() as r3, \
            Instance("route-tmaps", main={
                "relayhost": hop(dflt.port), "recipient_delimiter": "+",
                # a next hop without port: the domain, on smtp_tcp_port
                "smtp_tcp_port": str(r3.port),
                "parent_domain_matches_subdomains": "transport_maps"}) as inst:
        table = inst.write_table("transport",
                                 "special@far.example smtp:%s\n"
                                 "parent.example :%s\n"
                                 "127.0.0.1 smtp:\n"
                                 "keep.example :\n"
                                 "bounce.example error:5.1.2 no such domain here\n"
                                 "later.example retry:4.4.5 try again tomorrow\n"
                                 "* :%s\n" % (hop(r1.port), hop(r2.port), hop(r2.port)),
                                 postmap=True)
        # trivial-rewrite allows no $1 from a pattern into a transport or next hop
        rx = inst.write_table("transport.rx",
                              "/^([0-9]+)@rx\\.example$/ smtp:[127.0.0.1]:$1\n"
                              # a pattern sees whole addresses, never the domain key
                              "/^far\\.example$/ smtp:%s\n" % hop(r1.port))
        inst.params["transport_maps"] = "hash:%s, regexp:%s" % (table, rx)
        inst.write_main()
        inst.start()
        qid = submit(inst, ["special+tag@far.example", "x@a.b.parent.example",
                            "y@127.0.0.1", "z@keep.example", "w@elsewhere.example",
                            "v@bounce.example", "u@later.example",
                            "%d@rx.example" % r1.port, "q@far.example"], BODY)
        sent_via(inst, qid, "special+tag@far.example", r1.port)      # user+ext -> user
        sent_via(inst, qid, "x@a.b.parent.example", r2.port)        # parent domain
        sent_via(inst, qid, "y@127.0.0.1", r3.port)                 # "smtp:": the domain
        sent_via(inst, qid, "z@keep.example", dflt.port)            # ":": unchanged
        sent_via(inst, qid, "w@elsewhere.example", r2.port)         # "*"
        sent_via(inst, qid, "%d@rx.example" % r1.port, r2.port)     # the $1 rule skipped
        sent_via(inst, qid, "q@far.example", r2.port)               # not the domain rule
        inst.wait_log(r"transport\.rx, line 1: regular expression substitution is not "
                      r"allowed: skipping this rule")
        inst.wait_log(r"postfix/error\[\d+\]: %s: to=<v@bounce\.example>, relay=none, .*"
                      r"dsn=5\.1\.2, status=bounced \(no such domain here\)" % qid)
        inst.wait_log(r"postfix/error\[\d+\]: %s: to=<u@later\.example>, relay=none, .*"
                      r"dsn=4\.4\.5, status=deferred \(try again tomorrow\)" % qid)
        out = inst.cmd("postqueue", "-p").stdout
        assert re.search(r"\(try again tomorrow\)\s+u@later\.example", out), out
        assert rcpts_of(dflt) == ["z@keep.example"]


# ---- smtp_fallback_relay ---------------------------------------------------------------

def test_fallback_relay_when_the_primary_refuses_connections():
    dead = free_port()
    with SmtpSink() as fallback, Instance("route-fb", main={
            "relayhost": hop(dead), "smtp_fallback_relay": hop(fallback.port)}) as inst:
        inst.start()
        qid = submit(inst, ["someone@far.example"], BODY)
        t = fallback.wait()
        assert t["rcpts"][0].startswith("RCPT TO:<someone@far.example>"), t
        sent_via(inst, qid, "someone@far.example", fallback.port)


def test_fallback_relay_old_name_and_421_greeting():
    with SmtpSink(greeting="421 4.3.2 busy") as busy, SmtpSink() as fallback, \
            Instance("route-fbold", main={"relayhost": hop(busy.port),
                                          "fallback_relay": hop(fallback.port)}) as inst:
        p = inst.cmd("postfix", "check")
        assert "fallback_relay" not in p.stderr, p.stderr     # known: no warning
        inst.start()
        qid = submit(inst, ["someone@far.example"], BODY)
        fallback.wait()
        sent_via(inst, qid, "someone@far.example", fallback.port)
        assert busy.transactions == []
        assert "fallback_relay" not in inst.log(), inst.log()


# ---- smtp_generic_maps / lmtp_generic_maps ------------------------------------------

GENERIC_BODY = (b"From: Jonas <phjonas@example.test>\r\n"
                b"To: team@far.example,\r\n"
                b"\tsomeone@far.example\r\n"
                b"Cc: phjonas+lists@example.test\r\n"
                b"Reply-To: nobody@example.test\r\n"
                b"Subject: mail from phjonas@example.test\r\n"
                b"\r\n"
                b"From: phjonas@example.test stays in the body\r\n")


def test_smtp_generic_maps_rewrite_envelope_and_headers():
    with SmtpSink() as srv, Instance("route-generic", main={
            "relayhost": hop(srv.port), "recipient_delimiter": "+"}) as inst:
        table = inst.write_table("generic",
                                 "phjonas@example.test jonas@isp.example\n"
                                 "team@far.example team@elsewhere.example\n"
                                 "@example.test @isp.example\n", postmap=True)
        inst.params["smtp_generic_maps"] = "hash:" + table
        inst.write_main()
        inst.start()
        qid = submit(inst, ["team@far.example", "someone@far.example"], GENERIC_BODY,
                     sender="phjonas@example.test")
        t = srv.wait()
        assert t["mail"].startswith("MAIL FROM:<jonas@isp.example>"), t["mail"]
        assert sorted(r.split()[1] for r in t["rcpts"]) == \
            ["TO:<someone@far.example>", "TO:<team@elsewhere.example>"], t["rcpts"]
        head, body = t["body"].split(b"\r\n\r\n", 1)
        assert b"\r\nFrom: Jonas <jonas@isp.example>\r\n" in b"\r\n" + head, head
        assert b"\r\nTo: team@elsewhere.example,\r\n\tsomeone@far.example\r\n" in head, head
        # user+ext@domain matches the user@domain key; propagate_unmatched_extensions
        # does not name "generic" by default: the extension is gone
        assert b"\r\nCc: jonas@isp.example\r\n" in head, head
        assert b"\r\nReply-To: nobody@isp.example\r\n" in head, head
        assert b"\r\nSubject: mail from phjonas@example.test\r\n" in head, head
        assert body == b"From: phjonas@example.test stays in the body\r\n", body
        # the log keeps the original addresses, as Postfix's
        sent_via(inst, qid, "team@far.example", srv.port)
        assert "not implemented" not in inst.log()


def test_lmtp_generic_maps():
    with SmtpSink(lmtp=True) as srv, Instance("route-lgeneric", main={
            "default_transport": "lmtp:inet:127.0.0.1:%d" % srv.port}) as inst:
        table = inst.write_table("generic", "@example.test @lmtp.example\n", postmap=True)
        inst.params["lmtp_generic_maps"] = "hash:" + table
        inst.params["smtp_generic_maps"] = "hash:/nonexistent/not-for-lmtp"
        inst.write_main()
        inst.start()
        submit(inst, ["someone@far.example"], GENERIC_BODY, sender="phjonas@example.test")
        t = srv.wait()
        assert t["mail"].startswith("MAIL FROM:<phjonas@lmtp.example>"), t["mail"]
        assert b"From: Jonas <phjonas@lmtp.example>\r\n" in t["body"], t["body"]


def test_fallback_relay_not_used_when_this_host_is_an_mx():
    from test_delivery import DnsWorld      # dnsmasq: mx.test MX 10 mx1, MX 20 mx2
    with SmtpSink() as fallback, Instance("route-fbmx", main={
            "myhostname": "mx2.mx.test",
            "smtp_fallback_relay": hop(fallback.port)}) as inst, DnsWorld(inst.dir) as dns:
        dns.start(inst)
        # this host is mx2: when mx1 is down the mail waits, no fallback (no loops)
        qid = submit(inst, ["user@mx.test"], BODY)
        inst.wait_log(r"postfix/smtp\[\d+\]: %s: to=<user@mx\.test>, relay=none, .*"
                      r"status=deferred \(connect to mx1\.mx\.test\[127\.0\.31\.10\]:25: "
                      r"Connection refused\)" % qid)
        # amx.test (its own address, nobody listening): the fallback relay
        qid = submit(inst, ["user@amx.test"], BODY)
        sent_via(inst, qid, "user@amx.test", fallback.port)
        assert rcpts_of(fallback) == ["user@amx.test"]
