"""
test_queue_tools.py - the administrator's queue tools through a real
instance: showq + postqueue -p/-j/-f/-i, postsuper -d/-h/-H/-r, postcat -q.

Mail is kept in the queue with default_transport = nosuch: there is no
private/nosuch socket, so qmgr defers it with "mail transport unavailable"
and writes the reason to defer/ID, which the listing shows.
"""
import json
import os
import pwd
import re
import stat

from posthorn import Instance, run, sbin, setgid_programs, wait_for

DEFER_MAIN = {"default_transport": "nosuch"}
HEADER = "-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------"


def defer_one(inst, rcpts=("a@remote.example", "b@remote.example"), subject="queued"):
    """Send one message that qmgr defers; returns its queue id."""
    s = inst.smtp()
    s.ehlo("client.example")
    s.mail("jonas@example.test")
    for r in rcpts:
        s.rcpt(r)
    code, text = s.data("Subject: %s\r\n\r\nbody text\r\n" % subject)
    s.quit()
    assert code == 250, (code, text)
    qid = re.search(r"queued as ([0-9A-F]+)", text.decode()).group(1)
    for r in rcpts:
        inst.wait_log(r"%s: to=<%s>, .*status=deferred \(mail transport unavailable\)"
                      % (qid, re.escape(r)))
    wait_for(lambda: qid in inst.queue_files("deferred"), 20, "%s in deferred/" % qid)
    return qid


def listing(inst, *args):
    p = inst.cmd("postqueue", *args)
    assert p.returncode == 0, p.stderr
    return p.stdout


def setgid_postqueue(inst):
    """postqueue set-gid, the test config directory allowed (posthorn.py)."""
    return setgid_programs(inst, "postqueue")


def as_user(inst, user, *args):
    return run(["runuser", "-u", user, "--", sbin("postqueue"), "-c", inst.conf] + list(args))


def check_text_listing(out, qid):
    lines = out.split("\n")
    assert lines[0] == HEADER, out
    m = re.match(r"^(%s) +(\d+) (\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d)  jonas@example\.test$" % qid,
                 lines[1])
    assert m, out
    assert len(lines[1]) - len("  jonas@example.test") == 39, out   # Postfix's columns
    assert lines[2] == "%78s" % "(mail transport unavailable)", out
    assert lines[3] == " " * 41 + "a@remote.example", out
    assert lines[4] == " " * 41 + "b@remote.example", out   # same reason: not repeated
    assert lines[5] == "", out
    assert lines[6] == "-- 0 Kbytes in 1 Request.", out


def test_postqueue_listing_root_and_user():
    with Instance("qlist", main=DEFER_MAIN) as inst:
        inst.start()
        qid = defer_one(inst)
        check_text_listing(listing(inst, "-p"), qid)
        # an ordinary user without the set-gid bit cannot reach public/showq
        # (make install sets the bit: take it away for this part)
        pq = sbin("postqueue")
        mode = stat.S_IMODE(os.stat(pq).st_mode)
        os.chmod(pq, 0o755)
        try:
            p = as_user(inst, "phedison", "-p")
        finally:
            os.chmod(pq, mode)
        assert p.returncode == 69, (p.returncode, p.stdout, p.stderr)
        assert "postqueue: fatal: Connect to the Postfix showq service: Permission denied" in p.stderr
        with setgid_postqueue(inst):
            p = as_user(inst, "phedison", "-p")
            assert p.returncode == 0, p.stderr
            check_text_listing(p.stdout, qid)
            p = as_user(inst, "phedison", "-j")
            assert p.returncode == 0, p.stderr
            assert json.loads(p.stdout)["queue_id"] == qid


def test_postqueue_json():
    with Instance("qjson", main=DEFER_MAIN) as inst:
        inst.start()
        qid = defer_one(inst)
        lines = listing(inst, "-j").splitlines()
        assert len(lines) == 1, lines
        obj = json.loads(lines[0])
        assert obj["queue_name"] == "deferred"
        assert obj["queue_id"] == qid
        assert isinstance(obj["arrival_time"], int) and obj["arrival_time"] > 1600000000
        assert obj["message_size"] > 0
        assert obj["forced_expire"] is False
        assert obj["sender"] == "jonas@example.test"
        assert obj["recipients"] == [
            {"address": "a@remote.example", "delay_reason": "mail transport unavailable"},
            {"address": "b@remote.example", "delay_reason": "mail transport unavailable"}]
        assert list(obj) == ["queue_name", "queue_id", "arrival_time", "message_size",
                             "forced_expire", "sender", "recipients"]


def test_postsuper_hold_release_delete():
    with Instance("qsuper", main=DEFER_MAIN) as inst:
        inst.start()
        qid = defer_one(inst)
        p = inst.cmd("postsuper", "-h", qid)
        assert p.returncode == 0, p.stderr
        assert p.stderr == "postsuper: %s: placed on hold\npostsuper: Placed on hold: 1 message\n" % qid
        assert inst.queue_files("hold") == [qid]
        out = listing(inst, "-p")
        assert out.split("\n")[1].startswith("%s!" % qid), out
        assert json.loads(listing(inst, "-j"))["queue_name"] == "hold"

        p = inst.cmd("postsuper", "-H", qid)
        assert p.returncode == 0, p.stderr
        assert p.stderr == ("postsuper: %s: released from hold\n"
                            "postsuper: Released from hold: 1 message\n" % qid)
        assert inst.queue_files("hold") == []
        # released mail is due at once: qmgr tries it again (and defers it again)
        wait_for(lambda: len(re.findall(r"%s: to=<a@remote.example>.*status=deferred" % qid,
                                        inst.log())) >= 2, 20, "second delivery attempt")
        wait_for(lambda: qid in inst.queue_files("deferred"), 20, "deferred again")
        assert "!" not in listing(inst, "-p")

        p = inst.cmd("postsuper", "-d", qid)
        assert p.returncode == 0, p.stderr
        assert p.stderr == "postsuper: %s: removed\npostsuper: Deleted: 1 message\n" % qid
        assert inst.queue_files("deferred") == [] and inst.queue_files("defer") == []
        assert listing(inst, "-p") == "Mail queue is empty\n"
        assert listing(inst, "-j") == ""
        assert re.search(r"postfix/postsuper\[\d+\]: %s: removed" % qid, inst.log())


def test_postsuper_delete_all_and_bad_input():
    with Instance("qall", main=DEFER_MAIN) as inst:
        inst.start()
        q1 = defer_one(inst, ("a@remote.example",), "one")
        q2 = defer_one(inst, ("b@remote.example",), "two")
        out = listing(inst, "-p")
        assert "-- 0 Kbytes in 2 Requests." in out and q1 in out and q2 in out, out
        # Postfix: an invalid id is a warning, an unknown one just not counted
        p = inst.cmd("postsuper", "-d", "bad/id", "-d", "NOSUCH1")
        assert p.returncode == 0
        assert p.stderr == ("postsuper: warning: invalid mail queue id: bad/id\n"
                            "postsuper: Deleted: 0 messages\n"), p.stderr
        p = inst.cmd("postsuper", "-x")
        assert p.returncode == 1
        assert "postsuper: invalid option -- 'x'" in p.stderr
        assert "postsuper: fatal: usage: postsuper " in p.stderr
        p = inst.cmd("postsuper", "-d", "ALL", "nosuchqueue")
        assert p.returncode == 1 and "postsuper: fatal: invalid directory name: nosuchqueue" in p.stderr
        # "all" must be upper case; ids from standard input
        p = inst.cmd("postsuper", "-d", "-", input="%s\n" % q1)
        assert p.stderr.endswith("postsuper: Deleted: 1 message\n"), p.stderr
        p = inst.cmd("postsuper", "-d", "ALL")
        assert p.stderr == "postsuper: %s: removed\npostsuper: Deleted: 1 message\n" % q2, p.stderr
        assert listing(inst, "-p") == "Mail queue is empty\n"
        p = run([sbin("postsuper"), "-c", inst.conf, "-d", "ALL"], env=None)
        assert p.returncode == 0
        p = run(["runuser", "-u", "phedison", "--", sbin("postsuper"), "-c", inst.conf, "-d", "ALL"])
        assert p.returncode == 1
        assert "postsuper: fatal: use of this command is reserved for the superuser" in p.stderr


def test_postqueue_flush_and_errors():
    with Instance("qflush", main=DEFER_MAIN) as inst:
        inst.start()
        qid = defer_one(inst, ("a@remote.example",))
        attempts = lambda: len(re.findall(r"%s: to=<a@remote.example>.*status=deferred" % qid,
                                          inst.log()))
        p = inst.cmd("postqueue", "-f")
        assert p.returncode == 0 and p.stdout == "" and p.stderr == "", p
        wait_for(lambda: attempts() >= 2, 20, "retry after postqueue -f")
        wait_for(lambda: qid in inst.queue_files("deferred"), 20, "deferred again")
        p = inst.cmd("postqueue", "-i", qid)
        assert p.returncode == 0, p.stderr
        wait_for(lambda: attempts() >= 3, 20, "retry after postqueue -i")
        for args, text in ((["-x"], "postqueue: fatal: usage: postqueue -f | postqueue -i queueid"
                                    " | postqueue -j | postqueue -p | postqueue -s site"),
                           ([], "postqueue: fatal: usage: "),
                           (["-p", "-j"], "postqueue: fatal: usage: "),
                           (["-i", "bad/x"], 'postqueue: fatal: Cannot flush queue ID - invalid name: "bad/x"')):
            p = inst.cmd("postqueue", *args)
            assert p.returncode == 69, (args, p.returncode)
            assert text in p.stderr, (args, p.stderr)


def test_postcat_shows_queue_file():
    with Instance("qcat", main=DEFER_MAIN) as inst:
        inst.start()
        qid = defer_one(inst, ("a@remote.example",), "cat me")
        p = inst.cmd("postcat", "-q", qid)
        assert p.returncode == 0, p.stderr
        lines = p.stdout.splitlines()
        name = "deferred/%s/%s" % (qid[0], qid)    # hashed, as Postfix's postcat shows it
        assert lines[0] == "*** ENVELOPE RECORDS %s ***" % name
        assert re.match(r"message_size:( +\d+){2} +1( +\d+){3}$", lines[1]), lines[1]
        assert re.match(r"message_arrival_time: \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}$", lines[2])
        assert "sender: jonas@example.test" in lines
        assert "recipient: a@remote.example" in lines
        i = lines.index("*** MESSAGE CONTENTS %s ***" % name)
        assert "Subject: cat me" in lines[i:] and "body text" in lines[i:]
        assert lines[-2:] == ["*** HEADER EXTRACTED %s ***" % name, "*** MESSAGE FILE END %s ***" % name]
        p = inst.cmd("postcat", "-h", "-q", qid)
        assert "Subject: cat me" in p.stdout and "body text" not in p.stdout and "***" not in p.stdout
        p = inst.cmd("postcat", "-b", "-q", qid)
        assert p.stdout == "\nbody text\n", p.stdout
        p = inst.cmd("postcat", "-q", "NOSUCH1")
        assert p.returncode == 1
        assert "postcat: fatal: open queue file NOSUCH1: No such file or directory" in p.stderr


def test_mailq_and_flush_users_are_enforced():
    """authorized_mailq_users / authorized_flush_users: a user not in the
    list gets Postfix's refusal (exit 69, nothing listed or flushed);
    listed users may; root and mail_owner always may; mailq (sendmail
    -bp) goes through the same check."""
    main = dict(DEFER_MAIN, authorized_mailq_users="root, PHJonas",
                authorized_flush_users="!phedison, static:anyone")
    with Instance("qacl", main=main) as inst:
        inst.start()
        qid = defer_one(inst, ("a@remote.example",))
        edison = pwd.getpwnam("phedison").pw_uid
        view = "postqueue: fatal: User phedison(%d) is not allowed to view the mail queue\n" % edison
        flush = "postqueue: fatal: User phedison(%d) is not allowed to flush the mail queue\n" % edison
        with setgid_postqueue(inst):
            for args, text in ((["-p"], view), (["-j"], view), (["-f"], flush),
                               (["-s", "remote.example"], flush), (["-i", qid], flush)):
                p = as_user(inst, "phedison", *args)
                assert (p.returncode, p.stdout, p.stderr) == (69, "", text), (args, p)
            p = run(["runuser", "-u", "phedison", "--", sbin("sendmail"), "-c", inst.conf, "-bp"])
            assert (p.returncode, p.stdout, p.stderr) == (69, "", view), p
            # a uid without a passwd entry is "unknown" (not in the list either)
            p = run(["setpriv", "--reuid=64999", "--regid=64999", "--clear-groups",
                     sbin("postqueue"), "-c", inst.conf, "-p"])
            assert (p.returncode, p.stderr) == (
                69, "postqueue: fatal: User unknown(64999) is not allowed to view the mail queue\n"), p
            # listed (names match without regard to case), root, mail_owner
            for user in ("phjonas", "postfix"):
                p = as_user(inst, user, "-p")
                assert p.returncode == 0 and qid in p.stdout, (user, p)
                p = as_user(inst, user, "-f")
                assert (p.returncode, p.stderr) == (0, ""), (user, p)
            assert qid in listing(inst, "-p")            # root
        # the empty list refuses everyone but root and mail_owner
        inst.params["authorized_mailq_users"] = ""
        inst.write_main()
        with setgid_postqueue(inst):
            p = as_user(inst, "phjonas", "-p")
            assert p.returncode == 69 and "User phjonas(" in p.stderr, p
            assert as_user(inst, "postfix", "-p").returncode == 0
