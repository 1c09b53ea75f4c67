"""
test_local.py - the local delivery agent through a real instance: SMTP in,
mailboxes, files, commands, forwarding and the log out.

Uses the throw-away users phedison/phjonas/phalice; every file a test puts
into their homes is removed again in a finally block.
"""
import os
import pwd
import re
import stat

from posthorn import Instance, USER_HOME, free_port, wait_for

QID = r"[0-9A-F]+"


def send(inst, rcpts, body=("hello",), sender="jonas@example.test", headers=()):
    """One message over SMTP; returns the queue id."""
    if isinstance(rcpts, str):
        rcpts = [rcpts]
    s = inst.session(helo="HELO client.example")
    lines = list(headers) + ["Subject: local test", ""] + list(body)
    qid = s.message(sender, rcpts, "".join(l + "\r\n" for l in lines))
    s.cmd("QUIT")
    s.close()
    return qid


def home(user, *names):
    return os.path.join(USER_HOME, user, *names)


def put_user_file(user, name, text, mode=0o644):
    """A file in the user's home, owned by the user."""
    path = home(user, name)
    pw = pwd.getpwnam(user)
    if not os.path.isdir(home(user)):           # the shared test users may lack a home
        os.makedirs(home(user), mode=0o755)
        os.chown(home(user), pw.pw_uid, pw.pw_gid)
    with open(path, "w") as f:
        f.write(text)
    os.chown(path, pw.pw_uid, pw.pw_gid)
    os.chmod(path, mode)
    return path


def remove(*paths):
    for p in paths:
        try:
            os.unlink(p)
        except FileNotFoundError:
            pass


def scratch_dir(inst, name="out"):
    """A world-writable directory in the instance (commands run as users or nobody)."""
    d = os.path.join(inst.dir, name)
    os.makedirs(d, exist_ok=True)
    os.chmod(d, 0o1777)
    return d


def wait_file(path, pattern=".", timeout=20):
    rx = re.compile(pattern, re.M)

    def ok():
        try:
            with open(path, errors="replace") as f:
                return rx.search(f.read())
        except FileNotFoundError:
            return None
    wait_for(ok, timeout, "%s to match /%s/" % (path, pattern))
    with open(path, errors="replace") as f:
        return f.read()


def local_line(qid, to, status, text_rx, orig=None):
    o = r"orig_to=<%s>, " % re.escape(orig) if orig else ""
    return (r"postfix/local\[\d+\]: %s: to=<%s>, %srelay=local, delay=[\d.]+, "
            r"delays=[\d.]+/[\d.]+/[\d.]+/[\d.]+, dsn=\d\.\d\.\d+, status=%s \(%s\)"
            % (qid, re.escape(to), o, status, text_rx))


# ---- .forward ---------------------------------------------------------------

def test_forward_to_local_user():
    fwd = home("phedison", ".forward")
    try:
        put_user_file("phedison", ".forward", "# comment\nphjonas\n")
        with Instance("fwdlocal") as inst:
            inst.start()
            qid = send(inst, "phedison@example.test", ("forwarded body",))
            box = inst.wait_mbox("phjonas", "forwarded body")
            assert "Delivered-To: phjonas@mail.example.test" in box
            inst.wait_log(local_line(qid, "phjonas@mail.example.test", "sent",
                                     r"delivered to mailbox", orig="phedison@example.test"))
            inst.wait_log(r"%s: removed" % qid)
            assert inst.mbox("phedison") == ""
    finally:
        remove(fwd)


def test_forward_to_command():
    fwd = home("phedison", ".forward")
    out = home("phedison", "fwd-cmd.out")
    try:
        put_user_file("phedison", ".forward", '"|cat > %s"\n' % out)
        with Instance("fwdcmd") as inst:
            inst.start()
            qid = send(inst, "phedison@example.test", ("to a command",))
            text = wait_file(out, "to a command")
            assert text.startswith("From jonas@example.test "), text[:80]
            assert "Delivered-To: phedison@example.test" in text
            assert os.stat(out).st_uid == pwd.getpwnam("phedison").pw_uid
            inst.wait_log(local_line(qid, "phedison@example.test", "sent",
                                     re.escape("delivered to command: cat > %s" % out)))
    finally:
        remove(fwd, out)


def test_forward_to_remote_address():
    fwd = home("phedison", ".forward")
    closed = free_port()
    try:
        put_user_file("phedison", ".forward", "\\phedison, friend@remote.example\n")
        with Instance("fwdremote", main={"relayhost": "[127.0.0.1]:%d" % closed}) as inst:
            inst.start()
            qid = send(inst, "phedison@example.test", ("keep a copy and forward",))
            inst.wait_mbox("phedison", "keep a copy and forward")
            m = inst.wait_log(local_line(qid, "phedison@example.test", "sent",
                                         r"forwarded as (%s)" % QID))
            new = m.group(1)
            assert new != qid
            # the new message: original sender, the remote recipient, the
            # original recipient as orig_to; the relay attempt fails (closed port)
            inst.wait_log(r"postfix/qmgr\[\d+\]: %s: from=<jonas@example.test>, size=\d+, "
                          r"nrcpt=1 \(queue active\)" % new)
            inst.wait_log(r"%s: to=<friend@remote.example>, orig_to=<phedison@example.test>, "
                          r"relay=.*status=deferred" % new, timeout=40)
            assert new in inst.queue_files("deferred") or new in inst.queue_files("active")
            inst.wait_log(r"%s: removed" % qid)
    finally:
        remove(fwd)


def test_forward_loop_is_detected_across_forward():
    """A forwarded copy that comes back to the same address bounces with 5.4.6.

    loop.example is a relay domain whose relay_transport is local: local
    forwards phedison@loop.example (not one of its own domains) through
    cleanup, qmgr hands it back to local, which expands the .forward again.
    """
    fwd = home("phedison", ".forward")
    try:
        put_user_file("phedison", ".forward", "phedison@loop.example\n")
        main = {"relay_domains": "loop.example", "relay_transport": "local"}
        with Instance("fwdloop", main=main) as inst:
            inst.start()
            qid = send(inst, "phedison@example.test", ("round and round",))
            m = inst.wait_log(local_line(qid, "phedison@example.test", "sent",
                                         r"forwarded as (%s)" % QID))
            new = m.group(1)
            m = inst.wait_log(local_line(new, "phedison@loop.example", "sent",
                                         r"forwarded as (%s)" % QID, orig="phedison@example.test"))
            third = m.group(1)
            inst.wait_log(local_line(third, "phedison@loop.example", "bounced",
                                     re.escape("mail forwarding loop for phedison@loop.example"),
                                     orig="phedison@example.test"))
            assert re.search(r"%s: to=<phedison@loop.example>, .*dsn=5\.4\.6" % third, inst.log())
            assert inst.mbox("phedison") == ""
    finally:
        remove(fwd)


# ---- aliases: commands, files, :include: ------------------------------------

def test_alias_command_and_file_allowed():
    with Instance("aliasok") as inst:
        d = scratch_dir(inst)
        inst.write_aliases("postmaster: root\n"
                           'cmd: "|cat > %s/cmd.out"\n'
                           "file: %s/file.mbox\n" % (d, d))
        inst.start()
        q1 = send(inst, "cmd@example.test", ("command body",))
        q2 = send(inst, "file@example.test", ("From the start", "file body"))
        text = wait_file(os.path.join(d, "cmd.out"), "command body")
        assert "Delivered-To: cmd@example.test" in text
        text = wait_file(os.path.join(d, "file.mbox"), "file body")
        assert "\n>From the start\n" in text
        nobody = pwd.getpwnam("nobody").pw_uid       # root-owned aliases: default_privs
        assert os.stat(os.path.join(d, "file.mbox")).st_uid == nobody
        inst.wait_log(local_line(q1, "cmd@example.test", "sent",
                                 re.escape("delivered to command: cat > %s/cmd.out" % d)))
        inst.wait_log(local_line(q2, "file@example.test", "sent",
                                 re.escape("delivered to file: %s/file.mbox" % d)))


def test_alias_command_and_file_refused():
    main = {"allow_mail_to_commands": "forward", "allow_mail_to_files": "forward"}
    with Instance("aliasno", main=main) as inst:
        d = scratch_dir(inst)
        inst.write_aliases("postmaster: root\n"
                           'cmd: "|cat > %s/cmd.out"\n'
                           "file: %s/file.mbox\n" % (d, d))
        inst.start()
        q1 = send(inst, "cmd@example.test")
        q2 = send(inst, "file@example.test")
        inst.wait_log(local_line(q1, "cmd@example.test", "bounced",
                                 "mail to command is restricted"))
        # (a bounce may hold qmgr up while the bounce service is unavailable)
        inst.wait_log(local_line(q2, "file@example.test", "bounced",
                                 "mail to file is restricted"), timeout=60)
        assert not os.path.exists(os.path.join(d, "cmd.out"))
        assert not os.path.exists(os.path.join(d, "file.mbox"))


def test_alias_include_file():
    with Instance("include") as inst:
        inc = os.path.join(inst.conf, "list.txt")
        with open(inc, "w") as f:
            f.write("phjonas\nphalice\n")
        inst.write_aliases("postmaster: root\nlist: :include:%s\n" % inc)
        inst.start()
        qid = send(inst, "list@example.test", ("to the list",))
        inst.wait_mbox("phjonas", "to the list")
        inst.wait_mbox("phalice", "to the list")
        inst.wait_log(local_line(qid, "phalice@mail.example.test", "sent",
                                 "delivered to mailbox", orig="list@example.test"))


# ---- address forms ----------------------------------------------------------

def test_recipient_delimiter():
    with Instance("delim", main={"recipient_delimiter": "+"}) as inst:
        inst.write_aliases("postmaster: root\nphjonas+tag: phalice\nteam: phedison\n")
        inst.start()
        q1 = send(inst, "phedison+news@example.test", ("with extension",))
        box = inst.wait_mbox("phedison", "with extension")
        assert "Delivered-To: phedison+news@example.test" in box
        inst.wait_log(local_line(q1, "phedison+news@example.test", "sent",
                                 "delivered to mailbox"))
        # the alias for user+ext wins over the user
        send(inst, "phjonas+tag@example.test", ("alias of the extension",))
        inst.wait_mbox("phalice", "alias of the extension")
        # no alias for team+x: the alias for team
        send(inst, "team+x@example.test", ("team extension",))
        inst.wait_mbox("phedison", "team extension")
        assert "alias of the extension" not in inst.mbox("phjonas")


def test_luser_relay():
    main = {"luser_relay": "phalice", "local_recipient_maps": ""}
    with Instance("luser", main=main) as inst:
        inst.start()
        qid = send(inst, "nosuchuser@example.test", ("for an unknown user",))
        inst.wait_mbox("phalice", "for an unknown user")
        inst.wait_log(local_line(qid, "phalice@mail.example.test", "sent",
                                 "delivered to mailbox", orig="nosuchuser@example.test"))


def test_unknown_user_bounces_without_luser_relay():
    with Instance("nouser", main={"local_recipient_maps": ""}) as inst:
        inst.start()
        qid = send(inst, "nosuchuser@example.test")
        inst.wait_log(local_line(qid, "nosuchuser@example.test", "bounced",
                                 re.escape('unknown user: "nosuchuser"')))


# ---- mailbox ---------------------------------------------------------------

def test_mailbox_command_exit_codes():
    with Instance("mbcmd") as inst:
        d = scratch_dir(inst)
        script = os.path.join(inst.dir, "deliver.sh")
        with open(script, "w") as f:
            f.write('case "$USER" in\n'
                    '  phjonas) echo "try later" ; exit 75 ;;\n'
                    '  phalice) echo "no such mailbox" ; exit 67 ;;\n'
                    'esac\n'
                    'cat > %s/"$USER".out\n' % d)
        os.chmod(script, 0o755)
        inst.params["mailbox_command"] = "/bin/sh %s" % script
        inst.write_main()
        inst.start()
        q1 = send(inst, "phedison@example.test", ("through the mailbox command",))
        q2 = send(inst, "phjonas@example.test")
        q3 = send(inst, "phalice@example.test")
        text = wait_file(os.path.join(d, "phedison.out"), "through the mailbox command")
        assert text.startswith("From jonas@example.test ")
        inst.wait_log(local_line(q1, "phedison@example.test", "sent",
                                 re.escape("delivered to command: /bin/sh %s" % script)))
        inst.wait_log(local_line(q2, "phjonas@example.test", "deferred",
                                 r"temporary failure\. Command output: try later ?"))
        inst.wait_log(local_line(q3, "phalice@example.test", "bounced",
                                 r"user unknown\. Command output: no such mailbox ?"))
        assert re.search(r"%s: to=<phjonas@example.test>, .*dsn=4\.3\.0" % q2, inst.log())
        assert re.search(r"%s: to=<phalice@example.test>, .*dsn=5\.1\.1" % q3, inst.log())


def test_bad_parameter_is_fatal_with_name_and_value():
    """A value local cannot use stops it at start-up, as in Postfix; it is
    not replaced by a default of its own (it used to be, silently)."""
    with Instance("badparam", main={"deliver_lock_delay": "1x"}) as inst:
        inst.start()
        send(inst, "phedison@example.test", ("never delivered",))
        inst.wait_log(r"postfix/local\[\d+\]: fatal: parameter deliver_lock_delay: "
                      r"bad time value or unit: 1x")
        assert inst.mbox("phedison") == ""


def test_mailbox_size_limit():
    main = {"mailbox_size_limit": "20000", "message_size_limit": "20000"}
    with Instance("mbsize", main=main) as inst:
        inst.start()
        path = os.path.join(inst.spool, "phedison")
        with open(path, "w") as f:
            f.write("From old@example.test Mon Jan  1 00:00:00 2024\n" + "x" * 18000 + "\n\n")
        pw = pwd.getpwnam("phedison")
        os.chown(path, pw.pw_uid, pw.pw_gid)
        os.chmod(path, 0o600)
        qid = send(inst, "phedison@example.test", ["y" * 70] * 60)
        inst.wait_log(local_line(qid, "phedison@example.test", "bounced",
                                 r"cannot update mailbox %s for user phedison\. .*File too large"
                                 % re.escape(path)))
        assert re.search(r"%s: to=<phedison@example.test>, .*dsn=5\.2\.2" % qid, inst.log())
        # the mailbox is left as it was
        assert os.path.getsize(path) == len("From old@example.test Mon Jan  1 00:00:00 2024\n") + 18002


def test_delivered_to_loop_bounces():
    with Instance("loop") as inst:
        inst.start()
        qid = send(inst, "phedison@example.test", ("looping",),
                   headers=("Delivered-To: phedison@example.test",))
        inst.wait_log(local_line(qid, "phedison@example.test", "bounced",
                                 re.escape("mail forwarding loop for phedison@example.test")))
        assert re.search(r"%s: to=<phedison@example.test>, .*dsn=5\.4\.6" % qid, inst.log())
        assert inst.mbox("phedison") == ""


def test_mbox_format_owner_and_mode():
    with Instance("mbox") as inst:
        inst.start()
        send(inst, "phalice@example.test", ("first line", "From here on it is quoted",
                                            ">From stays", "last line"))
        box = inst.wait_mbox("phalice", "last line")
        # "From sender  date": two spaces, as Postfix's local writes it
        assert re.match(r"From jonas@example\.test  \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\n", box), box[:80]
        assert "\n>From here on it is quoted\n" in box
        assert "\n>From stays\n" in box        # Postfix quotes only "From "
        assert box.endswith("last line\n\n")
        st = os.stat(os.path.join(inst.spool, "phalice"))
        assert st.st_uid == pwd.getpwnam("phalice").pw_uid
        assert stat.S_IMODE(st.st_mode) == 0o600


def test_maildir_tmp_not_writable_defers_then_delivers():
    """A Maildir whose tmp/ the recipient cannot write: deferred with
    Postfix's wording (the tmp/ file it would have created named), the
    message stays queued; once tmp/ is the user's again, a flush delivers
    it into new/ and tmp/ is left empty (the file there never had a name)."""
    import shutil
    md = home("phalice", "Maildir")
    shutil.rmtree(md, ignore_errors=True)
    try:
        for sub in ("", "tmp", "new", "cur"):
            os.makedirs(os.path.join(md, sub), mode=0o755, exist_ok=True)
            os.chown(os.path.join(md, sub), 0, 0)   # root's: the user cannot write
        with Instance("mdperm", main={"home_mailbox": "Maildir/"}) as inst:
            inst.start()
            qid = send(inst, "phalice@example.test", ("into the maildir",))
            inst.wait_log(local_line(
                qid, "phalice@example.test", "deferred",
                r"maildir delivery failed: create maildir file %s/tmp/\d+\.M\d+P\d+Q\d+\.[^:]+: "
                r"Permission denied" % re.escape(md)))
            assert qid in inst.cmd("postqueue", "-p").stdout
            pw = pwd.getpwnam("phalice")
            for sub in ("", "tmp", "new", "cur"):
                os.chown(os.path.join(md, sub), pw.pw_uid, pw.pw_gid)
            inst.cmd("postqueue", "-f", check=True)
            files = wait_for(lambda: os.listdir(os.path.join(md, "new")), 30, "maildir file")
            with open(os.path.join(md, "new", files[0])) as f:
                assert "into the maildir" in f.read()
            assert os.listdir(os.path.join(md, "tmp")) == []
            st = os.stat(os.path.join(md, "new", files[0]))
            assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (pw.pw_uid, 0o600)
    finally:
        shutil.rmtree(md, ignore_errors=True)
