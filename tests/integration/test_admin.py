"""
test_admin.py - the administrator's tools through a real instance:
postlog (maillog_file via postlogd), postconf on main.cf and master.cf
(-n -e -d -M -F -P -Me -Fe -Pe -PX -MX), and postsuper -r sending a
queued message through pickup and cleanup again, so that a canonical
mapping added after the message was queued changes its sender.
"""
import os
import re

from posthorn import Instance, run, sbin, wait_for


def postconf(inst, *args):
    return inst.cmd("postconf", *args)


def test_postlog_lines_in_maillog():
    with Instance("plog") as inst:
        inst.start()
        p = inst.cmd("postlog", "hello", "from", "the", "admin")
        assert p.returncode == 0, p.stderr
        inst.wait_log(r" mail postfix/postlog\[\d+\]: hello from the admin$")

        p = inst.cmd("postlog", "-p", "warning", "-t", "mytag/sub", "disk almost full")
        assert p.returncode == 0, p.stderr
        inst.wait_log(r"mytag/sub\[\d+\]: warning: disk almost full$")

        p = inst.cmd("postlog", "-p", "error", input="first line\nsecond\tline\n")
        assert p.returncode == 0, p.stderr
        inst.wait_log(r"postfix/postlog\[(\d+)\]: error: first line$")
        m = inst.wait_log(r"postfix/postlog\[(\d+)\]: error: second\?line$")
        first = re.search(r"postfix/postlog\[(\d+)\]: error: first line$", inst.log(), re.M)
        assert first.group(1) == m.group(1)         # one process, two lines

        p = inst.cmd("postlog", "-p", "bogus", "x")
        assert p.returncode == 1
        assert 'fatal: bad severity: "bogus"' in p.stderr
        # not a terminal: nothing on stderr for a good line
        p = inst.cmd("postlog", "quiet")
        assert p.returncode == 0 and p.stderr == ""


def test_postconf_main_cf():
    with Instance("pcmain") as inst:
        p = postconf(inst, "-e", "myhostname = edited.example.test", "relayhost=[10.0.0.1]")
        assert p.returncode == 0, p.stderr
        out = postconf(inst, "-n").stdout
        assert "myhostname = edited.example.test\n" in out, out
        assert "relayhost = [10.0.0.1]\n" in out, out
        assert postconf(inst, "-h", "myhostname").stdout == "edited.example.test\n"
        with open(os.path.join(inst.conf, "main.cf")) as f:
            text = f.read()
        assert len(re.findall(r"(?m)^myhostname", text)) == 1, text
        p = postconf(inst, "-d", "mail_version")
        assert re.match(r"mail_version = \d+\.\d+", p.stdout), p.stdout
        p = postconf(inst, "-X", "relayhost")
        assert p.returncode == 0
        assert "relayhost" not in postconf(inst, "-n").stdout


def test_postconf_master_show():
    with Instance("pcmaster") as inst:
        p = postconf(inst, "-M", "pickup/unix")
        assert p.stdout == ("pickup     unix  n       -       n       60      1       pickup\n"), p.stdout
        p = postconf(inst, "-F", "pickup/unix/wakeup", "pickup/unix/command")
        assert p.stdout == "pickup/unix/wakeup = 60\npickup/unix/command = pickup\n", p.stdout
        p = postconf(inst, "-F", "pickup/unix")
        assert p.stdout.splitlines()[3] == "pickup/unix/unprivileged = -", p.stdout
        p = postconf(inst, "-F", "pickup/unix/bogus")
        assert p.returncode == 1
        assert 'invalid service attribute name: "bogus"' in p.stderr
        p = postconf(inst, "-P", "nosuch/unix")
        assert p.returncode == 0 and 'warning: unmatched request: "nosuch/unix"' in p.stderr
        p = postconf(inst, "-Mn")
        assert p.returncode == 1 and "with option -M, do not specify -n" in p.stderr


def test_postconf_master_edit():
    with Instance("pcmedit") as inst:
        path = os.path.join(inst.conf, "master.cf")
        with open(path) as f:
            before = f.read()
        p = postconf(inst, "-Me", "relay2/unix = relay2 unix - - n - - smtp -o a=b")
        assert p.returncode == 0, p.stderr
        assert postconf(inst, "-M", "relay2").stdout == (
            "relay2     unix  -       -       n       -       -       smtp -o a=b\n")
        with open(path) as f:
            after = f.read()
        assert after.startswith(before), "other lines must stay as they were"
        assert after[len(before):].endswith("relay2     unix  -       -       n       -       -       smtp\n"
                                            "    -o a=b\n"), after[len(before):]

        assert postconf(inst, "-Pe", "relay2/unix/syslog_name=postfix/relay2",
                        "relay2/unix/a=c").returncode == 0
        assert postconf(inst, "-P", "relay2/unix").stdout == (
            "relay2/unix/a = c\nrelay2/unix/syslog_name = postfix/relay2\n")
        assert postconf(inst, "-Fe", "relay2/unix/process_limit=7").returncode == 0
        assert postconf(inst, "-F", "relay2/unix/process_limit").stdout == \
            "relay2/unix/process_limit = 7\n"
        assert postconf(inst, "-PX", "relay2/unix/a").returncode == 0
        assert postconf(inst, "-P", "relay2/unix").stdout == \
            "relay2/unix/syslog_name = postfix/relay2\n"

        p = postconf(inst, "-Pe", "relay2/unix/x=a b")
        assert p.returncode == 1 and "-Pe does not accept whitespace in parameter value" in p.stderr
        p = postconf(inst, "-Me", "bad/unix = bad unix - n n - 2")
        assert p.returncode == 1 and 'bad field count: "bad/unix = bad unix - n n - 2"' in p.stderr
        p = postconf(inst, "-Fe", "relay2/unix/wakeup=soon")
        assert p.returncode == 1 and 'invalid wakeup field "soon"' in p.stderr
        p = postconf(inst, "-Fe", "nosuch/unix/wakeup=1")
        assert p.returncode == 0 and 'unmatched service_name/type: "nosuch/unix/wakeup=1"' in p.stderr

        assert postconf(inst, "-M#", "relay2/unix").returncode == 0
        assert postconf(inst, "-M", "relay2").stdout == ""
        with open(path) as f:
            assert "\n#relay2     unix" in f.read()
        assert postconf(inst, "-MX", "relay2/unix").returncode == 0  # commented: not an entry
        p = postconf(inst, "-Me", "relay2/unix = relay2 unix - - n - - smtp")
        assert p.returncode == 0
        assert postconf(inst, "-MX", "relay2/unix").returncode == 0
        assert postconf(inst, "-M", "relay2").stdout == ""
        # master still reads the edited file
        inst.start()


def test_postsuper_requeue_redoes_canonical_mapping():
    main = {"default_transport": "nosuch"}
    with Instance("requeue", main=main) as inst:
        inst.start()
        s = inst.smtp()
        s.ehlo("client.example")
        s.mail("jonas@example.test")
        s.rcpt("phedison@example.test")
        s.rcpt("far@remote.example")
        code, text = s.data("Subject: requeue me\r\n\r\nbody text\r\n")
        s.quit()
        assert code == 250, (code, text)
        qid = re.search(r"queued as ([0-9A-F]+)", text.decode()).group(1)
        inst.wait_log(r"%s: to=<far@remote\.example>, .*status=deferred" % qid)
        inst.wait_mbox("phedison", r"Subject: requeue me")
        wait_for(lambda: qid in inst.queue_files("deferred"), 20, "deferred")

        # a mapping added after the message was queued
        canon = os.path.join(inst.conf, "sender_canonical")
        with open(canon, "w") as f:
            f.write("jonas@example.test boss@example.test\n")
        inst.cmd("postmap", canon, check=True)
        inst.cmd("postconf", "-e", "sender_canonical_maps = hash:" + canon, check=True)
        inst.cmd("postfix", "reload", check=True)

        p = inst.cmd("postsuper", "-r", qid)
        assert p.returncode == 0, p.stderr
        assert p.stderr == "postsuper: %s: requeued\npostsuper: Requeued: 1 message\n" % qid
        m = inst.wait_log(r"postfix/pickup\[\d+\]: ([0-9A-F]+): uid=\d+ "
                          r"from=<jonas@example\.test> orig_id=%s" % qid)
        new = m.group(1)
        assert new != qid
        inst.wait_log(r"%s: from=<boss@example\.test>" % new)
        inst.wait_log(r"%s: to=<far@remote\.example>, .*status=deferred" % new)
        wait_for(lambda: new in inst.queue_files("deferred"), 20, "new id deferred")
        assert qid not in inst.queue_files("deferred") + inst.queue_files("maildrop")
        assert qid not in inst.queue_files("defer")
        out = inst.cmd("postqueue", "-p").stdout
        assert "boss@example.test" in out and "jonas@" not in out, out
        # the delivered recipient was not sent again
        assert not re.search(r"%s: to=<phedison@" % new, inst.log())
        assert inst.mbox("phedison").count("Subject: requeue me") == 1
