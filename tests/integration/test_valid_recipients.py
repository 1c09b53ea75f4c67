"""
test_valid_recipients.py - which recipients smtpd accepts at RCPT
(smtpd_reject_unlisted_recipient, reject_unlisted_recipient,
reject_unlisted_sender), by address class as Postfix: an address that
virtual_alias_maps or canonical_maps/recipient_canonical_maps know is
valid in any domain; then local domains need local_recipient_maps,
virtual alias domains a virtual_alias_maps entry ("User unknown in
virtual alias table"), virtual mailbox domains virtual_mailbox_maps,
relay domains relay_recipient_maps. Replies and log lines as Postfix 3.7
gives them (checked against Debian's Postfix).
"""
import re

from posthorn import Instance
from test_restrictions import session


def postmap(inst, name, text):
    return "hash:" + inst.write_table(name, text, postmap=True)


def test_virtual_alias_and_canonical_make_local_addresses_valid():
    with Instance("valid") as inst:
        inst.params.update({
            "virtual_alias_maps": postmap(inst, "virtual",
                                          "info@example.test phedison\n"
                                          "sales@virt.example phjonas@example.test\n"
                                          "@catchall.example phalice@example.test\n"),
            "virtual_alias_domains": "virt.example, catchall.example",
            "canonical_maps": postmap(inst, "canonical", "canon@example.test phjonas\n"),
            "recipient_canonical_maps": postmap(inst, "rcanonical",
                                                "rcanon@example.test phalice\n"),
        })
        inst.write_main()
        inst.start()
        s = session(inst, sender="someone@elsewhere.example")
        for rcpt in ("info@example.test", "canon@example.test", "rcanon@example.test",
                     "sales@virt.example", "anyone@catchall.example", "phedison@example.test"):
            assert s.cmd("RCPT TO:<%s>" % rcpt) == ["250 2.1.5 Ok"], rcpt
        assert s.cmd("RCPT TO:<other@virt.example>") == [
            "550 5.1.1 <other@virt.example>: Recipient address rejected: "
            "User unknown in virtual alias table"]
        assert s.cmd("RCPT TO:<nosuch@example.test>") == [
            "550 5.1.1 <nosuch@example.test>: Recipient address rejected: "
            "User unknown in local recipient table"]
        assert s.cmd("DATA")[0].startswith("354")
        s.send("Subject: valid\r\n\r\nfor info\r\n.\r\n")
        assert s.reply()[0].startswith("250 ")
        s.cmd("QUIT")
        inst.wait_mbox("phedison", "for info")
        inst.wait_mbox("phjonas", "for info")
        inst.wait_mbox("phalice", "for info")
        inst.wait_log(re.escape(
            "reject: RCPT from unknown[127.0.0.1]: 550 5.1.1 <other@virt.example>: "
            "Recipient address rejected: User unknown in virtual alias table; "
            "from=<someone@elsewhere.example> to=<other@virt.example> proto=ESMTP "
            "helo=<client.example>"))


def test_unknown_virtual_alias_reject_code_and_table_name():
    """unknown_virtual_alias_reject_code sets the code; with
    show_user_unknown_table_name = no the reply names no table; postmaster
    is valid in a local domain even when local_recipient_maps lacks it."""
    with Instance("valid2") as inst:
        inst.params.update({
            "virtual_alias_maps": postmap(inst, "virtual", "sales@virt.example phjonas\n"),
            "virtual_alias_domains": "virt.example",
            "unknown_virtual_alias_reject_code": "551",
            "show_user_unknown_table_name": "no",
            "local_recipient_maps": "unix:passwd.byname",
        })
        inst.write_main()
        inst.start()
        s = session(inst, sender="someone@elsewhere.example")
        assert s.cmd("RCPT TO:<other@virt.example>") == [
            "551 5.1.1 <other@virt.example>: Recipient address rejected: User unknown"]
        assert s.cmd("RCPT TO:<nosuch@example.test>") == [
            "550 5.1.1 <nosuch@example.test>: Recipient address rejected: User unknown"]
        assert s.cmd("RCPT TO:<postmaster@example.test>") == ["250 2.1.5 Ok"]
        s.cmd("QUIT")


def test_unlisted_sender_known_through_virtual_alias():
    with Instance("valid3") as inst:
        inst.params.update({
            "smtpd_reject_unlisted_sender": "yes",
            "virtual_alias_maps": postmap(inst, "virtual", "info@example.test phedison\n"),
            "sender_canonical_maps": postmap(inst, "scanonical", "scanon@example.test phjonas\n"),
        })
        inst.write_main()
        inst.start()
        for sender in ("info@example.test", "scanon@example.test"):
            s = session(inst, sender=sender)
            assert s.cmd("RCPT TO:<phedison@example.test>") == ["250 2.1.5 Ok"], sender
            s.cmd("QUIT")
        s = session(inst, sender="nosuch@example.test")
        assert s.cmd("RCPT TO:<phedison@example.test>") == [
            "550 5.1.0 <nosuch@example.test>: Sender address rejected: "
            "User unknown in local recipient table"]
        s.cmd("QUIT")
