#!/bin/sh
# postfix-roundtrip.sh - rolling back from posthorn to Postfix with mail in
# the queue: Postfix 3.7's own programs (Debian's postfix package) read the
# queue posthorn wrote.
#
# Not part of `make check` (it needs the postfix package; it installs
# nothing: posthorn goes into a temporary DESTDIR, Postfix runs from a
# private config directory). Run as root from the top of the tree, after
# `make`:  tests/postfix-roundtrip.sh
#
# 1. A posthorn instance (tests/integration/posthorn.py) queues mail with
#    relayhost on a dead port: several recipients with DSN NOTIFY/ORCPT/
#    ENVID/RET, 8BITMIME, a 3000-byte line, a null sender, one message
#    partly delivered (discard), one with a content filter, one held with
#    postsuper -h, and a maildrop file left while posthorn is stopped.
# 2. posthorn is stopped. With a Postfix config whose queue_directory is
#    posthorn's queue: Postfix's postcat -q reads every file, qshape counts
#    the deferred queue, Postfix's master starts, postqueue -p lists the
#    queue, and Postfix delivers the deferred mail, the maildrop file and
#    (after postsuper -H) the held message to a capture server, byte for
#    byte; nothing goes to corrupt/.
# Prints each step; exits 0 when all hold.
set -eu
cd "$(dirname "$0")/.."
. tests/postfix_side.sh
need_postfix /usr/sbin/postfix /usr/sbin/postcat /usr/sbin/qshape /usr/lib/postfix/sbin/master
install_root roundtrip
POSTHORN_ROOT=$root python3 - <<'EOF'
import os, re, shutil, subprocess, sys, tempfile, time
sys.path.insert(0, "tests/integration")
import posthorn
from posthorn import Instance, wait_for
from smtp_sink import SmtpSink
sys.path.insert(0, "tests/integration")
from test_postfix_queue import envelope

posthorn.ROOT = os.environ["POSTHORN_ROOT"]
posthorn.ensure_system_accounts()


def step(text):
    print("== " + text, flush=True)


def pf(etc, *args, check=True):
    p = subprocess.run(list(args[:1]) + ["-c", etc] + list(args[1:]),
                       capture_output=True, text=True, errors="replace")
    if check and p.returncode != 0:
        raise SystemExit("%s failed: %s%s" % (" ".join(args), p.stdout, p.stderr))
    return p


def send(inst, frm, rcpts, body, mopts=(), ropts=()):
    s = inst.smtp()
    s.ehlo("client.example")
    s.sendmail(frm, rcpts, body, list(mopts), list(ropts))
    s.quit()


def queued(inst):
    out = {}
    for q in ("incoming", "active", "deferred", "hold", "maildrop"):
        for root, _, files in os.walk(os.path.join(inst.queue, q)):
            for f in files:
                out[f] = os.path.join(root, f)
    return out


hdr = "From: Sender <sender@remote.example>\r\nSubject: %s\r\n"
main = {"relayhost": "[127.0.0.1]:1", "smtpd_peername_lookup": "no",
        "transport_maps": "inline:{discard.example=discard:}",
        "smtpd_recipient_restrictions":
            "check_recipient_access inline:{{filter@example.net=FILTER smtp:[127.0.0.1]:2}}, "
            "permit_mynetworks, reject"}
inst = Instance("roundtrip", main=main)
pfdir = tempfile.mkdtemp(prefix="pf-roundtrip-", dir="/tmp")
os.chmod(pfdir, 0o755)
ok = False
try:
    step("posthorn queues mail (relayhost down)")
    inst.start()
    body1 = (hdr % "dsn multi" + "MIME-Version: 1.0\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
             "caf\xe9 8bit\r\n" + "L" * 3000 + "\r\nlast\r\n").encode("latin-1")
    send(inst, "sender@remote.example", ["a@example.net", "b@example.net"], body1,
         ["BODY=8BITMIME", "RET=HDRS", "ENVID=env-1"],
         ["NOTIFY=SUCCESS,FAILURE", "ORCPT=rfc822;Orig@example.net"])
    send(inst, "sender@remote.example", ["gone@discard.example", "d@example.net"],
         (hdr % "partly delivered" + "\r\nbody two\r\n").encode())
    send(inst, "", ["f@example.net"], (hdr % "null sender" + "\r\nbody three\r\n").encode())
    send(inst, "sender@remote.example", ["filter@example.net"],
         (hdr % "filtered" + "\r\nbody four\r\n").encode())
    send(inst, "sender@remote.example", ["e@example.net"],
         (hdr % "to be held" + "\r\nbody five\r\n").encode(), [], ["NOTIFY=DELAY"])
    wait_for(lambda: len([f for root, _, fs in os.walk(os.path.join(inst.queue, "defer"))
                          for f in fs]) >= 5, 60, "5 defer logs")
    held = [i for i, p in queued(inst).items() if b"body five" in open(p, "rb").read()][0]
    p = inst.cmd("postsuper", "-h", held)
    print(p.stderr.strip())
    inst.stop()
    p = subprocess.run([posthorn.sbin("sendmail"), "-C", inst.conf, "-f", "local@example.test",
                        "-N", "success,delay", "-R", "hdrs", "-V", "env-6", "g@example.net"],
                       input=b"Subject: left in maildrop\n\nbody six\n", capture_output=True)
    files = queued(inst)
    want = {}                           # what the next hop must receive
    for qid, path in files.items():
        if qid != held and "/maildrop/" not in path:
            sender, rcpts, body = envelope(path)
            if rcpts:
                want[qid] = (sender, rcpts, body)
    print("posthorn's queue:", ", ".join(sorted(os.path.relpath(p, inst.queue)
                                                for p in files.values())))

    step("Postfix's config on posthorn's queue directory")
    with SmtpSink() as sink:
        etc = os.path.join(pfdir, "etc")
        os.makedirs(etc)
        os.makedirs(os.path.join(pfdir, "data"))
        shutil.chown(os.path.join(pfdir, "data"), "postfix")
        with open("/usr/share/postfix/master.cf.dist") as f:
            master = f.read()
        master = re.sub(r"(?m)^smtp(\s+)inet", r"127.0.0.1:%d\1inet" % posthorn.free_port(),
                        master)
        master = re.sub(r"(?m)^([a-z].*?\s+(unix|inet|fifo|pass|unix-dgram)\s+\S+\s+\S+\s+)[y-]",
                        r"\1n", master)
        with open(os.path.join(etc, "master.cf"), "w") as f:
            f.write(master)
        with open(os.path.join(etc, "main.cf"), "w") as f:
            f.write("compatibility_level = 3.6\nqueue_directory = %s\ndata_directory = %s/data\n"
                    "myhostname = pf.example\nmydestination =\ninet_interfaces = 127.0.0.1\n"
                    "inet_protocols = ipv4\nmaillog_file = %s/maillog\nmaillog_file_prefixes = /tmp\n"
                    "relayhost = [127.0.0.1]:%d\nalias_maps =\nalias_database =\n"
                    "smtputf8_enable = no\nsmtp_line_length_limit = 0\n"
                    % (inst.queue, pfdir, pfdir, sink.port))
        step("Postfix's postcat -q reads every file")
        for qid in sorted(files):
            p = pf(etc, "postcat", "-q", qid, check=False)
            bad = p.returncode != 0 or "warning" in p.stderr or "MESSAGE FILE END" not in p.stdout
            print("%s %s: %s" % ("FAIL" if bad else "ok  ", qid,
                                 p.stderr.strip() or p.stdout.splitlines()[1].strip()))
            if bad:
                raise SystemExit(p.stdout + p.stderr)
        step("Postfix's qshape")
        p = pf(etc, "qshape", "deferred")
        print(p.stdout.rstrip())
        assert re.search(r"(?m)^\s+TOTAL\s+5\b", p.stdout), p.stdout   # recipients
        step("Postfix starts on posthorn's queue: postqueue -p")
        pf(etc, "postfix", "start")
        try:
            time.sleep(1)
            p = pf(etc, "postqueue", "-p")
            print(p.stdout.rstrip())
            step("Postfix delivers posthorn's deferred mail and maildrop file")
            pf(etc, "postqueue", "-f")
            wait_for(lambda: len(sink.transactions) >= len(want) + 1, 120, "deliveries")
            for qid, (sender, rcpts, body) in want.items():
                t = [t for t in sink.transactions if t["body"] == body]
                assert t, (qid, [x["body"][:120] for x in sink.transactions])
                got = sorted(re.search(r"<(.*?)>", r).group(1) for r in t[0]["rcpts"])
                assert got == sorted(rcpts), (qid, got, rcpts)
                assert t[0]["mail"].startswith("MAIL FROM:<%s>" % sender), t[0]["mail"]
                print("ok   %s delivered byte-exact: %s -> %s" % (qid, sender, ", ".join(rcpts)))
            assert any(b"body six" in t["body"] for t in sink.transactions)
            print("ok   maildrop file picked up and delivered")
            step("held mail stays held until Postfix's postsuper -H")
            assert not any(b"body five" in t["body"] for t in sink.transactions)
            print(pf(etc, "postsuper", "-H", held).stderr.strip())
            pf(etc, "postqueue", "-f")
            wait_for(lambda: any(b"body five" in t["body"] for t in sink.transactions), 60,
                     "released message")
            print("ok   %s released and delivered" % held)
            log = open(os.path.join(pfdir, "maillog"), errors="replace").read()
            bad = [l for l in log.splitlines()
                   if re.search(r"corrupt|fatal|panic|warning: .*(queue file|unknown attribute|record)", l)]
            assert not bad, "\n".join(bad)
            warn = [l for l in log.splitlines() if "warning:" in l]
            print("Postfix's warnings (%d):" % len(warn))
            print("\n".join("   " + l for l in warn))
            assert not os.listdir(os.path.join(inst.queue, "corrupt")), "files in corrupt/"
            filt = [l for l in log.splitlines() if "127.0.0.1[127.0.0.1]:2" in l]
            print("ok   content filter kept: " + (filt[0] if filt else "NONE"))
            assert filt
        finally:
            pf(etc, "postfix", "stop", check=False)
    ok = True
finally:
    inst.cleanup()
    shutil.rmtree(pfdir, ignore_errors=True)
print("postfix-roundtrip: %s" % ("PASS" if ok else "FAIL"))
sys.exit(0 if ok else 1)
EOF
