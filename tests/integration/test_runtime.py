"""
test_runtime.py - what changes while an instance runs: tables rebuilt on
disk take effect without "postfix reload" (the daemons that opened them
log "table ... has changed -- restarting" and are replaced).
"""
import os
import re

from posthorn import Instance, Session, run, sbin


def rcpt_reply(inst, rcpt, sender="jonas@example.test"):
    """The reply to RCPT TO in a fresh session."""
    s = Session(inst.port)
    s.reply()
    s.cmd("EHLO client.example")
    assert s.cmd("MAIL FROM:<%s>" % sender) == ["250 2.1.0 Ok"]
    reply = s.cmd("RCPT TO:<%s>" % rcpt)
    s.cmd("QUIT")
    s.close()
    return reply


def send(inst, sender, rcpt, body):
    s = Session(inst.port)
    s.reply()
    s.cmd("EHLO client.example")
    assert s.cmd("MAIL FROM:<%s>" % sender) == ["250 2.1.0 Ok"]
    assert s.cmd("RCPT TO:<%s>" % rcpt) == ["250 2.1.5 Ok"]
    assert s.cmd("DATA")[0].startswith("354")
    s.send("From: <%s>\r\nSubject: runtime\r\n\r\n%s\r\n.\r\n" % (sender, body))
    reply = s.reply()
    s.cmd("QUIT")
    s.close()
    assert reply[0].startswith("250 2.0.0 Ok: queued as"), reply
    return reply[0]


def postmap(inst, name, text, command="postmap"):
    path = os.path.join(inst.conf, name)
    with open(path, "w") as f:
        f.write(text)
    inst.cmd(command, path, check=True)
    return path


def changed_line(program, table):
    return r"postfix/%s\[\d+\]: table %s has changed -- restarting$" % (program, re.escape(table))


def test_new_alias_is_accepted_without_reload():
    with Instance("alias-rebuilt") as inst:
        inst.start()
        assert rcpt_reply(inst, "newalias@example.test")[0].startswith("550 5.1.1 "), \
            "an unknown local user is refused"
        aliases = os.path.join(inst.conf, "aliases")
        inst.write_aliases("postmaster: root\nnewalias: phedison\n")    # postalias
        assert rcpt_reply(inst, "newalias@example.test") == ["250 2.1.5 Ok"]
        inst.wait_log(changed_line("smtpd", "hash:" + aliases))
        # newaliases (alias_database) works the same way
        with open(aliases, "a") as f:
            f.write("otheralias: phjonas\n")
        newaliases = os.path.join(inst.dir, "newaliases")        # as make install links it
        os.symlink(sbin("postalias"), newaliases)
        p = run([newaliases, "-c", inst.conf])
        assert p.returncode == 0, p
        assert rcpt_reply(inst, "otheralias@example.test") == ["250 2.1.5 Ok"]
        send(inst, "jonas@example.test", "otheralias@example.test", "via the new alias")
        inst.wait_mbox("phjonas", "via the new alias")


def test_rebuilt_access_table_applies_to_the_next_client():
    main = {"smtpd_sender_restrictions": "check_sender_access hash:$config_directory/access"}
    with Instance("access-rebuilt", main=main) as inst:
        access = postmap(inst, "access", "other@example.test REJECT\n")
        inst.start()
        assert rcpt_reply(inst, "phedison@example.test", sender="spam@example.test") == \
            ["250 2.1.5 Ok"]
        postmap(inst, "access", "spam@example.test REJECT no spam here\n")
        reply = rcpt_reply(inst, "phedison@example.test", sender="spam@example.test")
        assert reply == ["554 5.7.1 <spam@example.test>: Sender address rejected: "
                         "no spam here"], reply
        inst.wait_log(changed_line("smtpd", "hash:" + access))


def test_cleanup_canonical_and_virtual_maps_follow_postmap():
    main = {"sender_canonical_maps": "hash:$config_directory/canonical",
            "virtual_alias_domains": "virt.example.test",
            "virtual_alias_maps": "hash:$config_directory/virtual"}
    with Instance("cleanup-rebuilt", main=main) as inst:
        canonical = postmap(inst, "canonical", "jonas@example.test old.jonas@example.test\n")
        virtual = postmap(inst, "virtual", "team@virt.example.test phedison@example.test\n")
        inst.start()
        send(inst, "jonas@example.test", "team@virt.example.test", "first message")
        box = inst.wait_mbox("phedison", "first message")
        assert "\nFrom: <old.jonas@example.test>\n" in box, box
        postmap(inst, "canonical", "jonas@example.test new.jonas@example.test\n")
        postmap(inst, "virtual", "team@virt.example.test phjonas@example.test\n")
        send(inst, "jonas@example.test", "team@virt.example.test", "second message")
        box = inst.wait_mbox("phjonas", "second message")
        assert "\nFrom: <new.jonas@example.test>\n" in box, box
        assert "second message" not in inst.mbox("phedison")
        log = inst.wait_log(changed_line("cleanup", "hash:" + canonical)
                            + "|" + changed_line("cleanup", "hash:" + virtual))
        assert log
