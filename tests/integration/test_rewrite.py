"""
test_rewrite.py - address rewriting and content checks in cleanup, through
real instances: sender_canonical_maps, virtual_alias_maps, masquerade_domains,
header_checks (REJECT, IGNORE, HOLD), body_checks, receive_override_options.
"""
import re

from posthorn import Instance, wait_for


def send(inst, sender, rcpts, lines, expect_final=r"^250 2\.0\.0 Ok: queued as [0-9A-F]+$"):
    """One SMTP transaction; returns the reply to the end of DATA."""
    s = inst.session(helo="EHLO client.example")
    assert s.cmd("MAIL FROM:<%s>" % sender) == ["250 2.1.0 Ok"]
    for r in rcpts:
        assert s.cmd("RCPT TO:<%s>" % r) == ["250 2.1.5 Ok"]
    assert s.cmd("DATA")[0].startswith("354")
    s.send("".join(l + "\r\n" for l in lines) + ".\r\n")
    reply = s.reply()
    s.cmd("QUIT")
    s.close()
    assert len(reply) == 1 and re.match(expect_final, reply[0]), reply
    return reply[0]


def test_sender_canonical_envelope_and_from_header():
    main = {"sender_canonical_maps": "inline:{ jonas@example.test=jonas.smith@example.test }"}
    with Instance("canon", main=main) as inst:
        inst.start()
        send(inst, "jonas@example.test", ["phedison@example.test"],
             ["From: Jonas <jonas@example.test>", "To: phedison@example.test",
              "Subject: canon", "", "canonical body"])
        box = inst.wait_mbox("phedison", "canonical body")
        assert box.startswith("From jonas.smith@example.test "), box[:80]
        assert "\nFrom: Jonas <jonas.smith@example.test>\n" in box, box
        assert "\nTo: phedison@example.test\n" in box, box


def test_virtual_alias_domain_expands_and_rejects_unknown():
    main = {"virtual_alias_domains": "virt.example.test",
            "virtual_alias_maps": "inline:{ {team@virt.example.test = phedison, phjonas} }"}
    with Instance("virtual", main=main) as inst:
        inst.start()
        s = inst.session(helo="EHLO client.example", sender="jonas@example.test")
        assert s.rcpt_quit("nobody@virt.example.test") == [
            "550 5.1.1 <nobody@virt.example.test>: Recipient address rejected: "
            "User unknown in virtual alias table"]
        s.close()
        send(inst, "jonas@example.test", ["team@virt.example.test"],
             ["Subject: team", "", "to the virtual team"])
        a = inst.wait_mbox("phedison", "to the virtual team")
        b = inst.wait_mbox("phjonas", "to the virtual team")
        assert "X-Original-To: team@virt.example.test" in a, a
        assert "X-Original-To: team@virt.example.test" in b, b


def test_masquerade_domains():
    main = {"masquerade_domains": "example.test"}
    with Instance("masq", main=main) as inst:
        inst.start()
        send(inst, "jonas@host.example.test", ["phedison@example.test"],
             ["From: jonas@host.example.test", "Subject: masq", "", "masqueraded body"])
        box = inst.wait_mbox("phedison", "masqueraded body")
        assert box.startswith("From jonas@example.test "), box[:80]
        assert "\nFrom: jonas@example.test\n" in box, box


def test_header_checks_reject_ignore_hold():
    with Instance("hdrchk") as inst:
        path = inst.write_table("header_checks",
                                "/^Subject:.*viagra/ REJECT\n"
                                "/^Subject:.*custom/ REJECT 5.7.0 go away\n"
                                "/^X-Secret:/ IGNORE\n"
                                "/^Subject: hold me/ HOLD\n")
        inst.params["header_checks"] = "regexp:" + path
        inst.write_main()
        inst.start()
        send(inst, "jonas@example.test", ["phedison@example.test"],
             ["Subject: cheap viagra", "", "x"],
             expect_final=r"^550 5\.7\.1 message content rejected$")
        inst.wait_log(r"postfix/cleanup\[\d+\]: [0-9A-F]+: reject: header Subject: cheap viagra "
                      r"from \S+\[127\.0\.0\.1\]; from=<jonas@example.test> "
                      r"to=<phedison@example.test> proto=ESMTP helo=<client.example>: "
                      r"5\.7\.1 message content rejected$")
        send(inst, "jonas@example.test", ["phedison@example.test"],
             ["Subject: custom", "", "x"], expect_final=r"^550 5\.7\.0 go away$")
        send(inst, "jonas@example.test", ["phedison@example.test"],
             ["Subject: fine", "X-Secret: 42", "", "ignored header body"])
        box = inst.wait_mbox("phedison", "ignored header body")
        assert "X-Secret" not in box, box
        reply = send(inst, "jonas@example.test", ["phedison@example.test"],
                     ["Subject: hold me", "", "held body"])
        qid = re.search(r"queued as ([0-9A-F]+)", reply).group(1)
        inst.wait_log(r"%s: hold: header Subject: hold me from " % qid)
        wait_for(lambda: qid in inst.queue_files("hold"), 10, "queue file in hold/")
        assert "held body" not in inst.mbox("phedison")


def test_body_checks_reject_and_override():
    with Instance("bodychk") as inst:
        path = inst.write_table("body_checks", "/forbidden phrase/ REJECT bad body\n")
        inst.params["body_checks"] = "regexp:" + path
        inst.write_main()
        inst.start()
        send(inst, "jonas@example.test", ["phedison@example.test"],
             ["Subject: b", "", "this has a forbidden phrase in it"],
             expect_final=r"^550 5\.7\.1 bad body$")
        inst.wait_log(r": reject: body this has a forbidden phrase in it from \S+\[127\.0\.0\.1\]; "
                      r"from=<jonas@example.test> to=<phedison@example.test> proto=ESMTP "
                      r"helo=<client.example>: 5\.7\.1 bad body")
        # receive_override_options=no_header_body_checks on the smtpd service
        inst.stop()
        inst.params["receive_override_options"] = "no_header_body_checks"
        inst.write_main()
        inst.start()
        send(inst, "jonas@example.test", ["phedison@example.test"],
             ["Subject: b", "", "again a forbidden phrase"])
        inst.wait_mbox("phedison", "again a forbidden phrase")


def test_no_address_mappings_override():
    main = {"sender_canonical_maps": "inline:{ jonas@example.test=other@example.test }",
            "receive_override_options": "no_address_mappings"}
    with Instance("nomap", main=main) as inst:
        inst.start()
        send(inst, "jonas@example.test", ["phedison@example.test"],
             ["Subject: nomap", "", "not mapped body"])
        box = inst.wait_mbox("phedison", "not mapped body")
        assert box.startswith("From jonas@example.test "), box[:80]


def test_trivial_rewrite_bad_parameter_is_fatal_at_start():
    """trivial-rewrite reads its parameters once, at start, from the one
    table: a bad value is fatal with the name and value (no private default)."""
    with Instance("rwbad", main={"swap_bangpath": "maybe"}) as inst:
        inst.start()
        s = inst.session(helo="EHLO client.example")
        # smtpd waits for the service that cannot start: do not wait for replies
        s.send("MAIL FROM:<jonas@example.test>\r\nRCPT TO:<phedison@example.test>\r\n")
        inst.wait_log(r"postfix/trivial-rewrite\[\d+\]: fatal: bad boolean configuration: "
                      r"swap_bangpath = maybe")
        s.close()
