"""
test_restrictions.py - smtpd restrictions through real instances: the
restriction stages, smtpd_delay_reject, access tables of type hash (built
with postmap), cidr, pcre and regexp, the access actions, restriction
classes; exact replies and log lines.

Clients come from 127.0.0.1 and other 127.0.0.x source addresses;
smtpd_peername_lookup is off in test instances, so every client name is
"unknown". The DNS-based restrictions (RBL, unknown domains) use dnsmasq
on a loopback address; the instance runs in a private mount namespace
where /etc/resolv.conf points there (posthorn.dns_server, start_with_resolv).
"""
import os
import re
import time

from posthorn import Instance, Session, dns_server, start_with_resolv


def session(inst, source="127.0.0.1", helo="EHLO client.example", sender="a@example.test"):
    return inst.session(source, helo, sender)


def send_data(s, body="Subject: t\r\n\r\nbody text\r\n"):
    return s.data(body)


def test_client_access_cidr():
    with Instance("rcidr") as inst:
        path = inst.write_table("clients.cidr",
                                "# client networks\n127.0.0.5 REJECT go away\n127.0.0.0/29 DUNNO\n")
        inst.params["smtpd_client_restrictions"] = "check_client_access cidr:%s" % path
        inst.write_main()
        inst.start()
        s = session(inst, "127.0.0.5")
        assert s.cmd("RCPT TO:<phedison@example.test>") == [
            "554 5.7.1 <unknown[127.0.0.5]>: Client host rejected: go away"]
        s.cmd("QUIT")
        inst.wait_log(re.escape(
            "NOQUEUE: reject: RCPT from unknown[127.0.0.5]: 554 5.7.1 <unknown[127.0.0.5]>: "
            "Client host rejected: go away; from=<a@example.test> to=<phedison@example.test> "
            "proto=ESMTP helo=<client.example>"))
        s = session(inst, "127.0.0.6")
        assert s.rcpt_quit("phedison@example.test") == ["250 2.1.5 Ok"]


def test_sender_access_hash_and_parent_domains():
    with Instance("rsender") as inst:
        path = inst.write_table("senders",
                                "spammer@bad.example REJECT\n"
                                "bad.example REJECT whole domain\n"
                                "bad2.example 550 5.7.0 No thanks\n"
                                "boss@ OK\n"
                                "<> REJECT no bounces here\n", postmap=True)
        inst.params["smtpd_sender_restrictions"] = "check_sender_access hash:%s" % path
        inst.write_main()
        inst.start()
        for sender, reply in (
                ("spammer@bad.example",
                 "554 5.7.1 <spammer@bad.example>: Sender address rejected: Access denied"),
                ("x@sub.bad2.example",
                 "550 5.7.0 <x@sub.bad2.example>: Sender address rejected: No thanks"),
                ("", "554 5.7.1 <>: Sender address rejected: no bounces here"),
                ("x@sub.bad.example",
                 "554 5.7.1 <x@sub.bad.example>: Sender address rejected: whole domain"),
                ("boss@elsewhere.example", "250 2.1.5 Ok"),
                ("someone@good.example", "250 2.1.5 Ok")):
            s = session(inst, sender=sender)
            assert s.rcpt_quit("phedison@example.test") == [reply], sender
        inst.wait_log(r"NOQUEUE: reject: RCPT from unknown\[127\.0\.0\.1\]: 550 5\.7\.0 "
                      r"<x@sub\.bad2\.example>: Sender address rejected: No thanks; "
                      r"from=<x@sub\.bad2\.example> to=<phedison@example\.test> proto=ESMTP "
                      r"helo=<client\.example>")


def test_recipient_access_pcre_substitution():
    with Instance("rpcre") as inst:
        path = inst.write_table("rcpt.pcre",
                                "/^postmaster@/ OK\n"
                                "if /@example\\.test$/\n"
                                "/^([^+@]+)\\+spam@/ REJECT no spam for $1\n"
                                "endif\n"
                                "!/^ph/ 450 4.2.0 Not now\n")
        inst.params["smtpd_recipient_restrictions"] = (
            "check_recipient_access pcre:%s, permit_mynetworks, reject_unauth_destination" % path)
        inst.write_main()
        inst.start()
        s = session(inst)
        assert s.cmd("RCPT TO:<phedison+spam@example.test>") == [
            "554 5.7.1 <phedison+spam@example.test>: Recipient address rejected: no spam for phedison"]
        assert s.cmd("RCPT TO:<root@example.test>") == [
            "450 4.2.0 <root@example.test>: Recipient address rejected: Not now"]
        r = s.cmd("RCPT TO:<phjonas@example.test>")
        assert r == ["250 2.1.5 Ok"], r
        s.cmd("QUIT")


def test_helo_access_regexp_and_helo_checks():
    with Instance("rhelo") as inst:
        path = inst.write_table("helo.regexp", "/^friend\\./ OK\n/\\.bad$/ REJECT bad helo\n")
        inst.params["smtpd_helo_restrictions"] = (
            "check_helo_access regexp:%s, reject_invalid_helo_hostname, "
            "reject_non_fqdn_helo_hostname" % path)
        inst.write_main()
        inst.start()
        for helo, reply in (
                ("host.bad", "554 5.7.1 <host.bad>: Helo command rejected: bad helo"),
                ("bad_host!", "501 5.5.2 <bad_host!>: Helo command rejected: Invalid name"),
                ("localhostx",
                 "504 5.5.2 <localhostx>: Helo command rejected: need fully-qualified hostname"),
                ("friend.x", "250 2.1.5 Ok"),
                ("[127.0.0.1]", "250 2.1.5 Ok")):
            s = session(inst, helo="HELO " + helo)
            assert s.rcpt_quit("phedison@example.test") == [reply], helo


def test_delay_reject_no():
    main = {"smtpd_delay_reject": "no", "smtpd_helo_required": "yes",
            "smtpd_helo_restrictions": "reject_invalid_helo_hostname",
            "smtpd_sender_restrictions": "reject_non_fqdn_sender"}
    with Instance("rnodelay", main=main) as inst:
        path = inst.write_table("clients.cidr", "127.0.0.5 REJECT\n")
        inst.params["smtpd_client_restrictions"] = "check_client_access cidr:%s" % path
        inst.write_main()
        inst.start()
        s = Session(inst.port, source="127.0.0.5")
        assert s.reply() == ["554 5.7.1 <unknown[127.0.0.5]>: Client host rejected: Access denied"]
        assert s.cmd("HELO x.example") == ["503 5.7.0 Error: access denied for unknown[127.0.0.5]"]
        assert s.cmd("QUIT") == ["221 2.0.0 Bye"]
        inst.wait_log(r"NOQUEUE: reject: CONNECT from unknown\[127\.0\.0\.5\]: 554 5\.7\.1 "
                      r"<unknown\[127\.0\.0\.5\]>: Client host rejected: Access denied; proto=SMTP")
        s = Session(inst.port)
        assert s.reply()[0].startswith("220 ")
        assert s.cmd("MAIL FROM:<a@example.test>") == ["503 5.5.1 Error: send HELO/EHLO first"]
        assert s.cmd("HELO bad_host!") == [
            "501 5.5.2 <bad_host!>: Helo command rejected: Invalid name"]
        assert s.cmd("HELO good.example") == ["250 mail.example.test"]
        assert s.cmd("MAIL FROM:<joe>") == [
            "504 5.5.2 <joe>: Sender address rejected: need fully-qualified address"]
        assert s.cmd("MAIL FROM:<joe@example.test>") == ["250 2.1.0 Ok"]
        s.cmd("QUIT")
        inst.wait_log(r"NOQUEUE: reject: MAIL from unknown\[127\.0\.0\.1\]: 504 5\.5\.2 <joe>: "
                      r"Sender address rejected: need fully-qualified address; from=<joe> "
                      r"proto=SMTP helo=<good\.example>")


def test_restriction_class():
    with Instance("rclass") as inst:
        ins = inst.write_table("insiders", "boss@example.test OK\n", postmap=True)
        prot = inst.write_table("protected", "phjonas@example.test insiders_only\n", postmap=True)
        inst.params.update({
            "smtpd_restriction_classes": "insiders_only",
            "insiders_only": "check_sender_access hash:%s, reject" % ins,
            "smtpd_recipient_restrictions": "check_recipient_access hash:%s" % prot})
        inst.write_main()
        inst.start()
        s = session(inst, sender="outsider@example.test")
        assert s.cmd("RCPT TO:<phjonas@example.test>") == [
            "554 5.7.1 <phjonas@example.test>: Recipient address rejected: Access denied"]
        assert s.cmd("RCPT TO:<phedison@example.test>") == ["250 2.1.5 Ok"]
        s.cmd("QUIT")
        s = session(inst, sender="boss@example.test")
        assert s.rcpt_quit("phjonas@example.test") == ["250 2.1.5 Ok"]


def test_hold_action():
    with Instance("rhold") as inst:
        path = inst.write_table("rcpt", "phedison@example.test HOLD\n", postmap=True)
        inst.params["smtpd_recipient_restrictions"] = "check_recipient_access hash:%s" % path
        inst.write_main()
        inst.start()
        s = session(inst)
        assert s.cmd("RCPT TO:<phedison@example.test>") == ["250 2.1.5 Ok"]
        r = send_data(s)
        assert r[0].startswith("250 2.0.0 Ok: queued as "), r
        s.cmd("QUIT")
        inst.wait_log(r"NOQUEUE: hold: RCPT from unknown\[127\.0\.0\.1\]: <phedison@example\.test>: "
                      r"Recipient address triggers HOLD action; from=<a@example\.test> "
                      r"to=<phedison@example\.test> proto=ESMTP helo=<client\.example>")
        qid = r[0].split()[-1]
        assert qid in inst.queue_files("hold"), inst.queue_files("hold")
        time.sleep(1)
        assert "body text" not in inst.mbox("phedison")


def test_discard_action():
    with Instance("rdiscard") as inst:
        path = inst.write_table("senders", "dropme@example.test DISCARD\n", postmap=True)
        inst.params["smtpd_sender_restrictions"] = "check_sender_access hash:%s" % path
        inst.write_main()
        inst.start()
        s = session(inst, sender="dropme@example.test")
        assert s.cmd("RCPT TO:<phedison@example.test>") == ["250 2.1.5 Ok"]
        r = send_data(s, "Subject: t\r\n\r\ndiscarded body\r\n")
        assert r[0].startswith("250 2.0.0 Ok: queued as "), r
        s.cmd("QUIT")
        inst.wait_log(r"NOQUEUE: discard: RCPT from unknown\[127\.0\.0\.1\]: <dropme@example\.test>: "
                      r"Sender address triggers DISCARD action; from=<dropme@example\.test> "
                      r"to=<phedison@example\.test>")
        # a normal message after it arrives; the discarded one never does
        s = session(inst)
        s.cmd("RCPT TO:<phedison@example.test>")
        send_data(s, "Subject: t\r\n\r\nkept body\r\n")
        s.cmd("QUIT")
        box = inst.wait_mbox("phedison", "kept body")
        assert "discarded body" not in box
        assert inst.queue_files("incoming") == [] and inst.queue_files("hold") == []


def test_prepend_warn_and_redirect():
    with Instance("rprepend") as inst:
        senders = inst.write_table("senders", "tagme@example.test PREPEND X-Tag: tagged\n"
                                   "watch@example.test WARN watch this sender\n", postmap=True)
        rcpts = inst.write_table("rcpts", "phjonas@example.test REDIRECT phedison@example.test\n",
                                 postmap=True)
        inst.params.update({
            "smtpd_sender_restrictions": "check_sender_access hash:%s" % senders,
            "smtpd_recipient_restrictions": "check_recipient_access hash:%s" % rcpts})
        inst.write_main()
        inst.start()
        s = session(inst, sender="tagme@example.test")
        s.cmd("RCPT TO:<phedison@example.test>")
        assert send_data(s, "Subject: t\r\n\r\nprepended body\r\n")[0].startswith("250 ")
        s.cmd("QUIT")
        box = inst.wait_mbox("phedison", "prepended body")
        assert re.search(r"\nX-Tag: tagged\nReceived: from client\.example", box), box
        s = session(inst, sender="watch@example.test")
        assert s.cmd("RCPT TO:<phjonas@example.test>") == ["250 2.1.5 Ok"]
        assert send_data(s, "Subject: t\r\n\r\nredirected body\r\n")[0].startswith("250 ")
        s.cmd("QUIT")
        inst.wait_log(r"NOQUEUE: warn: RCPT from unknown\[127\.0\.0\.1\]: watch this sender; "
                      r"from=<watch@example\.test> to=<phjonas@example\.test> proto=ESMTP")
        inst.wait_log(r": redirect: RCPT from unknown\[127\.0\.0\.1\]: <phjonas@example\.test>: "
                      r"Recipient address triggers REDIRECT phedison@example\.test;")
        inst.wait_mbox("phedison", "redirected body")
        assert "redirected body" not in inst.mbox("phjonas")


def test_defer_soft_bounce_and_warn_if_reject():
    main = {"smtpd_recipient_restrictions":
            "warn_if_reject reject_non_fqdn_recipient, defer_if_permit, permit"}
    with Instance("rdefer", main=main) as inst:
        inst.start()
        s = session(inst)
        assert s.rcpt_quit("phedison") == [
            "450 4.7.1 <phedison>: Recipient address rejected: defer_if_permit requested"]
        inst.wait_log(r"NOQUEUE: reject_warning: RCPT from unknown\[127\.0\.0\.1\]: 504 5\.5\.2 "
                      r"<phedison>: Recipient address rejected: need fully-qualified address; "
                      r"from=<a@example\.test> to=<phedison>")
    main = {"soft_bounce": "yes", "smtpd_recipient_restrictions": "reject"}
    with Instance("rsoft", main=main) as inst:
        inst.start()
        s = session(inst)
        assert s.rcpt_quit("phedison@example.test") == [
            "454 4.7.1 <phedison@example.test>: Recipient address rejected: Access denied"]


def test_unknown_client_hostname():
    main = {"smtpd_client_restrictions": "reject_unknown_client_hostname"}
    with Instance("runknown", main=main) as inst:
        inst.start()
        s = session(inst, "127.0.0.7")
        assert s.cmd("RCPT TO:<phedison@example.test>") == [
            "450 4.7.25 Client host rejected: cannot find your hostname, [127.0.0.7]"]
        s.cmd("QUIT")


def test_data_and_end_of_data_restrictions():
    with Instance("rdata") as inst:
        path = inst.write_table("clients.cidr", "127.0.0.5 REJECT not at the end\n")
        inst.params.update({
            "smtpd_data_restrictions": "reject_unauth_pipelining",
            "smtpd_end_of_data_restrictions": "check_client_access cidr:%s" % path})
        inst.write_main()
        inst.start()
        s = session(inst, helo="HELO client.example")
        s.cmd("RCPT TO:<phedison@example.test>")
        s.send("DATA\r\nSubject: early\r\n")
        assert s.reply() == [
            "503 5.5.0 <DATA>: Data command rejected: Improper use of SMTP command pipelining"]
        s.close()
        inst.wait_log(r"[0-9A-F]+: reject: DATA from unknown\[127\.0\.0\.1\]: 503 5\.5\.0 <DATA>: "
                      r"Data command rejected: Improper use of SMTP command pipelining; "
                      r"from=<a@example\.test> to=<phedison@example\.test> proto=SMTP")
        s = session(inst, "127.0.0.5")
        s.cmd("RCPT TO:<phedison@example.test>")
        assert send_data(s, "Subject: t\r\n\r\nnever delivered\r\n") == [
            "554 5.7.1 <unknown[127.0.0.5]>: Client host rejected: not at the end"]
        s.cmd("QUIT")
        inst.wait_log(r"[0-9A-F]+: reject: END-OF-MESSAGE from unknown\[127\.0\.0\.5\]: 554 5\.7\.1 "
                      r"<unknown\[127\.0\.0\.5\]>: Client host rejected: not at the end;")
        s = session(inst, "127.0.0.6")
        s.cmd("RCPT TO:<phedison@example.test>")
        assert send_data(s, "Subject: t\r\n\r\nwelcome body\r\n")[0].startswith("250 2.0.0 Ok")
        s.cmd("QUIT")
        box = inst.wait_mbox("phedison", "welcome body")
        assert "never delivered" not in box


# ---- DNS-based restrictions ---------------------------------------------------

def test_rbl_and_rhsbl():
    main = {"smtpd_client_restrictions": "reject_rbl_client rbl.test=127.0.0.2, "
            "reject_rbl_client other.test=127.0.0.3",
            "smtpd_sender_restrictions": "reject_rhsbl_sender rhsbl.test"}
    with Instance("rrbl", main=main) as inst:
        with dns_server(inst, "--host-record=5.0.0.127.rbl.test,127.0.0.2",
                        "--txt-record=5.0.0.127.rbl.test,Listed for testing",
                        "--host-record=6.0.0.127.other.test,127.0.0.2",
                        "--host-record=bad.test.rhsbl.test,127.0.0.2") as resolv:
            start_with_resolv(inst, resolv)
            s = session(inst, "127.0.0.5")
            assert s.cmd("RCPT TO:<phedison@example.test>") == [
                "554 5.7.1 Service unavailable; Client host [127.0.0.5] blocked using rbl.test; "
                "Listed for testing"]
            s.cmd("QUIT")
            inst.wait_log(r"NOQUEUE: reject: RCPT from unknown\[127\.0\.0\.5\]: 554 5\.7\.1 Service "
                          r"unavailable; Client host \[127\.0\.0\.5\] blocked using rbl\.test; "
                          r"Listed for testing; from=<a@example\.test> to=<phedison@example\.test> "
                          r"proto=ESMTP helo=<client\.example>")
            # listed in other.test, but with 127.0.0.2, not the 127.0.0.3 asked for
            s = session(inst, "127.0.0.6")
            assert s.rcpt_quit("phedison@example.test") == ["250 2.1.5 Ok"]
            s = session(inst, "127.0.0.6", sender="x@bad.test")
            assert s.cmd("RCPT TO:<phedison@example.test>") == [
                "554 5.7.1 Service unavailable; Sender address [bad.test] blocked using rhsbl.test"]
            s.cmd("QUIT")


def test_rbl_lookup_error_logged_as_postfix():
    """No name server answers (nothing listens on 127.0.0.159): the lists
    are skipped and each failed lookup is logged with the line Debian's
    Postfix 3.7 writes (checked on this machine)."""
    main = {"smtpd_client_restrictions": "reject_rbl_client zen.rbl.test",
            "smtpd_sender_restrictions": "reject_rhsbl_sender dbl.rbl.test"}
    with Instance("rblerr", main=main) as inst:
        resolv = os.path.join(inst.dir, "resolv.conf")
        with open(resolv, "w") as f:
            f.write("nameserver 127.0.0.159\noptions timeout:1 attempts:1\n")
        start_with_resolv(inst, resolv)
        s = session(inst, "127.0.0.5", sender="a@sender.test")
        assert s.cmd("RCPT TO:<phedison@example.test>") == ["250 2.1.5 Ok"]
        s.cmd("QUIT")
        for name in ("5.0.0.127.zen.rbl.test", "sender.test.dbl.rbl.test"):
            inst.wait_log(r"postfix/smtpd\[\d+\]: warning: %s: RBL lookup error: Host or domain "
                          r"name not found\. Name service error for name=%s type=A: Host not "
                          r"found, try again$" % (re.escape(name), re.escape(name)))


def test_unknown_sender_and_recipient_domain():
    main = {"smtpd_sender_restrictions": "reject_unknown_sender_domain",
            "smtpd_recipient_restrictions": "reject_unknown_recipient_domain, permit_mynetworks"}
    with Instance("rdomain", main=main) as inst:
        with dns_server(inst, "--mx-host=good.test,mail.good.test",
                        "--host-record=mail.good.test,127.0.0.9",
                        "--host-record=aonly.test,127.0.0.10") as resolv:
            start_with_resolv(inst, resolv)
            s = session(inst, sender="x@nx.test")
            assert s.rcpt_quit("phedison@example.test") == [
                "450 4.1.8 <x@nx.test>: Sender address rejected: Domain not found"]
            for sender in ("x@good.test", "x@aonly.test", "x@example.test"):
                s = session(inst, sender=sender)
                assert s.rcpt_quit("phedison@example.test") == ["250 2.1.5 Ok"], sender
            s = session(inst, sender="x@good.test")
            assert s.cmd("RCPT TO:<y@nx.test>") == [
                "450 4.1.2 <y@nx.test>: Recipient address rejected: Domain not found"]
            assert s.cmd("RCPT TO:<y@good.test>") == ["250 2.1.5 Ok"]
            s.cmd("QUIT")


def test_filter_action():
    with Instance("rfilter") as inst:
        dead = inst.port + 1 if inst.port < 65000 else inst.port - 1    # nobody listens there
        path = inst.write_table("rcpts",
                                "phedison@example.test FILTER smtp:[127.0.0.1]:%d\n" % dead,
                                postmap=True)
        inst.params["smtpd_recipient_restrictions"] = "check_recipient_access hash:%s" % path
        inst.write_main()
        inst.start()
        s = session(inst)
        assert s.cmd("RCPT TO:<phedison@example.test>") == ["250 2.1.5 Ok"]
        r = send_data(s, "Subject: t\r\n\r\nfiltered body\r\n")
        assert r[0].startswith("250 2.0.0 Ok: queued as "), r
        s.cmd("QUIT")
        qid = r[0].split()[-1]
        inst.wait_log(r"NOQUEUE: filter: RCPT from unknown\[127\.0\.0\.1\]: <phedison@example\.test>: "
                      r"Recipient address triggers FILTER smtp:\[127\.0\.0\.1\]:%d; "
                      r"from=<a@example\.test> to=<phedison@example\.test>" % dead)
        # the message goes to the (dead) filter, not to the mailbox
        inst.wait_log(r"%s: to=<phedison@example\.test>, relay=none, .*status=deferred" % qid)
        assert "filtered body" not in inst.mbox("phedison")


def test_reject_unlisted_sender():
    main = {"smtpd_reject_unlisted_sender": "yes"}
    with Instance("runlisted", main=main) as inst:
        inst.start()
        s = session(inst, sender="nosuchuser@example.test")
        assert s.rcpt_quit("phedison@example.test") == [
            "550 5.1.0 <nosuchuser@example.test>: Sender address rejected: "
            "User unknown in local recipient table"]
        for sender in ("phjonas@example.test", "someone@elsewhere.example", ""):
            s = session(inst, sender=sender)
            assert s.rcpt_quit("phedison@example.test") == ["250 2.1.5 Ok"], sender


def test_bare_table_is_the_stage_access_check():
    """A type:table named alone in a restriction list is the check_*_access
    of that list's stage (Postfix), also inside a restriction class; in
    smtpd_data_restrictions it has no stage: a configuration error."""
    with Instance("rbare") as inst:
        senders = inst.write_table("access", "spammer@bad.example REJECT go away\n"
                        "friend.example OK\n", postmap=True)
        clients = inst.write_table("clients.cidr", "127.0.0.7 REJECT no clients from here\n")
        rcpts = inst.write_table("rcpts", "phjonas@example.test REJECT not here\n", postmap=True)
        inst.params.update({
            "smtpd_client_restrictions": "cidr:%s" % clients,
            "smtpd_sender_restrictions": "hash:%s, reject_non_fqdn_sender" % senders,
            "smtpd_restriction_classes": "rcpt_class",
            "rcpt_class": "hash:%s" % rcpts,
            "smtpd_recipient_restrictions": "rcpt_class, permit_mynetworks, "
                                            "reject_unauth_destination",
            "smtpd_data_restrictions": "hash:%s" % senders})
        inst.write_main()
        inst.start()
        for source, sender, reply in (
                ("127.0.0.1", "spammer@bad.example",
                 "554 5.7.1 <spammer@bad.example>: Sender address rejected: go away"),
                ("127.0.0.7", "a@example.test",
                 "554 5.7.1 <unknown[127.0.0.7]>: Client host rejected: no clients from here")):
            s = session(inst, source, sender=sender)
            assert s.cmd("RCPT TO:<phedison@example.test>") == [reply]
            s.cmd("QUIT")
        s = session(inst, sender="x@friend.example")
        assert s.cmd("RCPT TO:<phjonas@example.test>") == [
            "554 5.7.1 <phjonas@example.test>: Recipient address rejected: not here"]
        assert s.cmd("RCPT TO:<phedison@example.test>") == ["250 2.1.5 Ok"]
        assert s.cmd("DATA") == ["451 4.3.5 Server configuration error"]
        s.cmd("QUIT")
        log = inst.log()
        assert "unknown smtpd restriction" not in log, log
        inst.wait_log(re.escape(
            "warning: specify one of (check_client_access, check_reverse_client_hostname_access, "
            "check_helo_access, check_sender_access, check_recipient_access, "
            "check_etrn_access) before Data command restriction \"hash:%s\"" % senders))
