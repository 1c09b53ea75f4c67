"""
test_delivery_paths.py - the cheap paths of local delivery and the
local recipient check: a Maildir is created (or completed) only when a
delivery finds a directory missing; the default local_recipient_maps
(unix:passwd.byname $alias_maps) accepts users and aliases by local part.
"""
import os
import pwd
import re
import shutil

from posthorn import Instance, Session, USER_HOME, run, wait_for

USER = "phalice"


def send(inst, rcpt, body):
    s = Session(inst.port)
    assert s.reply() == ["220 mail.example.test ESMTP Postfix"]
    assert s.cmd("HELO test") == ["250 mail.example.test"]
    assert s.cmd("MAIL FROM:<jonas@example.test>") == ["250 2.1.0 Ok"]
    assert s.cmd("RCPT TO:<%s>" % rcpt) == ["250 2.1.5 Ok"]
    assert s.cmd("DATA") == ["354 End data with <CR><LF>.<CR><LF>"]
    s.send("Subject: %s\r\n\r\n%s\r\n.\r\n" % (body, body))
    r = s.reply()
    assert len(r) == 1 and re.match(r"^250 2\.0\.0 Ok: queued as [0-9A-F]+$", r[0]), r
    s.cmd("QUIT")
    s.close()


def maildir_files(maildir, n):
    new = os.path.join(maildir, "new")
    return wait_for(lambda: os.path.isdir(new) and len(os.listdir(new)) >= n and os.listdir(new),
                    20, "%d maildir file(s)" % n)


def test_maildir_completed_when_parts_missing():
    maildir = os.path.join(USER_HOME, USER, "Maildir")
    pw = pwd.getpwnam(USER)
    shutil.rmtree(maildir, ignore_errors=True)
    try:
        with Instance("dpaths", main={"home_mailbox": "Maildir/"}) as inst:
            inst.start()
            # no Maildir at all: made on the first delivery
            send(inst, "%s@example.test" % USER, "first")
            files = maildir_files(maildir, 1)
            for sub in ("tmp", "new", "cur"):
                st = os.stat(os.path.join(maildir, sub))
                assert st.st_uid == pw.pw_uid and (st.st_mode & 0o777) == 0o700, sub
            # only tmp/ left: the rename into new/ finds it missing and makes it
            shutil.rmtree(os.path.join(maildir, "new"))
            shutil.rmtree(os.path.join(maildir, "cur"))
            send(inst, "%s@example.test" % USER, "second")
            files = maildir_files(maildir, 1)
            text = open(os.path.join(maildir, "new", files[0])).read()
            assert "Subject: second" in text
            assert os.path.isdir(os.path.join(maildir, "cur"))
            # existing Maildir: plain delivery
            send(inst, "%s@example.test" % USER, "third")
            maildir_files(maildir, 2)
            assert os.listdir(os.path.join(maildir, "tmp")) == []
            log = inst.log()
            assert len(re.findall(r"to=<%s@example.test>.*status=sent \(delivered to maildir\)"
                                  % USER, log)) == 3, log
    finally:
        shutil.rmtree(maildir, ignore_errors=True)


def test_local_recipient_maps_by_local_part():
    with Instance("dpaths-rcpt") as inst:
        inst.write_aliases("postmaster: root\nsales: %s\n" % USER)
        inst.start()
        s = inst.session(helo="HELO test", sender="jonas@example.test")
        assert s.cmd("RCPT TO:<%s@example.test>" % USER) == ["250 2.1.5 Ok"]
        assert s.cmd("RCPT TO:<root@localhost>") == ["250 2.1.5 Ok"]
        assert s.cmd("RCPT TO:<sales@example.test>") == ["250 2.1.5 Ok"]
        r = s.cmd("RCPT TO:<no-such-user-x@example.test>")
        assert r == ["550 5.1.1 <no-such-user-x@example.test>: Recipient address rejected: "
                     "User unknown in local recipient table"], r
        s.cmd("QUIT")
        s.close()
