"""
test_verify.py - address verification.

sendmail -bv: nothing is delivered; the sender gets a "Mail Delivery
Status Report" with one Action: deliverable / undeliverable block per
recipient, and the agents log status=deliverable / status=undeliverable.

reject_unverified_recipient / reject_unverified_sender: the verify
service probes an unknown address through the queue (the smtp client
stops after RCPT), answers "in progress" until the result is in, then
accepts or rejects from its cache (address_verify_map, a btree file that
survives a reload and that postmap -q reads).
"""
import os
import re
import time

from posthorn import Instance, run, sbin, wait_for
from smtp_sink import SmtpSink

OPEN_RCPT = {"local_recipient_maps": ""}


def test_sendmail_bv_reports_and_delivers_nothing():
    with Instance("verify", main=OPEN_RCPT) as inst:
        inst.start()
        p = run([sbin("sendmail"), "-c", inst.conf, "-f", "phjonas@example.test", "-bv",
                 "phedison@example.test", "nosuch@example.test"], input="")
        assert p.returncode == 0, p.stderr
        m = inst.wait_log(r"postfix/pickup\[\d+\]: ([0-9A-F]+): uid=0 "
                          r"from=<phjonas@example.test>")
        qid = m.group(1)
        m = inst.wait_log(r"postfix/bounce\[\d+\]: %s: sender delivery status notification: "
                          r"([0-9A-F]+)$" % qid)
        new_id = m.group(1)
        inst.wait_log(r"postfix/qmgr\[\d+\]: %s: removed" % qid)
        inst.wait_mbox("phjonas", "Mail Delivery Status Report")
        inst.wait_log(r"postfix/qmgr\[\d+\]: %s: removed" % new_id)
        log = inst.log()
        assert re.search(r"postfix/local\[\d+\]: %s: to=<phedison@example.test>, relay=local, "
                         r"delay=[\d.]+, delays=[\d./]+, dsn=2\.0\.0, "
                         r"status=deliverable \(delivered to mailbox\)" % qid, log), log
        assert re.search(r"postfix/local\[\d+\]: %s: to=<nosuch@example.test>, relay=local, "
                         r".*dsn=5\.1\.1, status=undeliverable \(unknown user: \"nosuch\"\)"
                         % qid, log), log
        # no non-delivery notice for the unknown user, and nothing delivered
        assert "non-delivery notification" not in log, log
        assert inst.mbox("phedison") == ""

        msgs = inst.messages("phjonas")
        assert len(msgs) == 1, [m["Subject"] for m in msgs]
        rep = msgs[0]
        assert rep["Subject"] == "Mail Delivery Status Report"
        assert rep.get_content_type() == "multipart/report"
        assert rep.get_param("report-type") == "delivery-status"
        parts = rep.get_payload()
        dsn = [p for p in parts if p.get_content_type() == "message/delivery-status"]
        assert dsn, [p.get_content_type() for p in parts]
        blocks = dsn[0].get_payload()[1:]
        by_rcpt = {b["Final-Recipient"].split(";")[1].strip(): b for b in blocks}
        assert by_rcpt["phedison@example.test"]["Action"] == "deliverable"
        assert by_rcpt["phedison@example.test"]["Status"] == "2.0.0"
        assert by_rcpt["nosuch@example.test"]["Action"] == "undeliverable"
        assert by_rcpt["nosuch@example.test"]["Status"] == "5.1.1"
        assert inst.queue_files("trace") == []
        assert inst.queue_files("bounce") == []


def rcpt_server():
    """An SmtpSink whose RCPT for "bad*" addresses gets a 550, the rest a 250."""
    def rcpt_reply(addr):
        if addr.startswith("bad"):
            return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % addr
        return "250 2.0.0 Ok"
    return SmtpSink(ehlo=("sink.test", "PIPELINING"), rcpt_reply=rcpt_reply)


def test_sendmail_bv_smtp_rcpt_only():
    with rcpt_server() as srv:
        with Instance("verify-smtp", main={"relayhost": "[127.0.0.1]:%d" % srv.port}) as inst:
            inst.start()
            p = run([sbin("sendmail"), "-c", inst.conf, "-f", "phjonas@example.test", "-bv",
                     "good@remote.example", "bad@remote.example"], input="")
            assert p.returncode == 0, p.stderr
            m = inst.wait_log(r"postfix/pickup\[\d+\]: ([0-9A-F]+): uid=0 ")
            qid = m.group(1)
            inst.wait_log(r"postfix/bounce\[\d+\]: %s: sender delivery status notification: "
                          % qid)
            inst.wait_log(r"postfix/qmgr\[\d+\]: %s: removed" % qid)
            inst.wait_mbox("phjonas", "Mail Delivery Status Report")
            log = inst.log()
            assert re.search(r"postfix/smtp\[\d+\]: %s: to=<good@remote.example>, "
                             r"relay=127\.0\.0\.1\[127\.0\.0\.1\]:%d, .*dsn=2\.0\.0, "
                             r"status=deliverable \(250 2\.0\.0 Ok\)" % (qid, srv.port), log), log
            assert re.search(r"postfix/smtp\[\d+\]: %s: to=<bad@remote.example>, .*dsn=5\.1\.1, "
                             r"status=undeliverable \(host 127\.0\.0\.1\[127\.0\.0\.1\] said: "
                             r"550 5\.1\.1 <bad@remote.example>: Recipient address rejected"
                             % qid, log), log
            assert [c for c in srv.lines if c.upper().startswith("DATA")] == [], srv.lines
            assert any(c.startswith("RCPT TO:<good@remote.example>") for c in srv.lines)
            msg = inst.messages("phjonas")[0]
            dsn = [p for p in msg.get_payload()
                   if p.get_content_type() == "message/delivery-status"][0]
            actions = {b["Final-Recipient"].split(";")[1].strip(): b["Action"]
                       for b in dsn.get_payload()[1:]}
            assert actions == {"good@remote.example": "deliverable",
                               "bad@remote.example": "undeliverable"}, actions


REMOTE = "remote.example"


def verify_main(srv, **extra):
    main = {"relayhost": "[127.0.0.1]:%d" % srv.port, "relay_domains": REMOTE,
            "address_verify_poll_count": "1",
            "smtpd_recipient_restrictions":
                "reject_unverified_recipient, permit_mynetworks, reject_unauth_destination"}
    main.update(extra)
    return main


def rcpt_reply(inst, rcpt, sender="someone@example.test"):
    s = inst.session(helo="EHLO client.example", sender=sender)
    r = s.rcpt_quit(rcpt)
    return r


def cache_entry(inst, addr):
    p = inst.cmd("postmap", "-q", addr, "btree:%s/verify_cache" % inst.params["data_directory"])
    return p.stdout.strip()


def test_reject_unverified_recipient_probes_then_decides():
    with rcpt_server() as srv:
        main = verify_main(srv, unverified_recipient_reject_code="550")
        with Instance("verify-rcpt", main=main) as inst:
            inst.start()
            for addr in ("good@" + REMOTE, "bad@" + REMOTE):
                assert rcpt_reply(inst, addr) == [
                    "450 4.1.1 <%s>: Recipient address rejected: unverified address: "
                    "Address verification in progress" % addr]
            inst.wait_log(r"postfix/relay/smtp\[\d+\]: [0-9A-F]+: to=<bad@remote.example>, .*"
                          r"status=undeliverable")
            inst.wait_log(r"postfix/relay/smtp\[\d+\]: [0-9A-F]+: to=<good@remote.example>, .*"
                          r"status=deliverable \(250 2\.0\.0 Ok\)")
            # the probe came from double-bounce and never reached DATA
            assert [c for c in srv.lines if c.upper().startswith("DATA")] == [], srv.lines
            assert any(c.lower().startswith("mail from:<double-bounce@") for c in srv.lines), \
                srv.lines
            wait_for(lambda: cache_entry(inst, "bad@" + REMOTE).startswith("2:"), 10,
                     "negative cache entry")
            wait_for(lambda: cache_entry(inst, "good@" + REMOTE).startswith("0:"), 10,
                     "positive cache entry")
            assert rcpt_reply(inst, "good@" + REMOTE) == ["250 2.1.5 Ok"]
            assert rcpt_reply(inst, "bad@" + REMOTE) == [
                "550 5.1.1 <bad@remote.example>: Recipient address rejected: undeliverable "
                "address: host 127.0.0.1[127.0.0.1] said: 550 5.1.1 <bad@remote.example>: "
                "Recipient address rejected: User unknown (in reply to RCPT TO command)"]
            # the cache survives a reload; no new probe is sent for a known address
            probes = len([c for c in srv.lines if c.startswith("RCPT")])
            p = inst.cmd("postfix", "reload")
            assert p.returncode == 0, p.stderr
            time.sleep(1)
            assert rcpt_reply(inst, "good@" + REMOTE) == ["250 2.1.5 Ok"]
            assert rcpt_reply(inst, "bad@" + REMOTE)[0].startswith("550 5.1.1 ")
            assert len([c for c in srv.lines if c.startswith("RCPT")]) == probes
            assert inst.queue_files("deferred") == [] and inst.queue_files("bounce") == []
            assert "non-delivery notification" not in inst.log()


def test_reject_unverified_sender():
    with rcpt_server() as srv:
        main = verify_main(srv, smtpd_recipient_restrictions="permit_mynetworks",
                           smtpd_sender_restrictions="reject_unverified_sender")
        with Instance("verify-sender", main=main) as inst:
            inst.start()
            assert rcpt_reply(inst, "phedison@example.test", sender="bad@" + REMOTE) == [
                "450 4.1.7 <bad@remote.example>: Sender address rejected: unverified address: "
                "Address verification in progress"]
            wait_for(lambda: cache_entry(inst, "bad@" + REMOTE).startswith("2:"), 20,
                     "negative cache entry")
            # the default unverified_sender_reject_code is 450
            assert rcpt_reply(inst, "phedison@example.test", sender="bad@" + REMOTE) == [
                "450 4.1.7 <bad@remote.example>: Sender address rejected: undeliverable "
                "address: host 127.0.0.1[127.0.0.1] said: 550 5.1.1 <bad@remote.example>: "
                "Recipient address rejected: User unknown (in reply to RCPT TO command)"]
            rcpt_reply(inst, "phedison@example.test", sender="good@" + REMOTE)
            wait_for(lambda: cache_entry(inst, "good@" + REMOTE).startswith("0:"), 20,
                     "positive cache entry")
            assert rcpt_reply(inst, "phedison@example.test", sender="good@" + REMOTE) == \
                ["250 2.1.5 Ok"]
            assert [c for c in srv.lines if c.upper().startswith("DATA")] == [], srv.lines


def test_chrooted_verify_with_debian_master_cf():
    """Debian's master.cf runs verify (and smtpd) chrooted: the cache,
    outside the jail in data_directory, is opened before the chroot and
    belongs to mail_owner; the local agent answers the probes."""
    from test_chroot import debian_instance
    import pwd
    main = {"local_recipient_maps": "", "address_verify_poll_count": "1",
            "smtpd_recipient_restrictions":
                "reject_unverified_recipient, permit_mynetworks, reject_unauth_destination"}
    with debian_instance("verify-chroot", main=main) as inst:
        inst.start()
        for addr in ("phedison@example.test", "nosuch@example.test"):
            assert rcpt_reply(inst, addr) == [
                "450 4.1.1 <%s>: Recipient address rejected: unverified address: "
                "Address verification in progress" % addr]
        inst.wait_log(r"postfix/local\[\d+\]: [0-9A-F]+: to=<phedison@example.test>, .*"
                      r"status=deliverable")
        inst.wait_log(r"postfix/local\[\d+\]: [0-9A-F]+: to=<nosuch@example.test>, .*"
                      r"status=undeliverable")
        wait_for(lambda: cache_entry(inst, "nosuch@example.test").startswith("2:"), 10,
                 "negative cache entry")
        assert rcpt_reply(inst, "phedison@example.test") == ["250 2.1.5 Ok"]
        assert rcpt_reply(inst, "nosuch@example.test") == [
            "450 4.1.1 <nosuch@example.test>: Recipient address rejected: undeliverable "
            "address: unknown user: \"nosuch\""]
        st = os.stat(os.path.join(inst.params["data_directory"], "verify_cache.db"))
        assert st.st_uid == pwd.getpwnam("postfix").pw_uid
        assert inst.mbox("phedison") == ""
        assert "fatal" not in inst.log() and "panic" not in inst.log()


def test_rewritten_address_is_answered_under_the_original():
    """A virtual alias rewrites the probe's recipient; the result is
    cached for the address smtpd asked about as well."""
    main = {"local_recipient_maps": "", "address_verify_poll_count": "1",
            "virtual_alias_maps": "inline:{ alias@example.test=phedison@example.test }",
            "smtpd_recipient_restrictions":
                "reject_unverified_recipient, permit_mynetworks, reject_unauth_destination"}
    with Instance("verify-alias", main=main) as inst:
        inst.start()
        assert rcpt_reply(inst, "alias@example.test")[0].startswith("450 4.1.1 ")
        inst.wait_log(r"postfix/local\[\d+\]: [0-9A-F]+: to=<phedison@example.test>, "
                      r"orig_to=<alias@example.test>, .*status=deliverable")
        wait_for(lambda: cache_entry(inst, "alias@example.test").startswith("0:"), 10,
                 "cache entry for the original address")
        assert rcpt_reply(inst, "alias@example.test") == ["250 2.1.5 Ok"]
        assert inst.mbox("phedison") == ""
