"""
test_runtime.py - what changes while an instance runs: tables rebuilt on
disk take effect without "postfix reload" (the daemons that opened them
log "table ... has changed -- restarting" and are replaced); per-request
deadlines and the minimum data rate; stress when a service reaches its
process limit; a full queue file system (a small tmpfs): 452 at MAIL FROM,
451 for a message that does not fit, no partial files, recovery.
"""
import contextlib
import os
import re
import socket
import time

from posthorn import Instance, Session, free_port, port_open, run, sbin, wait_for


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


# ---- deadlines and stress ------------------------------------------------------

def dribble(s, data, chunk=1, interval=1.0):
    """Send data chunk bytes per interval until the server says something;
    returns (reply lines or None, bytes sent)."""
    sent = 0
    s.sock.settimeout(interval)
    try:
        while sent < len(data):
            try:
                s.send(data[sent:sent + chunk])
            except OSError:             # closed: its last words may be queued
                s.sock.settimeout(5)
                return s.reply(), sent
            sent += len(data[sent:sent + chunk])
            try:
                return s.reply(), sent
            except socket.timeout:
                continue
        return None, sent
    except (EOFError, OSError):
        return None, sent
    finally:
        s.sock.settimeout(30)


TIMEOUT_421 = ["421 4.4.2 mail.example.test Error: timeout exceeded"]


def test_per_request_deadline_cuts_off_a_dribbling_client():
    main = {"smtpd_timeout": "3s", "smtpd_per_request_deadline": "yes"}
    with Instance("deadline", main=main) as inst:
        inst.start()
        s = Session(inst.port)
        s.reply()
        s.cmd("EHLO client.example")
        # one byte a second never trips a 3 s timeout per read, but the
        # whole command must arrive within 3 s; 40 bytes would take 40 s
        reply, sent = dribble(s, b"MAIL FROM:<a-very-patient-sender@example.test>\r\n")
        s.close()
        assert reply == TIMEOUT_421, (reply, sent)
        assert sent < 30, sent
        inst.wait_log(r"smtpd\[\d+\]: timeout after EHLO from unknown\[127\.0\.0\.1\]$")


def test_min_data_rate_extends_the_data_deadline():
    slow = free_port()
    main = {"smtpd_timeout": "3s", "smtpd_per_request_deadline": "yes"}
    extra = "%d inet n - n - - smtpd -o smtpd_min_data_rate=1\n" % slow
    with Instance("datarate", main=main, master_extra=extra) as inst:
        inst.start()
        wait_for(lambda: port_open(slow), 20, "smtpd on port %d" % slow)
        body = b"Subject: slow\r\n\r\n" + b"x" * 16 + b"\r\n.\r\n"
        for port, accepted in ((slow, True), (inst.port, False)):
            s = Session(port)
            s.reply()
            s.cmd("EHLO client.example")
            assert s.cmd("MAIL FROM:<jonas@example.test>") == ["250 2.1.0 Ok"]
            assert s.cmd("RCPT TO:<phedison@example.test>") == ["250 2.1.5 Ok"]
            assert s.cmd("DATA")[0].startswith("354")
            # four bytes a second: at 1 byte/s each chunk earns 4 s (the
            # deadline never runs out); at the default 500 bytes/s it does
            reply, sent = dribble(s, body, chunk=4)
            if reply is None:
                reply = s.reply()
            s.close()
            if accepted:
                assert reply[0].startswith("250 2.0.0 Ok: queued as"), reply
            else:
                assert reply == TIMEOUT_421, (reply, sent)
                assert sent < len(body), sent
        inst.wait_mbox("phedison", "xxxxxxxx")
        inst.wait_log(r"smtpd\[\d+\]: timeout after DATA \(\d+ bytes\) from unknown\[127\.0\.0\.1\]$")


def test_stress_when_the_smtp_service_reaches_its_process_limit():
    # the second of two smtpd processes runs with stress=yes: its
    # ${stress?...} timeout is 3 s, the first one's 300 s
    main = {"smtpd_timeout": "${stress?{3}:{300}}s"}
    with Instance("stress", main=main) as inst:
        master_cf = os.path.join(inst.conf, "master.cf")
        with open(master_cf) as f:
            text = f.read()
        text = text.replace("%d inet n - n - - smtpd" % inst.port,
                            "%d inet n - n - 2 smtpd" % inst.port)
        with open(master_cf, "w") as f:
            f.write(text)
        inst.start()
        # start() probed the port: let that process become free again, so
        # that the first session below gets it (and not a second, stressed one)
        inst.wait_log(r"disconnect from unknown\[127\.0\.0\.1\] commands=0/0$")
        time.sleep(1)
        first = Session(inst.port)
        assert first.reply()[0].startswith("220 ")
        second = Session(inst.port)
        assert second.reply()[0].startswith("220 ")
        second.sock.settimeout(60)
        assert second.reply() == TIMEOUT_421            # idle: cut off after 3 s
        second.close()
        assert first.cmd("NOOP") == ["250 2.0.0 Ok"]    # the unstressed one is still there
        first.cmd("QUIT")
        first.close()
        inst.wait_log(r'master\[\d+\]: warning: service "%d" \(%d\) has reached its process limit '
                      r'"2": new clients may experience noticeable delays$' % (inst.port, inst.port))
        inst.wait_log(r"smtpd\[\d+\]: timeout after CONNECT from unknown\[127\.0\.0\.1\]$")


# ---- disk space ------------------------------------------------------------------

@contextlib.contextmanager
def tmpfs(path, size):
    """A small tmpfs on path (the instance's queue_directory), unmounted at the end."""
    run(["mount", "-t", "tmpfs", "-o", "size=%s,mode=755" % size, "tmpfs", path], check=True)
    try:
        yield
    finally:
        run(["umount", path])


def fill(path, leave):
    """Grow path/filler (root's) until about leave bytes are free in its file system."""
    st = os.statvfs(path)
    free = st.f_bavail * st.f_frsize
    with open(os.path.join(path, "filler"), "ab") as f:
        f.write(b"\0" * max(0, free - leave))


def transaction(inst, body, rcpt="phedison@example.test"):
    """MAIL, RCPT, DATA with body; returns the MAIL reply, or the reply to
    the end of DATA when MAIL and RCPT were accepted."""
    s = Session(inst.port)
    s.reply()
    s.cmd("EHLO client.example")
    reply = s.cmd("MAIL FROM:<jonas@example.test>")
    if reply == ["250 2.1.0 Ok"]:
        assert s.cmd("RCPT TO:<%s>" % rcpt) == ["250 2.1.5 Ok"]
        assert s.cmd("DATA")[0].startswith("354")
        s.send(body + b".\r\n")
        reply = s.reply()
    s.cmd("QUIT")
    s.close()
    return reply


def message(subject, size=0):
    line = b"x" * 76 + b"\r\n"
    return (b"Subject: " + subject.encode() + b"\r\n\r\n" + subject.encode() + b"\r\n"
            + line * (size // len(line)))


def test_full_queue_file_system_refuses_mail_and_recovers():
    main = {"message_size_limit": "0", "queue_minfree": "200000"}
    with Instance("diskspace", main=main) as inst:
        with tmpfs(inst.queue, "4m"):
            try:
                inst.start()
                assert transaction(inst, message("before the disk filled"))[0].startswith(
                    "250 2.0.0 Ok: queued as")
                inst.wait_mbox("phedison", "before the disk filled")
                # room at MAIL FROM, but not for this message: cleanup's write fails
                fill(inst.queue, 600 * 1024)
                reply = transaction(inst, message("too big for the disk", 1500 * 1024))
                assert reply == ["451 4.3.0 Error: queue file write error"], reply
                assert inst.queue_files("incoming") == [], "no partial queue file"
                inst.wait_log(r"cleanup\[\d+\]: warning: [0-9A-F]+: write queue file: No space left on device$")
                # a message that fits is still accepted, and delivered
                assert transaction(inst, message("fits in what is left"))[0].startswith(
                    "250 2.0.0 Ok: queued as")
                inst.wait_mbox("phedison", "fits in what is left")
                # below queue_minfree: refused at MAIL FROM
                fill(inst.queue, 100 * 1024)
                reply = transaction(inst, message("no room at all"))
                assert reply == ["452 4.3.1 Insufficient system storage"], reply
                inst.wait_log(r"smtpd\[\d+\]: NOQUEUE: reject: MAIL from unknown\[127\.0\.0\.1\]: "
                              r"452 4\.3\.1 Insufficient system storage; from=<jonas@example\.test> "
                              r"proto=ESMTP helo=<client\.example>$")
                inst.wait_log(r"smtpd\[\d+\]: warning: not enough free space in mail queue: "
                              r"\d+ bytes < 1\.5\*message size limit$")
                # space returns: service resumes without a restart
                os.unlink(os.path.join(inst.queue, "filler"))
                assert transaction(inst, message("after the space returned"))[0].startswith(
                    "250 2.0.0 Ok: queued as")
                box = inst.wait_mbox("phedison", "after the space returned")
                assert "too big for the disk" not in box and "no room at all" not in box
                # 1.5 x message_size_limit must be free too (4 MB file system)
                inst.cmd("postconf", "-e", "message_size_limit = 3000000", check=True)
                inst.cmd("postfix", "reload", check=True)
                wait_for(lambda: transaction(inst, message("limit")) ==
                         ["452 4.3.1 Insufficient system storage"], 20, "452 after reload")
            finally:
                inst.stop()
