"""
test_virtual.py - the virtual(8) delivery agent through a real instance:
virtual_mailbox_domains = virt.example, virtual_mailbox_maps (a Maildir
user "a/" and an mbox user "b"), virtual_uid_maps/virtual_gid_maps
static: the throw-away user phedison's ids, virtual_mailbox_base a
directory inside the instance. No master.cf line is added: the shipped
conf/master.cf has the virtual service and virtual_transport's default
is "virtual", as with Postfix.

Maildir file names are "sec.MusecPpidQn.host" in new/ (written in tmp/,
fsync'ed once, renamed); the one fsync per message is in
lib/global/mbox.c maildir_deliver() (not observable here without strace).
"""
import os
import pwd
import re
import stat

from posthorn import Instance, run, sbin

QID = r"[0-9A-F]+"
USER = "phedison"


def virtual_instance(name, **extra):
    """An instance with the virtual domain; its base dir owned by USER."""
    pw = pwd.getpwnam(USER)
    inst = Instance(name)
    base = os.path.join(inst.dir, "vmail")
    os.makedirs(base)
    os.chown(base, pw.pw_uid, pw.pw_gid)
    os.chmod(base, 0o700)
    params = {
        "virtual_mailbox_domains": "virt.example",
        "virtual_mailbox_maps": "hash:%s/vmailbox" % inst.conf,
        "virtual_mailbox_base": base,
        "virtual_uid_maps": "static:%d" % pw.pw_uid,
        "virtual_gid_maps": "static:%d" % pw.pw_gid,
    }
    params.update(extra)
    inst.params.update(params)
    inst.write_main()
    inst.write_table("vmailbox", "a@virt.example a/\nb@virt.example b\n", postmap=True)
    inst.base = base
    inst.pw = pw
    return inst


def send(inst, rcpts, body="hello\r\n", sender="jonas@example.test"):
    s = inst.session(helo="HELO client.example")
    qid = s.message(sender, rcpts, "Subject: virtual test\r\n\r\n" + body)
    s.cmd("QUIT")
    s.close()
    return qid


def owned(path, pw, mode):
    st = os.stat(path)
    assert (st.st_uid, st.st_gid) == (pw.pw_uid, pw.pw_gid), (path, st.st_uid, st.st_gid)
    assert stat.S_IMODE(st.st_mode) == mode, (path, oct(st.st_mode))


def test_virtual_delivers_maildir_and_mbox():
    inst = virtual_instance("virt-deliver")
    try:
        inst.start()
        qid = send(inst, ["a@virt.example", "b@virt.example"])
        inst.wait_log(r"%s: to=<a@virt\.example>, relay=virtual, delay=[0-9.]+, "
                      r"delays=[0-9./]+, dsn=2\.0\.0, status=sent \(delivered to maildir\)" % qid)
        inst.wait_log(r"%s: to=<b@virt\.example>, relay=virtual, delay=[0-9.]+, "
                      r"delays=[0-9./]+, dsn=2\.0\.0, status=sent \(delivered to mailbox\)" % qid)
        maildir = os.path.join(inst.base, "a")
        for sub in ("", "tmp", "new", "cur"):
            owned(os.path.join(maildir, sub), inst.pw, 0o700)
        assert os.listdir(os.path.join(maildir, "tmp")) == []
        files = os.listdir(os.path.join(maildir, "new"))
        assert len(files) == 1, files
        assert re.match(r"^\d+\.M\d+P\d+Q\d+\.[^/:]+$", files[0]), files
        path = os.path.join(maildir, "new", files[0])
        owned(path, inst.pw, 0o600)
        text = open(path).read()
        assert text.startswith("Return-Path: <jonas@example.test>\n"
                               "X-Original-To: a@virt.example\n"
                               "Delivered-To: a@virt.example\n"), text
        assert "Subject: virtual test\n" in text and text.endswith("hello\n"), text
        mbox = os.path.join(inst.base, "b")
        owned(mbox, inst.pw, 0o600)
        text = open(mbox).read()
        assert re.match(r"From jonas@example\.test  \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\n"
                        r"Return-Path: <jonas@example\.test>\n"
                        r"X-Original-To: b@virt\.example\n"
                        r"Delivered-To: b@virt\.example\n", text), text
        assert text.endswith("hello\n\n"), text
        assert not os.path.exists(mbox + ".lock")
        assert "not implemented" not in inst.log()
    finally:
        inst.cleanup()


def test_virtual_unknown_user():
    """smtpd refuses an unknown user at RCPT; one that gets past smtpd
    (sendmail) is bounced by the agent with Postfix's wording."""
    inst = virtual_instance("virt-unknown")
    try:
        inst.start()
        s = inst.session(helo="HELO client.example", sender="jonas@example.test")
        r = s.cmd("RCPT TO:<x@virt.example>")
        assert r == ["550 5.1.1 <x@virt.example>: Recipient address rejected: "
                     "User unknown in virtual mailbox table"], r
        r = s.cmd("RCPT TO:<a@virt.example>")
        assert r == ["250 2.1.5 Ok"], r
        s.data("Subject: one\r\n\r\nbody\r\n")
        s.cmd("QUIT")
        s.close()
        inst.wait_log(r"to=<a@virt\.example>, relay=virtual, .*status=sent \(delivered to maildir\)")
        p = run([sbin("sendmail"), "-c", inst.conf, "-f", "", "x@virt.example"],
                input="Subject: two\n\nbody\n")
        assert p.returncode == 0, (p.stdout, p.stderr)
        inst.wait_log(r"to=<x@virt\.example>, relay=virtual, delay=[0-9.]+, delays=[0-9./]+, "
                      r"dsn=5\.1\.1, status=bounced \(unknown user: \"x@virt\.example\"\)")
    finally:
        inst.cleanup()


def test_virtual_minimum_uid_defers():
    pw = pwd.getpwnam(USER)
    inst = virtual_instance("virt-minuid", virtual_minimum_uid=str(pw.pw_uid + 1))
    try:
        inst.start()
        send(inst, ["a@virt.example"])
        inst.wait_log(r"warning: recipient a@virt\.example: bad uid %d in virtual_uid_maps"
                      % pw.pw_uid)
        inst.wait_log(r"to=<a@virt\.example>, relay=virtual, .*dsn=4\.3\.5, "
                      r"status=deferred \(mail system configuration error\)")
        assert not os.path.exists(os.path.join(inst.base, "a"))
    finally:
        inst.cleanup()


def test_virtual_mailbox_limit_bounces():
    inst = virtual_instance("virt-limit", virtual_mailbox_limit="20000",
                            message_size_limit="20000")
    try:
        mbox = os.path.join(inst.base, "b")
        with open(mbox, "w") as f:
            f.write("From old@example  Mon Jan  1 00:00:00 2024\n\n" + "x" * 19000 + "\n\n")
        os.chown(mbox, inst.pw.pw_uid, inst.pw.pw_gid)
        os.chmod(mbox, 0o600)
        size = os.path.getsize(mbox)
        inst.start()
        send(inst, ["b@virt.example"], body="y" * 2000 + "\r\n")
        inst.wait_log(r"to=<b@virt\.example>, relay=virtual, .*dsn=5\.2\.2, "
                      r"status=bounced \(mailbox %s exceeds size limit\)" % re.escape(mbox))
        assert os.path.getsize(mbox) == size    # truncated back
    finally:
        inst.cleanup()


def test_virtual_mailbox_lock_flock():
    """virtual_mailbox_lock = flock: a mailbox flock()ed by a mail reader
    defers the delivery (the file is left alone); no dot lock is made."""
    import fcntl
    inst = virtual_instance("virt-lock", virtual_mailbox_lock="flock",
                            deliver_lock_attempts="1")
    try:
        mbox = os.path.join(inst.base, "b")
        with open(mbox, "w") as f:
            f.write("")
        os.chown(mbox, inst.pw.pw_uid, inst.pw.pw_gid)
        os.chmod(mbox, 0o600)
        holder = open(mbox, "a")
        fcntl.flock(holder, fcntl.LOCK_EX)
        inst.start()
        send(inst, ["b@virt.example"])
        inst.wait_log(r"to=<b@virt\.example>, relay=virtual, .*status=deferred \(cannot update "
                      r"mailbox %s\. unable to lock %s: Resource temporarily unavailable\)"
                      % (re.escape(mbox), re.escape(mbox)))
        assert os.path.getsize(mbox) == 0
        assert not os.path.exists(mbox + ".lock")
        holder.close()
    finally:
        inst.cleanup()


def test_virtual_delivered_to_loop_bounces():
    """A message that already carries "Delivered-To: a@virt.example" is
    not delivered to that mailbox again: bounced 5.4.6 "mail forwarding
    loop for a@virt.example", as Postfix's virtual does; a message with
    another recipient's Delivered-To: is delivered."""
    inst = virtual_instance("virt-loop")
    try:
        inst.start()
        s = inst.session(helo="HELO client.example")
        s.message("jonas@example.test", ["a@virt.example"],
                  "Delivered-To: A@virt.example\r\nSubject: loop\r\n\r\nbody\r\n")
        s.message("jonas@example.test", ["a@virt.example"],
                  "Delivered-To: b@virt.example\r\nSubject: fine\r\n\r\nbody\r\n")
        s.cmd("QUIT")
        s.close()
        inst.wait_log(r"to=<a@virt\.example>, relay=virtual, .*dsn=5\.4\.6, status=bounced "
                      r"\(mail forwarding loop for a@virt\.example\)")
        inst.wait_log(r"to=<a@virt\.example>, relay=virtual, .*status=sent \(delivered to maildir\)")
        new = os.path.join(inst.base, "a", "new")
        files = os.listdir(new)
        assert len(files) == 1, files
        with open(os.path.join(new, files[0])) as f:
            assert "Subject: fine" in f.read()
    finally:
        inst.cleanup()


def test_virtual_maildir_parents_created():
    """A Maildir "dom.example/c/" whose domain directory does not exist
    yet under virtual_mailbox_base is created, parents included, owned
    by the recipient's ids, as Postfix's virtual does."""
    inst = virtual_instance("virt-parents")
    try:
        inst.write_table("vmailbox", "c@virt.example dom.example/c/\n", postmap=True)
        inst.start()
        send(inst, ["c@virt.example"])
        inst.wait_log(r"to=<c@virt\.example>, relay=virtual, .*status=sent \(delivered to maildir\)")
        owned(os.path.join(inst.base, "dom.example"), inst.pw, 0o700)
        new = os.path.join(inst.base, "dom.example", "c", "new")
        assert len(os.listdir(new)) == 1
    finally:
        inst.cleanup()
