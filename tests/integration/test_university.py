"""
test_university.py - "Who may send what": a university's main.cf, taken
as it is (restriction list, client limits, amavis content filter), and
checked against what its comments promise. Each promise is one test;
the replies are Postfix's, byte for byte.

The instance looks up client names (smtpd_peername_lookup = yes) in a
dnsmasq on 127.0.0.154 (posthorn.dns_server; a private mount namespace
points /etc/resolv.conf there). Clients come from 127.0.0.x source
addresses; mynetworks is 127.0.0.1/32, so 127.0.0.10 and up are outside:

  127.0.0.10  good.client.test       PTR and A agree (forward-confirmed)
  127.0.0.11  forged.client.test     PTR only, the name has no A record
  127.0.0.12  -                      no PTR at all
  127.0.0.13  listed.client.test     forward-confirmed, listed in zen.test
  127.0.0.14  -                      no PTR, listed, in mtawl by address
  127.0.0.15  out.lists.test         listed, in mtawl by parent domain

Sender domains: good.test (MX), aonly.test (A only), nowhere.test
(nothing), bad-sender.test and bulk-mail.test (exist, but in ca-Xlist),
partner.test (exists, alerts@ is OK in ca-Xlist).

The content filter is test_filter.FilterServer (it adds
"X-Test-Filter: scanned" and re-injects into the 127.0.0.1:PORT2 smtpd).
The policy service is a small Python script run by spawn(8).
"""
import contextlib
import os
import re
import time

from posthorn import Instance, Session, dns_server, free_port, port_open, start_with_resolv, wait_for
from test_filter import FILTER_HEADER, FilterServer, amavis_master

DNS = "127.0.0.154"             # test_restrictions uses .153: no clash on port 53
LOCAL = "127.0.0.1"
GOOD = "127.0.0.10"
FORGED = "127.0.0.11"
NOPTR = "127.0.0.12"
LISTED = "127.0.0.13"
WL_ADDR = "127.0.0.14"
WL_NAME = "127.0.0.15"
RCPT = "phedison@example.test"

RECORDS = [
    "--local=/127.in-addr.arpa/",           # we answer (NXDOMAIN) for every reverse name
    "--host-record=good.client.test,%s" % GOOD,
    "--ptr-record=11.0.0.127.in-addr.arpa,forged.client.test",
    "--host-record=listed.client.test,%s" % LISTED,
    "--host-record=out.lists.test,%s" % WL_NAME,
    "--address=/13.0.0.127.zen.test/127.0.0.2",
    "--address=/14.0.0.127.zen.test/127.0.0.2",
    "--address=/15.0.0.127.zen.test/127.0.0.2",
    "--mx-host=good.test,mail.good.test",
    "--address=/mail.good.test/192.0.2.25",
    "--address=/aonly.test/192.0.2.26",
    "--mx-host=bad-sender.test,mail.good.test",
    "--address=/bulk-mail.test/192.0.2.27",
    "--address=/partner.test/192.0.2.28",
]

CA_XLIST = """\
# Senders nobody may use (REJECT), and the few that skip the client
# checks wherever they come from (OK).
spammer@bad-sender.test     REJECT Sender blacklisted by the university
bulk-mail.test              REJECT Domain blacklisted by the university
alerts@partner.test         OK
"""

MTAWL = """\
# Partner MTAs: accepted without the host name, RBL and policy checks.
127.0.0.14                  OK
lists.test                  OK
"""

POLICY_PY = r'''
"""Test policy service (Postfix policy delegation protocol on stdin/stdout)."""
import sys

attrs = {}
while True:
    line = sys.stdin.readline()
    if not line:
        break
    line = line.rstrip("\n")
    if line:
        key, _, value = line.partition("=")
        attrs[key] = value
        continue
    if attrs.get("sender") == "quota@good.test":
        action = "450 4.7.1 quota exceeded for %s from %s[%s] at %s" % (
            attrs.get("sender"), attrs.get("client_name"), attrs.get("client_address"),
            attrs.get("protocol_state"))
    else:
        action = "DUNNO"
    sys.stdout.write("action=%s\n\n" % action)
    sys.stdout.flush()
    attrs = {}
'''

POLICY_CHECK = "check_policy_service unix:private/policy,\n    "

# The university part of main.cf, comments and all (conf/ is the DIR).
UNIVERSITY_MAIN_CF = """
# ---- Who may send what -------------------------------------------------
# 1. Our own hosts (mynetworks) and authenticated users may send anything
#    to anyone.
# 2. Everyone else: the sender's domain must exist in DNS, and the mail
#    must be for us (no relaying).
# 3. Senders in LISTAS/ca-Xlist are refused, even from partner MTAs;
#    its OK entries skip the remaining checks.
# 4. MTAs in LISTAS/mtawl (by address or by name) skip the remaining
#    checks: they need no DNS name and may be on a blacklist.
# 5. Other clients need a forward-confirmed host name, a reverse (PTR)
#    name, and must not be listed in zen.test.
# 6. The policy service has the last word.
smtpd_recipient_restrictions = permit_mynetworks, permit_sasl_authenticated,
    reject_unknown_sender_domain, reject_unauth_destination,
    check_sender_access hash:%(conf)s/LISTAS/ca-Xlist,
    check_client_access hash:%(conf)s/LISTAS/mtawl,
    reject_unknown_client_hostname, reject_unknown_reverse_client_hostname,
    reject_rbl_client zen.test,
    %(policy)spermit

# No client outside mynetworks may hold more than 15 connections at a time,
# open more than 70 a minute, or send more than 450 messages a minute.
smtpd_client_connection_count_limit = 15
smtpd_client_connection_rate_limit = 70
smtpd_client_message_rate_limit = 450

# Everything we accept is scanned by amavis first.
content_filter = smtp-amavis:[127.0.0.1]:%(fport)d
"""


@contextlib.contextmanager
def university(name, extra="", with_filter=False):
    """The university instance, started; yields (inst, filter or None).

    extra: main.cf lines appended after the university part (they win).
    """
    fport, rport = free_port(), free_port()
    master = amavis_master(fport, rport)
    master += "policy unix - n n - - spawn user=nobody argv=/usr/bin/python3 %s/policy.py\n"
    inst = Instance(name, main={"smtpd_peername_lookup": "yes", "mynetworks": "127.0.0.1/32"},
                    master_extra=master)
    with inst:
        inst.edit_master_cf(re.escape("%s/policy.py"), inst.conf + "/policy.py")
        with open(os.path.join(inst.conf, "policy.py"), "w") as f:
            f.write(POLICY_PY)
        os.makedirs(os.path.join(inst.conf, "LISTAS"))
        for table, text in (("ca-Xlist", CA_XLIST), ("mtawl", MTAWL)):
            path = os.path.join(inst.conf, "LISTAS", table)
            with open(path, "w") as f:
                f.write(text)
            p = inst.cmd("postmap", "hash:" + path)
            assert p.returncode == 0, p.stdout + p.stderr
        with open(os.path.join(inst.conf, "main.cf"), "a") as f:
            f.write(UNIVERSITY_MAIN_CF % {"conf": inst.conf, "fport": fport,
                                          "policy": POLICY_CHECK})
            f.write(extra)
        inst.filter_port, inst.reinject_port = fport, rport
        with dns_server(inst, *RECORDS, addr=DNS) as resolv:
            flt = FilterServer(fport, reinject=rport) if with_filter else None
            try:
                start_with_resolv(inst, resolv)
                yield inst, flt
            finally:
                if flt:
                    flt.close()
                inst.stop()


def ask(inst, source, sender, rcpt=RCPT, helo="client.example"):
    """One session up to RCPT TO; returns the RCPT reply (list of lines)."""
    s = Session(inst.port, source=source)
    try:
        assert s.reply() == ["220 mail.example.test ESMTP Postfix"]
        assert s.cmd("EHLO " + helo)[-1].startswith("250 ")
        assert s.cmd("MAIL FROM:<%s>" % sender) == ["250 2.1.0 Ok"]
        r = s.cmd("RCPT TO:<%s>" % rcpt)
        s.cmd("QUIT")
        return r
    finally:
        s.close()


def reject_log_rx(client, reply, sender, rcpt=RCPT):
    return (r"postfix/smtpd\[\d+\]: NOQUEUE: reject: RCPT from %s: %s; from=<%s> to=<%s> "
            r"proto=ESMTP helo=<client\.example>$"
            % (re.escape(client), re.escape(reply), re.escape(sender), re.escape(rcpt)))


OK = ["250 2.1.5 Ok"]


def test_own_network_may_send_anything():
    """Comment 1: mynetworks skips every check, even relaying and the blacklist."""
    with university("univlocal") as (inst, _):
        assert ask(inst, LOCAL, "x@nowhere.test", "someone@elsewhere.test") == OK
        assert ask(inst, LOCAL, "spammer@bad-sender.test") == OK
        # outside mynetworks, the same transactions are refused
        assert ask(inst, GOOD, "x@nowhere.test", "someone@elsewhere.test")[0].startswith("4")
        assert ask(inst, GOOD, "spammer@bad-sender.test")[0].startswith("554 ")


def test_unknown_sender_domain():
    """Comment 2: the sender's domain must have an MX or an address record."""
    with university("univsdom") as (inst, _):
        reply = "450 4.1.8 <x@nowhere.test>: Sender address rejected: Domain not found"
        assert ask(inst, GOOD, "x@nowhere.test") == [reply]
        inst.wait_log(reject_log_rx("good.client.test[127.0.0.10]", reply, "x@nowhere.test"))
        assert ask(inst, GOOD, "x@good.test") == OK
        assert ask(inst, GOOD, "x@aonly.test") == OK
        # before the whitelist: partner MTAs need a real sender domain too
        assert ask(inst, WL_ADDR, "x@nowhere.test") == [reply]


def test_no_relaying_for_outsiders():
    """Comment 2: only mail for us (the default relay restrictions answer first)."""
    with university("univrelay") as (inst, _):
        reply = "454 4.7.1 <someone@elsewhere.test>: Relay access denied"
        assert ask(inst, GOOD, "x@good.test", "someone@elsewhere.test") == [reply]
        inst.wait_log(reject_log_rx("good.client.test[127.0.0.10]", reply, "x@good.test",
                                    "someone@elsewhere.test"))
        # a whitelisted MTA may not relay either
        assert ask(inst, WL_ADDR, "x@good.test", "someone@elsewhere.test") == [reply]
        # with the relay restrictions out of the way, reject_unauth_destination says 554
    with university("univrelay2", extra="smtpd_relay_restrictions =\n") as (inst, _):
        assert ask(inst, GOOD, "x@good.test", "someone@elsewhere.test") == [
            "554 5.7.1 <someone@elsewhere.test>: Relay access denied"]


def test_sender_blacklist():
    """Comment 3: ca-Xlist REJECT entries, by address and by domain."""
    with university("univxlist") as (inst, _):
        reply = ("554 5.7.1 <spammer@bad-sender.test>: Sender address rejected: "
                 "Sender blacklisted by the university")
        assert ask(inst, GOOD, "spammer@bad-sender.test") == [reply]
        inst.wait_log(reject_log_rx("good.client.test[127.0.0.10]", reply,
                                    "spammer@bad-sender.test"))
        assert ask(inst, GOOD, "anyone@bulk-mail.test") == [
            "554 5.7.1 <anyone@bulk-mail.test>: Sender address rejected: "
            "Domain blacklisted by the university"]
        # other senders of the domain are fine
        assert ask(inst, GOOD, "someone-else@bad-sender.test") == OK
        # the blacklist comes before the MTA whitelist
        assert ask(inst, WL_ADDR, "spammer@bad-sender.test") == [reply]


def test_sender_list_ok_skips_client_checks():
    """Comment 3: an OK sender in ca-Xlist passes from a blacklisted client."""
    with university("univxok") as (inst, _):
        assert ask(inst, LISTED, "alerts@partner.test") == OK
        assert ask(inst, LISTED, "other@partner.test")[0].startswith("554 5.7.1 Service unavailable")


def test_mta_whitelist():
    """Comment 4: mtawl by address and by (parent) name skips the client checks."""
    with university("univmtawl") as (inst, _):
        # no PTR and on zen.test, but in mtawl by address
        assert ask(inst, WL_ADDR, "x@good.test") == OK
        # out.lists.test on zen.test, mtawl lists its parent domain
        assert ask(inst, WL_NAME, "x@good.test") == OK
        inst.wait_log(r"connect from out\.lists\.test\[127\.0\.0\.15\]")
        assert "reject: RCPT from unknown[127.0.0.14]" not in inst.log()
    # the same list without the mtawl line: both are refused
    rest = ("smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination,\n"
            "    reject_unknown_client_hostname, reject_rbl_client zen.test, permit\n")
    with university("univnowl", extra=rest) as (inst, _):
        assert ask(inst, WL_ADDR, "x@good.test") == [
            "450 4.7.25 Client host rejected: cannot find your hostname, [127.0.0.14]"]
        assert ask(inst, WL_NAME, "x@good.test") == [
            "554 5.7.1 Service unavailable; Client host [127.0.0.15] blocked using zen.test"]


def test_unknown_client_hostname():
    """Comment 5: a PTR name whose A record does not give the address back."""
    with university("univfcrdns") as (inst, _):
        reply = "450 4.7.25 Client host rejected: cannot find your hostname, [127.0.0.11]"
        assert ask(inst, FORGED, "x@good.test") == [reply]
        inst.wait_log(reject_log_rx("unknown[127.0.0.11]", reply, "x@good.test"))
        inst.wait_log(r"postfix/smtpd\[\d+\]: warning: hostname forged\.client\.test does not "
                      r"resolve to address 127\.0\.0\.11")
        # no PTR at all fails the same (first) check
        assert ask(inst, NOPTR, "x@good.test") == [
            "450 4.7.25 Client host rejected: cannot find your hostname, [127.0.0.12]"]
        assert ask(inst, GOOD, "x@good.test") == OK


def test_unknown_reverse_client_hostname():
    """Comment 5: a PTR name is enough for reject_unknown_reverse_client_hostname.

    In the full list reject_unknown_client_hostname catches these clients
    first; without it, the reverse check is seen on its own.
    """
    rest = ("smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination,\n"
            "    reject_unknown_reverse_client_hostname, permit\n")
    with university("univrev", extra=rest) as (inst, _):
        reply = "450 4.7.25 Client host rejected: cannot find your reverse hostname, [127.0.0.12]"
        assert ask(inst, NOPTR, "x@good.test") == [reply]
        inst.wait_log(reject_log_rx("unknown[127.0.0.12]", reply, "x@good.test"))
        assert ask(inst, FORGED, "x@good.test") == OK


def test_rbl_client():
    """Comment 5: clients listed in zen.test are refused."""
    with university("univrbl") as (inst, _):
        reply = "554 5.7.1 Service unavailable; Client host [127.0.0.13] blocked using zen.test"
        assert ask(inst, LISTED, "x@good.test") == [reply]
        inst.wait_log(reject_log_rx("listed.client.test[127.0.0.13]", reply, "x@good.test"))


def policy_service_check():
    """Comment 6: the policy service decides last, with the client's attributes."""
    with university("univpolicy") as (inst, _):
        assert ask(inst, GOOD, "quota@good.test") == [
            "450 4.7.1 <phedison@example.test>: Recipient address rejected: quota exceeded "
            "for quota@good.test from good.client.test[127.0.0.10] at RCPT"]
        assert ask(inst, GOOD, "x@good.test") == OK
        # partner MTAs never reach it
        assert ask(inst, WL_ADDR, "quota@good.test") == OK


test_policy_service = policy_service_check


def test_good_client_end_to_end():
    """A good client's message passes the filter once and lands in the mailbox."""
    with university("unive2e", with_filter=True) as (inst, flt):
        wait_for(lambda: port_open(inst.reinject_port), 20, "re-injection smtpd")
        s = Session(inst.port, source=GOOD)
        assert s.reply() == ["220 mail.example.test ESMTP Postfix"]
        s.cmd("EHLO client.example")
        assert s.cmd("MAIL FROM:<student@good.test>") == ["250 2.1.0 Ok"]
        assert s.cmd("RCPT TO:<%s>" % RCPT) == OK
        assert s.cmd("DATA") == ["354 End data with <CR><LF>.<CR><LF>"]
        s.send("Subject: term paper\r\n\r\nuniversity end to end\r\n.\r\n")
        r = s.reply()
        s.cmd("QUIT")
        s.close()
        assert r[0].startswith("250 2.0.0 Ok: queued as "), r
        qid = r[0].split()[-1]
        box = inst.wait_mbox("phedison", "university end to end", timeout=30)
        assert box.count(FILTER_HEADER) == 1, box
        assert re.search(r"Received: from client\.example \(good\.client\.test \[127\.0\.0\.10\]\)",
                         box), box
        inst.wait_log(r"postfix/smtpd\[\d+\]: %s: client=good\.client\.test\[127\.0\.0\.10\]$" % qid)
        m = inst.wait_log(r"postfix/smtp\[\d+\]: %s: to=<phedison@example\.test>, "
                          r"relay=127\.0\.0\.1\[127\.0\.0\.1\]:%d, .*status=sent "
                          r"\(250 2\.0\.0 Ok: queued as ([0-9A-F]+)\)" % (qid, inst.filter_port))
        inst.wait_log(r"postfix/local\[\d+\]: %s: to=<phedison@example\.test>, relay=local, "
                      r".*status=sent" % m.group(1))
        time.sleep(0.5)
        assert len(flt.transactions) == 1, flt.transactions


def greet(inst, source=GOOD):
    s = Session(inst.port, source=source)
    return s, s.reply()


WELCOME = ["220 mail.example.test ESMTP Postfix"]


def test_connection_count_limit():
    """15 connections at a time from one outside client; the 16th is refused."""
    with university("univcount") as (inst, _):
        sessions = []
        for i in range(15):
            s, r = greet(inst)
            assert r == WELCOME, (i, r)
            sessions.append(s)
        s, r = greet(inst)
        assert r == ["421 4.7.0 mail.example.test Error: too many connections from 127.0.0.10"], r
        s.close()
        inst.wait_log(r"postfix/smtpd\[\d+\]: warning: Connection concurrency limit exceeded: "
                      r"16 from good\.client\.test\[127\.0\.0\.10\] for service %d$" % inst.port)
        # mynetworks is not limited; others are counted separately
        s, r = greet(inst, LOCAL)
        assert r == WELCOME, r
        s.close()
        s, r = greet(inst, LISTED)
        assert r == WELCOME, r
        s.close()
        for s in sessions:
            s.close()


def test_connection_rate_limit():
    """70 connections a minute from one outside client; the 71st is refused."""
    with university("univrate") as (inst, _):
        for i in range(70):
            s, r = greet(inst)
            assert r == WELCOME, (i, r)
            s.send("QUIT\r\n")
            s.reply()
            s.close()
        s, r = greet(inst)
        assert r == ["421 4.7.0 mail.example.test Error: too many connections from 127.0.0.10"], r
        s.close()
        inst.wait_log(r"warning: Connection rate limit exceeded: 71 from "
                      r"good\.client\.test\[127\.0\.0\.10\] for service %d$" % inst.port)


def test_message_rate_limit():
    """450 messages (MAIL FROM) a minute from one outside client.

    The 450 RSETs would pass smtpd_junk_command_limit (100) and end the
    session on errors first, as with Postfix; the limit is raised here so
    that anvil's limit is what the client meets.
    """
    with university("univmsg", extra="smtpd_junk_command_limit = 1000\n") as (inst, _):
        s, r = greet(inst)
        assert r == WELCOME, r
        assert s.cmd("EHLO client.example")[-1].startswith("250 ")
        s.send("MAIL FROM:<x@good.test>\r\nRSET\r\n" * 450)
        for i in range(450):
            assert s.reply() == ["250 2.1.0 Ok"], i
            assert s.reply() == ["250 2.0.0 Ok"], i
        assert s.cmd("MAIL FROM:<x@good.test>") == ["450 4.7.1 Error: too much mail from 127.0.0.10"]
        s.close()
        inst.wait_log(r"warning: Message delivery request rate limit exceeded: 451 from "
                      r"good\.client\.test\[127\.0\.0\.10\] for service %d$" % inst.port)
