"""
test_compat.py - compatibility_level as in Postfix 3.7: a main.cf that does
not set it gets Postfix's built-in level 0 and its backwards-compatible
defaults (mynetworks_style = subnet, relay_domains = $mydestination,
smtputf8_enable = no, append_dot_mydomain = yes, smtpd_relay_restrictions
empty, smtpd_relay_before_recipient_restrictions = no), with Postfix's
"using backwards-compatible default setting" log lines where Postfix logs
them and the notice of every postfix(1) command. An old main.cf written
for Postfix 2.x (relay control in smtpd_recipient_restrictions) works as
it did. The wording was checked against Debian's Postfix 3.7.
"""
import re

from posthorn import Instance, Session


def old_instance(name, **main):
    """An instance whose main.cf sets no compatibility_level, with the
    relay control a Postfix 2.x main.cf has."""
    inst = Instance(name, main=main)
    del inst.params["compatibility_level"]
    inst.params.setdefault("smtpd_recipient_restrictions",
                           "permit_mynetworks, reject_unauth_destination")
    inst.write_main()
    return inst


def session(inst, source, sender="a@ok.example"):
    s = Session(inst.port, source=source)
    assert s.reply()[0].startswith("220 ")
    ehlo = s.cmd("EHLO client.example")
    if sender is not None:
        assert s.cmd("MAIL FROM:<%s>" % sender) == ["250 2.1.0 Ok"]
    return s, ehlo


NOTICE = ["Postfix is using backwards-compatible default settings",
          "See http://www.postfix.org/COMPATIBILITY_README.html for details",
          'To disable backwards compatibility use "postconf compatibility_level=3.6" '
          'and "postfix reload"']


def test_level_0_defaults_and_notices():
    with old_instance("compat0") as inst:
        del inst.params["mynetworks"]               # mynetworks_style decides
        inst.write_main()
        p = inst.start()
        for line in NOTICE:
            assert "postfix: " + line in p.stderr, p.stderr
        p = inst.cmd("postfix", "check")
        assert "postfix: " + NOTICE[0] in p.stderr, p.stderr
        s, ehlo = session(inst, "127.0.0.2", sender=None)
        assert "250-SMTPUTF8" not in ehlo and "250 SMTPUTF8" not in ehlo, ehlo
        assert s.cmd("MAIL FROM:<j\u00f6rg@ok.example>") == ["250 2.1.0 Ok"]
        # subnet style: 127.0.0.2 is in mynetworks, so it may relay
        assert s.cmd("RCPT TO:<x@remote.example>") == ["250 2.1.5 Ok"]
        # append_dot_mydomain = yes: "mail" is mail.example.test, local
        assert s.cmd("RCPT TO:<phedison@mail>") == ["250 2.1.5 Ok"]
        assert s.cmd("RCPT TO:<m\u00fcller@example.test>")[0].startswith("550 5.1.1 ")
        s.cmd("QUIT")
        for what in ('mynetworks_style=subnet to permit request from client '
                     '"unknown[127.0.0.2]"',
                     'append_dot_mydomain=yes to rewrite "mail" to "mail.example.test"',
                     'smtputf8_enable=no to accept non-ASCII sender address '
                     '"j??rg@ok.example" from unknown[127.0.0.2]',
                     'smtputf8_enable=no to accept non-ASCII recipient address '
                     '"m??ller@example.test" from unknown[127.0.0.2]'):
            inst.wait_log(re.escape("using backwards-compatible default setting " + what))
        for line in NOTICE:
            inst.wait_log(r"postfix\[\d+\]: " + re.escape(line))
        # 127.0.0.1 is in mynetworks with the host style too: no notice
        assert 'client "unknown[127.0.0.1]"' not in inst.log()


def test_level_0_relay_notices():
    """relay_domains = $mydestination (subdomains too), the recipient
    restrictions before the relay restrictions, and the empty
    smtpd_relay_restrictions, each with Postfix's notice."""
    with old_instance("compat1", mynetworks="127.0.0.1/32") as inst:
        cidr = inst.conf + "/clients.cidr"
        with open(cidr, "w") as f:
            f.write("127.0.0.9 OK\n")
        inst.params["smtpd_recipient_restrictions"] = (
            "permit_mynetworks, check_client_access cidr:%s, reject_unauth_destination" % cidr)
        inst.write_main()
        inst.start()
        s, _ = session(inst, "127.0.0.2")
        assert s.cmd("RCPT TO:<x@remote.example>") == [
            "554 5.7.1 <x@remote.example>: Relay access denied"]
        assert s.cmd("RCPT TO:<x@sub.example.test>") == ["250 2.1.5 Ok"]
        s.cmd("QUIT")
        inst.wait_log(re.escape(
            "reject: RCPT from unknown[127.0.0.2]: 554 5.7.1 <x@remote.example>: Relay access "
            "denied; from=<a@ok.example> to=<x@remote.example> proto=ESMTP "
            "helo=<client.example>") + r"\n.*" + re.escape(
            'using backwards-compatible default setting smtpd_relay_before_recipient_'
            'restrictions=no to reject recipient "x@remote.example" from client '
            '"unknown[127.0.0.2]"'))
        inst.wait_log(re.escape(
            'using backwards-compatible default setting relay_domains=$mydestination to '
            'accept mail for address "x@sub.example.test"'))
        domain = ('using backwards-compatible default setting relay_domains=$mydestination '
                  'to accept mail for domain "sub.example.test"')
        assert inst.log().count(domain) == 2, inst.log()
        s, _ = session(inst, "127.0.0.9")
        assert s.cmd("RCPT TO:<x@remote.example>") == ["250 2.1.5 Ok"]
        s.cmd("QUIT")
        inst.wait_log(re.escape(
            'using backwards-compatible default setting "smtpd_relay_restrictions = (empty)" '
            'to avoid "Relay access denied" error for recipient "x@remote.example" from '
            'client "unknown[127.0.0.9]"'))


def mastercf_line(inst, prefix):
    with open(inst.conf + "/master.cf") as f:
        lines = f.read().split("\n")
    return 1 + [i for i, line in enumerate(lines) if line.startswith(prefix)][0]


def test_level_0_master_cf_chroot_default():
    """Below level 1 a "-" in master.cf's chroot column means y; master
    says so for each such entry, as Postfix's master."""
    with old_instance("compatchroot") as inst:
        with open(inst.conf + "/master.cf", "a") as f:
            f.write("discard2  unix  -       -       -       -       -       discard\n")
        inst.start()
        inst.wait_log(re.escape("postfix/master[") + r"\d+\]: " + re.escape(
            "%s/master.cf: line %d: using backwards-compatible default setting chroot=y"
            % (inst.conf, mastercf_line(inst, "discard2 "))))
        # explicit n stays n: no notice for the other entries
        assert inst.log().count("default setting chroot=y") == 1, inst.log()


def test_level_3_6_gives_no_notice():
    """The main.cf make install ships (and the test instances) set 3.6."""
    with Instance("compat36", master_extra="discard2  unix  -  -  -  -  -  discard\n") as inst:
        p = inst.start()
        assert "backwards-compatible" not in p.stderr, p.stderr
        s, ehlo = session(inst, "127.0.0.2")
        assert "250 SMTPUTF8" in ehlo or "250-SMTPUTF8" in ehlo, ehlo
        assert s.cmd("RCPT TO:<x@remote.example>") == ["250 2.1.5 Ok"]
        s.cmd("QUIT")
        inst.wait_log(r"disconnect from unknown\[127\.0\.0\.2\]")
        assert "backwards-compatible" not in inst.log()


def test_level_0_without_relay_control_is_refused():
    """Level 0 leaves smtpd_relay_restrictions empty; a main.cf that does
    not put relay control in smtpd_recipient_restrictions either is an
    open relay: smtpd refuses to run (Postfix 3.7: fatal), as at 3.6."""
    from test_smtpd_security import RELAY_SAFETY_FATAL
    with old_instance("compatopen", smtpd_recipient_restrictions="") as inst:
        inst.start()
        s = Session(inst.port, source="127.0.0.2")
        s.send("EHLO outside.example\r\n")
        inst.wait_log(RELAY_SAFETY_FATAL)
        s.close()
