"""
test_postfix_queue.py - switching from Postfix to posthorn with mail in the
queue: the queue files Postfix 3.7 wrote (tests/data/postfix-queue/queue,
made by make.sh there with Debian's postfix; only the files are needed
here) are copied into an instance's queue, in Postfix's hashed
directories, before it starts.

posthorn must list them (postqueue -p, as Postfix's mailq listed them:
mailq.txt), deliver the deferred mail, the mail in incoming/ and the
maildrop file to the next hop byte for byte, keep held mail held until
postsuper -H, delete with postsuper -d, and requeue with postsuper -r.
"""
import os
import pwd
import re
import shutil
import time

from posthorn import Instance, wait_for
from smtp_sink import SmtpSink

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "postfix-queue")
QUEUE = os.path.join(DATA, "queue")


def records(path):
    """(type, data) of each record of a queue file up to END, following
    Postfix's pointer records (milter edits) and skipping its padding."""
    with open(path, "rb") as f:
        d = f.read()
    i, out, jumps = 0, [], 0
    while i < len(d):
        t = chr(d[i])
        i += 1
        n = shift = 0
        while True:
            c = d[i]
            i += 1
            n |= (c & 0x7F) << shift
            shift += 7
            if not c & 0x80:
                break
        v, i = d[i:i + n], i + n
        if t == "p":
            if int(v) > 0:
                i, jumps = int(v), jumps + 1
                assert jumps < 1000, path
            continue
        if t == "w":
            continue
        out.append((t, v))
        if t == "E":
            break
    return out


def envelope(path):
    """sender, recipients still to deliver, content (CRLF lines) of a file."""
    sender, rcpts, body, section = None, [], b"", 0
    for t, v in records(path):
        if t == "M":
            section = 1
        elif t == "X":
            section = 2
        elif section == 1 and t == "N":
            body += v + b"\r\n"
        elif section == 1 and t == "L":
            body += v
        elif section != 1 and t == "S":
            sender = v.decode()
        elif section != 1 and t == "R":
            rcpts.append(v.decode())
        elif section != 1 and t == "L":
            rcpts = []                  # a content filter: not for the relayhost
            sender = "<filter>"
    return sender, rcpts, body


def postfix_files(queue, top=QUEUE):
    out = {}
    for root, _, files in os.walk(os.path.join(top, queue)):
        for f in files:
            out[f] = os.path.join(root, f)
    return out


def install_queue(inst, incoming_id=None, top=QUEUE):
    """Copy Postfix's queue into the instance while it is stopped (after
    a first start made the queue directories, as installing does), owned
    by mail_owner as Postfix's were; one deferred file goes to incoming/."""
    pw = pwd.getpwnam("postfix")
    inst.start()
    inst.stop()
    for queue in ("deferred", "defer", "hold", "maildrop"):
        for qid, src in postfix_files(queue, top).items():
            rel = os.path.relpath(src, top)
            if qid == incoming_id and queue == "deferred":
                rel = os.path.join("incoming", qid)
            elif qid == incoming_id:
                continue
            dst = os.path.join(inst.queue, rel)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copy2(src, dst)
            if queue != "maildrop":
                os.chown(dst, pw.pw_uid, pw.pw_gid)
            else:               # git keeps only 0644/0755: Postfix's postdrop left 0744
                os.chmod(dst, 0o744)
            past = time.time() - 3600
            os.utime(dst, (past, past))
    for root, dirs, _ in os.walk(inst.queue):
        for d in dirs:
            if root != inst.queue:
                os.chown(os.path.join(root, d), pw.pw_uid, pw.pw_gid)


def blocks(listing):
    """mailq listing -> {id+status: (size, sender, sorted recipients)}."""
    out = {}
    for block in listing.strip().split("\n\n"):
        lines = [l for l in block.split("\n")
                 if l and not l.startswith("-") and not l.lstrip().startswith("(")]
        if not lines:
            continue
        head = lines[0].split()
        out[head[0].rstrip("*")] = (head[1], head[-1], sorted(l.strip() for l in lines[1:]))
    return out


def test_postqueue_lists_postfix_queue():
    with Instance("pfq-list", main={"default_transport": "nosuch"}) as inst:
        install_queue(inst)
        inst.start()
        with open(os.path.join(DATA, "mailq.txt")) as f:
            want = blocks(f.read())

        def listed():
            # One walk of the queue directories can miss a message that qmgr
            # moves at that moment (Postfix's showq too): ask again until
            # the listing has settled.
            p = inst.cmd("postqueue", "-p")
            assert p.returncode == 0, p.stderr
            listed.out = p.stdout
            have = blocks(p.stdout)
            return all(have.get(qid) == block for qid, block in want.items())
        try:
            wait_for(listed, 20, "postqueue -p listing Postfix's queue as Postfix does")
        except AssertionError as e:
            raise AssertionError("%s:\n%s" % (e, listed.out))
        assert "corrupt" not in inst.log()
        assert inst.queue_files("corrupt") == []
        # posthorn's postcat -q prints Postfix's files as Postfix's postcat does
        for qid in postfix_files("hold"):
            p = inst.cmd("postcat", "-q", qid)
            assert p.returncode == 0, p.stderr
            with open(os.path.join(DATA, "postcat", qid + ".txt"), errors="replace") as f:
                theirs = [l for l in f.read().splitlines()
                          if l.startswith(("sender:", "recipient:", "named_attribute: dsn",
                                           "message_size:"))]
            assert theirs and all(l in p.stdout.splitlines() for l in theirs), (theirs, p.stdout)
            assert "*** MESSAGE FILE END hold/%s ***" % qid in p.stdout
        # postsuper -h on a file in Postfix's hashed deferred/0/...
        qid = sorted(postfix_files("deferred"))[0]
        wait_for(lambda: qid in inst.queue_files("deferred"), 20, "%s back in deferred/" % qid)
        p = inst.cmd("postsuper", "-h", qid)
        assert "Placed on hold: 1 message" in p.stderr, p.stderr
        assert os.path.exists(os.path.join(inst.queue, "hold", qid))
        assert re.search(r"(?m)^%s!" % qid, inst.cmd("postqueue", "-p").stdout)


def test_postfix_mail_is_delivered_byte_exact():
    deferred = postfix_files("deferred")
    incoming_id = sorted(deferred)[0]
    with SmtpSink() as sink:
        main = {"relayhost": "[127.0.0.1]:%d" % sink.port, "smtp_line_length_limit": "0"}
        with Instance("pfq-deliver", main=main) as inst:
            install_queue(inst, incoming_id)
            inst.start()
            want = {}
            for qid, path in deferred.items():
                sender, rcpts, body = envelope(path)
                if rcpts:
                    want[qid] = (sender, rcpts, body)
            n = len(want) + 1                       # + the maildrop file
            # by content, not count: notices (DSNs) reach the sink too,
            # and in any order
            wait_for(lambda: len(sink.transactions) >= n and all(
                any(t["body"] == body for t in sink.transactions)
                for _, _, body in want.values()), 60, "%d deliveries" % n)
            got = sink.transactions
            for qid, (sender, rcpts, body) in want.items():
                match = [t for t in got if t["body"] == body]
                assert match, (qid, [t["body"][:200] for t in got])
                t = match[0]
                assert t["mail"].startswith("MAIL FROM:<%s>" % sender), t["mail"]
                assert sorted(re.search(r"<(.*?)>", r).group(1) for r in t["rcpts"]) == sorted(rcpts)
            milter = [t for t in got if b"X-Milter-Added: yes" in t["body"]]
            assert milter and b"Subject: milter edited" in milter[0]["body"]
            drop = [t for t in got if b"body eight" in t["body"]]
            assert drop and sorted(re.search(r"<(.*?)>", r).group(1) for r in drop[0]["rcpts"]) \
                == ["g@example.net", "h@example.net"]
            inst.wait_log(r"connect to 127\.0\.0\.1\[127\.0\.0\.1\]:2: Connection refused")
            # Held mail stays held; the content-filter message waits for its filter.
            assert len(inst.queue_files("hold")) == 2
            held = postfix_files("hold")
            ids = sorted(held)
            p = inst.cmd("postsuper", "-d", ids[0])
            assert p.returncode == 0 and "Deleted: 1 message" in p.stderr, p.stderr
            p = inst.cmd("postsuper", "-H", ids[1])
            assert "Released from hold: 1 message" in p.stderr, p.stderr
            inst.cmd("postqueue", "-f")
            body = envelope(held[ids[1]])[2]
            wait_for(lambda: any(t["body"] == body for t in sink.transactions), 30,
                     "released message delivered")
            assert not any(t["body"] == envelope(held[ids[0]])[2] for t in sink.transactions)
            assert inst.queue_files("corrupt") == []


def test_postsuper_requeue_postfix_file():
    """postsuper -r on Postfix's held file: pickup sends it through cleanup
    again (posthorn's requeue grammar takes Postfix's records) and it is
    delivered with its envelope."""
    held = postfix_files("hold")
    with SmtpSink() as sink:
        main = {"relayhost": "[127.0.0.1]:%d" % sink.port, "smtp_line_length_limit": "0"}
        with Instance("pfq-requeue", main=main) as inst:
            install_queue(inst)
            # The milter-edited file (pointer records) is held too.
            milter = [p for p in postfix_files("deferred").values()
                      if b"X-Milter-Added" in open(p, "rb").read()][0]
            mid = os.path.basename(milter)
            os.rename(os.path.join(inst.queue, os.path.relpath(milter, QUEUE)),
                      os.path.join(inst.queue, "hold", mid))
            held[mid] = milter
            for q in ("deferred", "defer", "maildrop"):      # only the held mail
                for root, _, files in os.walk(os.path.join(inst.queue, q)):
                    for f in files:
                        os.unlink(os.path.join(root, f))
            inst.start()
            for n, qid in enumerate((sorted(held)[0], mid), 1):
                sender, rcpts, body = envelope(held[qid])
                p = inst.cmd("postsuper", "-r", qid)
                assert "Requeued: 1 message" in p.stderr, p.stderr
                t = sink.wait(n)
                assert t["mail"].startswith("MAIL FROM:<%s>" % sender), t["mail"]
                assert [re.search(r"<(.*?)>", r).group(1) for r in t["rcpts"]] == rcpts
                assert t["body"].endswith(body.split(b"\r\n\r\n", 1)[1]), t["body"]
            assert b"Subject: held by access" in sink.transactions[0]["body"]
            assert b"X-Milter-Added: yes" in sink.transactions[1]["body"]
            assert inst.queue_files("corrupt") == []


SASL_DATA = os.path.join(DATA, "..", "postfix-sasl-queue")


def test_postfix_sasl_attributes_read_and_delivered():
    """A Postfix 3.7 file of mail sent after SMTP AUTH (make.sh in
    tests/data/postfix-sasl-queue): its sasl_method, sasl_username and
    sasl_sender records are accepted, postcat shows them as Postfix's
    postcat does, and they reach a pipe command as ${sasl_method},
    ${sasl_username} and ${sasl_sender}."""
    from test_pipe import ScriptDir
    top = os.path.join(SASL_DATA, "queue")
    (qid, path), = postfix_files("deferred", top).items()
    with ScriptDir() as sd, \
            Instance("pfq-sasl", main={"default_transport": "scriptpipe"},
                     master_extra="scriptpipe unix - n n - - pipe user=nobody argv=%s "
                     "m=${sasl_method} u=${sasl_username} s=${sasl_sender}\n"
                     % sd.script) as inst:
        install_queue(inst, top=top)
        inst.start()
        p = inst.cmd("postcat", "-q", qid)
        assert p.returncode == 0, p.stderr
        with open(os.path.join(SASL_DATA, "postcat", qid + ".txt")) as f:
            theirs = [l for l in f.read().splitlines() if l.startswith("named_attribute: sasl_")]
        assert len(theirs) == 3 and all(l in p.stdout.splitlines() for l in theirs), \
            (theirs, p.stdout)
        inst.cmd("postqueue", "-f")
        (args, msg, uid, env), = sd.runs(1)
        assert args == ["m=PLAIN", "u=alice@example.test", "s=<alice@example.test>"], args
        assert b"Subject: after AUTH" in msg
        assert "corrupt" not in inst.log()
