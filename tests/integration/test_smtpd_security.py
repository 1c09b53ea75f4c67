"""
test_smtpd_security.py - hardening of the SMTP server and what it passes
on, through real instances and raw client sessions:

  - the relay safety net: smtpd refuses to run (fatal log line) when
    neither smtpd_relay_restrictions nor smtpd_recipient_restrictions can
    stop unauthorized relaying;
  - address literals are local only for this host's listening addresses
    (inet_interfaces, proxy_interfaces), not for all of 127.0.0.0/8;
  - ORCPT/ENVID leave posthorn as xtext (SMTP client) and in DSNs; no
    control character reaches the next hop's RCPT command;
  - smtpd_junk_command_limit: NOOP/VRFY/ETRN/RSET beyond the limit count
    as errors, so smtpd_hard_error_limit ends the session;
  - the HELO/EHLO name is kept printable ('?' for other bytes) in the
    Received: header and in log lines.
"""
import os
import re
import socket
import time

from posthorn import QUEUED_RX, Instance, Session, wait_for
from test_bounce import dsn_fields
from smtp_sink import SmtpSink

RELAY_SAFETY_FATAL = (
    r"postfix/smtpd\[\d+\]: fatal: in parameter smtpd_relay_restrictions or "
    r"smtpd_recipient_restrictions, specify at least one working instance of: "
    r"reject_unauth_destination, defer_unauth_destination, reject, defer or defer_if_permit")


def read_for(sock, seconds):
    """Everything the server sends within seconds (until EOF)."""
    sock.settimeout(0.5)
    data = b""
    end = time.time() + seconds
    while time.time() < end:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            continue
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    return data


# ---- 8. relay safety net ------------------------------------------------------

def test_open_relay_config_refused_at_start():
    """Empty relay restrictions and a recipient list that only permits:
    smtpd must not serve anybody (Postfix: fatal at start)."""
    main = {"mynetworks": "127.0.0.1/32",
            "smtpd_relay_restrictions": "",
            "smtpd_recipient_restrictions": "permit_mynetworks"}
    with Instance("sec-relaynet", main=main) as inst:
        inst.start()
        sock = socket.create_connection(("127.0.0.1", inst.port), timeout=10,
                                        source_address=("127.0.0.2", 0))
        try:
            # a pipelined relay attempt from outside mynetworks
            sock.sendall(b"EHLO outside.example\r\nMAIL FROM:<spam@outside.example>\r\n"
                         b"RCPT TO:<victim@elsewhere.example>\r\n")
            inst.wait_log(RELAY_SAFETY_FATAL)
            got = read_for(sock, 3).decode("utf-8", "replace")
        finally:
            sock.close()
        assert not re.search(r"(?m)^2", got), got          # no greeting, no 250
        assert "250 2.1.5" not in got, got
        assert "Relay access denied" not in got, got


def relay_lists_ok(relay, rcpt):
    """smtpd starts and greets with these lists."""
    main = {"smtpd_relay_restrictions": relay, "smtpd_recipient_restrictions": rcpt,
            "smtpd_restriction_classes": "safe_class", "safe_class": "reject_unauth_destination"}
    with Instance("sec-relayok", main=main) as inst:
        inst.start()
        s = Session(inst.port)
        assert s.reply() == ["220 mail.example.test ESMTP Postfix"]
        s.cmd("QUIT")
        s.close()
        assert "specify at least one working instance" not in inst.log()


def test_relay_safety_net_accepts_working_lists():
    relay_lists_ok("", "permit_mynetworks, reject_unauth_destination")
    relay_lists_ok("permit_mynetworks, defer_unauth_destination", "")
    relay_lists_ok("", "permit_mynetworks, safe_class, permit")      # a restriction class
    relay_lists_ok("check_client_access inline:{1.2.3.4=OK}, reject", "")


def test_relay_safety_net_ignores_unreachable_and_warn_only():
    """After "permit" or under warn_if_reject a reject cannot stop relaying."""
    for rcpt in ("permit_mynetworks, permit, reject_unauth_destination",
                 "permit_mynetworks, warn_if_reject reject_unauth_destination"):
        main = {"smtpd_relay_restrictions": "", "smtpd_recipient_restrictions": rcpt}
        with Instance("sec-relaybad", main=main) as inst:
            inst.start()
            sock = socket.create_connection(("127.0.0.1", inst.port), timeout=10)
            try:
                inst.wait_log(RELAY_SAFETY_FATAL)
                got = read_for(sock, 1).decode("utf-8", "replace")
            finally:
                sock.close()
            assert not got.startswith("220"), (rcpt, got)


# ---- 9. address literals ------------------------------------------------------

def test_address_literal_local_only_for_listening_addresses():
    main = {"mynetworks": "127.0.0.1/32",
            "smtpd_relay_restrictions": "permit_mynetworks, reject_unauth_destination"}
    with Instance("sec-literal", main=main) as inst:     # inet_interfaces = 127.0.0.1
        inst.start()
        s = Session(inst.port, source="127.0.0.2")       # outside mynetworks
        s.reply()
        s.cmd("EHLO outside.example")
        s.cmd("MAIL FROM:<someone@outside.example>")
        assert s.cmd("RCPT TO:<root@[127.0.0.9]>") == [
            "554 5.7.1 <root@[127.0.0.9]>: Relay access denied"]
        assert s.cmd("RCPT TO:<root@[IPv6:::1]>") == [
            "554 5.7.1 <root@[IPv6:::1]>: Relay access denied"]
        # the address smtpd listens on is this host
        assert s.cmd("RCPT TO:<root@[127.0.0.1]>") == ["250 2.1.5 Ok"]
        s.cmd("QUIT")
        s.close()
        inst.wait_log(r"NOQUEUE: reject: RCPT from unknown\[127\.0\.0\.2\]: 554 5\.7\.1 "
                      r"<root@\[127\.0\.0\.9\]>: Relay access denied;")


def test_address_literal_proxy_interfaces_is_local():
    main = {"mynetworks": "127.0.0.1/32", "proxy_interfaces": "127.0.0.9",
            "smtpd_relay_restrictions": "permit_mynetworks, reject_unauth_destination"}
    with Instance("sec-literal-proxy", main=main) as inst:
        inst.start()
        s = inst.session(source="127.0.0.2", helo="EHLO outside.example",
                         sender="someone@outside.example")
        assert s.cmd("RCPT TO:<root@[127.0.0.9]>") == ["250 2.1.5 Ok"]
        assert s.cmd("RCPT TO:<root@[127.0.0.10]>") == [
            "554 5.7.1 <root@[127.0.0.10]>: Relay access denied"]
        s.cmd("QUIT")
        s.close()


# ---- 10. ORCPT / ENVID as xtext ---------------------------------------------------

CTRL_RX = re.compile(r"[\x00-\x1f\x7f]")
XTEXT_RX = r"(?:[!-*,-<>-~]|\+[0-9A-F]{2})+"


def test_orcpt_envid_relayed_as_xtext_without_control_characters():
    with SmtpSink() as srv, \
            Instance("sec-orcpt", main={"relayhost": "[127.0.0.1]:%d" % srv.port}) as inst:
        inst.start()
        s = inst.session(helo="EHLO client.test")
        assert s.cmd("MAIL FROM:<jonas@example.test> ENVID=env+2Bid+3D1") == ["250 2.1.0 Ok"]
        # a raw CR (and other controls) in the address type: not accepted ...
        for bad in (b"rfc\r822;a+2Bb@x.example", b"rfc\x01822;a@x.example",
                    b"rfc 822;a@x.example", b"rfc822;a\x7fb@x.example",
                    b"rfc822;a+0Db@x.example"):
            s.send(b"RCPT TO:<one@remote.example> ORCPT=" + bad + b"\r\n")
            r = s.reply()
            assert r[0].startswith("501 5.5.4") or r[0].startswith("555 5.5.4"), (bad, r)
        # ... while a good one is, and leaves as xtext
        assert s.cmd("RCPT TO:<two@remote.example> ORCPT=rfc822;a+2Bb+3Dc@x.example") == [
            "250 2.1.5 Ok"]
        assert s.cmd("DATA")[0].startswith("354")
        s.send(b"Subject: orcpt\r\n\r\nhello\r\n.\r\n")
        assert re.match(QUEUED_RX, s.reply()[0])
        s.cmd("QUIT")
        s.close()
        t = srv.wait()
        for line in [t["mail"]] + t["rcpts"]:
            assert not CTRL_RX.search(line), line
        assert t["rcpts"] == ["RCPT TO:<two@remote.example> ORCPT=rfc822;a+2Bb+3Dc@x.example"], \
            t["rcpts"]
        assert re.search(r" ENVID=env\+2Bid\+3D1(?: |$)", t["mail"]), t["mail"]
        for m in re.finditer(r" (?:ORCPT=[a-z0-9-]+;|ENVID=)(\S+)", " ".join([t["mail"]] + t["rcpts"])):
            assert re.fullmatch(XTEXT_RX, m.group(1)), m.group(0)


def test_dsn_original_recipient_and_envid_are_xtext():
    """A bounce for a recipient with ORCPT and a message with ENVID."""
    def rcpt_reply(addr):
        return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % addr

    with SmtpSink(rcpt_reply=rcpt_reply) as srv, \
            Instance("sec-dsn", main={"relayhost": "[127.0.0.1]:%d" % srv.port}) as inst:
        inst.start()
        s = inst.session(helo="EHLO client.test")
        assert s.cmd("MAIL FROM:<phjonas@example.test> ENVID=e+2Bv=") == [
            "501 5.5.4 Bad ENVID parameter syntax"]
        assert s.cmd("MAIL FROM:<phjonas@example.test> ENVID=e+2Bv+3D") == ["250 2.1.0 Ok"]
        assert s.cmd("RCPT TO:<gone@remote.example> NOTIFY=FAILURE "
                     "ORCPT=rfc822;orig+2Btag@client.example") == ["250 2.1.5 Ok"]
        assert s.cmd("DATA")[0].startswith("354")
        s.send(b"Subject: will bounce\r\n\r\nhello\r\n.\r\n")
        assert re.match(QUEUED_RX, s.reply()[0])
        s.cmd("QUIT")
        s.close()
        inst.wait_mbox("phjonas", "Undelivered Mail Returned to Sender", timeout=60)
        msg = inst.messages("phjonas")[0]
        part = [p for p in msg.walk() if p.get_content_type() == "message/delivery-status"][0]
        per_msg, per_rcpt = dsn_fields(part)
        assert per_msg["Original-Envelope-Id"] == "e+2Bv+3D", per_msg
        assert per_rcpt[0]["Original-Recipient"] == "rfc822;orig+2Btag@client.example", per_rcpt


# ---- 11. smtpd_junk_command_limit ---------------------------------------------------

JUNK_MAIN = {"smtpd_junk_command_limit": "3", "smtpd_hard_error_limit": "5",
             "smtpd_soft_error_limit": "100"}


def junk_until_421(s, limit=30):
    """Send NOOP/RSET/VRFY in turn; the number of 2xx replies before the 421."""
    verbs = ["NOOP", "RSET", "VRFY root"]
    ok = 0
    for i in range(limit):
        s.send(verbs[i % 3] + "\r\n")
        r = s.reply()
        assert r[0][0] == "2", r
        ok += 1
        s.sock.settimeout(0.3)
        try:
            extra = s.reply()
        except (socket.timeout, EOFError):
            extra = None
        s.sock.settimeout(30)
        if extra is not None:
            assert extra == ["421 4.7.0 mail.example.test Error: too many errors"], extra
            return ok
    return None


def test_junk_commands_count_as_errors_after_the_limit():
    with Instance("sec-junk", main=JUNK_MAIN) as inst:
        inst.start()
        s = inst.session(helo="EHLO client.example")
        # 3 free junk commands, then 5 that count as errors: 421 after the 8th
        assert junk_until_421(s) == 8
        s.close()
        inst.wait_log(r"too many errors after (NOOP|RSET|VRFY) from localhost\[127\.0\.0\.1\]|"
                      r"too many errors after (NOOP|RSET|VRFY) from unknown\[127\.0\.0\.1\]")


def test_junk_count_restarts_after_a_message():
    with Instance("sec-junk2", main=JUNK_MAIN) as inst:
        inst.start()
        s = inst.session(helo="EHLO client.example")
        for _ in range(3):
            assert s.cmd("NOOP") == ["250 2.0.0 Ok"]
        assert s.cmd("MAIL FROM:<jonas@example.test>") == ["250 2.1.0 Ok"]
        assert s.cmd("RCPT TO:<phedison@example.test>") == ["250 2.1.5 Ok"]
        assert s.cmd("DATA")[0].startswith("354")
        s.send(b"Subject: x\r\n\r\nhello\r\n.\r\n")
        assert re.match(QUEUED_RX, s.reply()[0])
        assert junk_until_421(s) == 8
        s.close()


# ---- 12. printable HELO name ------------------------------------------------------------

def test_helo_name_printable_in_received_header_and_log():
    with Instance("sec-helo") as inst:
        inst.start()
        s = inst.session()
        s.send(b"EHLO bad\x01host\x7f.exa\xffmple\r\n")
        r = s.reply()
        assert r[0] == "250-mail.example.test", r
        assert s.cmd("MAIL FROM:<jonas@example.test>") == ["250 2.1.0 Ok"]
        assert s.cmd("RCPT TO:<nosuchuser@example.test>")[0].startswith("550")
        assert s.cmd("RCPT TO:<phedison@example.test>") == ["250 2.1.5 Ok"]
        assert s.cmd("DATA")[0].startswith("354")
        s.send(b"Subject: helo\r\n\r\nhello\r\n.\r\n")
        assert re.match(QUEUED_RX, s.reply()[0])
        s.cmd("QUIT")
        s.close()
        box = wait_for(lambda: b"Subject: helo" in inst.mbox_bytes("phedison")
                       and inst.mbox_bytes("phedison"), 30, "the message")
        assert b"Received: from bad?host?.exa?mple (" in box, box
        inst.wait_log(r"reject: RCPT from \S+: 550 .*helo=<bad\?host\?\.exa\?mple>")
        with open(inst.maillog, "rb") as f:
            log = f.read()
        assert b"\xff" not in log and b"\x01" not in log
