"""
test_pipe.py - the pipe(8) delivery agent, end to end: a message enters
through smtpd, qmgr hands it to a pipe service in master.cf
("scriptpipe unix - n n - - pipe flags=... user=nobody argv=script ...")
and a shell script records its arguments, its standard input, its ids
and its environment, then exits with the status the recipient asks for.

Checked: the ${name} macros (sender, recipient, original_recipient, user,
extension, domain, mailbox, nexthop, size, queue_id) with the flags h, q,
u; the lines F R O D and the "." and ">" quoting; an argument with
${recipient} repeated per recipient under
scriptpipe_destination_recipient_limit > 1; the exit status through
sysexits (75 deferred, 67 bounced 5.1.1, 69 bounced, others "Command died
with status N"); the time limit; size=; D with several recipients; the
command's uid (user=nobody) and its cleared environment; user=root
refused; the log lines (relay=scriptpipe, status=sent (delivered via
scriptpipe service)).
"""
import glob
import os
import pwd
import shutil
import tempfile

from posthorn import Instance, wait_for
from test_smtp import submit

SCRIPT = r"""#!/bin/sh
# arguments one per line, the message, ids and environment into $OUT
out=%(out)s/$$
printf '%%s\n' "$@" > "$out.args"
cat > "$out.msg"
id -u > "$out.ids"
env | sort > "$out.tmp" && mv "$out.tmp" "$out.env"   # .env appears complete
case "$*" in
*tempfail*) exit 75 ;;
*nouser*) exit 67 ;;
*unavail*) exit 69 ;;
*died*) echo "something went wrong"; exit 3 ;;
*sleep*) sleep 30 ;;
esac
exit 0
"""

BODY = (b"From: jonas@example.test\r\n"
        b"Subject: pipe\r\n"
        b"\r\n"
        b"From the start\r\n"
        b"..leading dot\r\n"      # ".leading dot" after smtpd
        b"last line\r\n")


class ScriptDir:
    """A temporary script and the directory it writes to (user nobody)."""

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix="posthorn-pipe-", dir="/tmp")
        os.chmod(self.dir, 0o755)
        self.out = os.path.join(self.dir, "out")
        os.makedirs(self.out)
        os.chmod(self.out, 0o1777)
        self.script = os.path.join(self.dir, "script.sh")
        with open(self.script, "w") as f:
            f.write(SCRIPT % {"out": self.out})
        os.chmod(self.script, 0o755)
        return self

    def __exit__(self, *exc):
        shutil.rmtree(self.dir, ignore_errors=True)
        return False

    def runs(self, n=1):
        """Wait for n finished runs; returns [(args, msg, uid, env)]."""
        def done():
            return len(glob.glob(os.path.join(self.out, "*.env"))) >= n
        wait_for(done, 20, "%d script runs" % n)
        result = []
        for env in sorted(glob.glob(os.path.join(self.out, "*.env"))):
            base = env[:-4]
            with open(base + ".args") as f:
                args = f.read().splitlines()
            with open(base + ".msg", "rb") as f:
                msg = f.read()
            with open(base + ".ids") as f:
                uid = int(f.read())
            with open(env) as f:
                result.append((args, msg, uid, f.read().splitlines()))
        return result


def test_pipe_macros_flags_and_headers():
    with ScriptDir() as sd:
        argv = ("${sender} ${recipient} ${original_recipient} ${user} ${extension} "
                "${domain} ${mailbox} ${nexthop} ${size} q=${queue_id} $$literal")
        with Instance("pipe-macros",
                      main={"default_transport": "scriptpipe", "recipient_delimiter": "+"},
                      master_extra="scriptpipe unix - n n - - pipe\n"
                      "  flags=FRODhqu.> user=nobody argv=%s %s\n" % (sd.script, argv)) as inst:
            inst.start()
            qid = submit(inst, ["Jo.Nas+Ext@Remote.Example"], BODY, sender="jo nas@example.test")
            (args, msg, uid, env), = sd.runs(1)
            size = args[8]
            assert args == ['"jo nas"@example.test', "jo.nas+ext@remote.example",
                            "jo.nas+ext@remote.example", "jo.nas", "ext", "remote.example",
                            "jo.nas+ext", "remote.example", size, "q=" + qid, "$literal"], args
            assert int(size) > len(BODY)
            assert uid == pwd.getpwnam("nobody").pw_uid
            # export_environment only (sh adds PWD, SHLVL, _)
            names = {e.split("=", 1)[0] for e in env}
            assert names <= {"TZ", "MAIL_CONFIG", "LANG", "PATH", "PWD", "SHLVL", "_"}, env
            assert "PATH=/usr/bin:/bin" in env, env
            lines = msg.split(b"\n")
            assert lines[0].startswith(b'From "jo nas"@example.test  '), lines[0]
            assert lines[1:4] == [b'Return-Path: <"jo nas"@example.test>',
                                  b"X-Original-To: Jo.Nas+Ext@Remote.Example",
                                  b"Delivered-To: Jo.Nas+Ext@Remote.Example"], lines[1:4]
            assert b"\n>From the start\n..leading dot\nlast line\n" in msg, msg
            assert b"\r" not in msg
            inst.wait_log(r"postfix/pipe\[\d+\]: %s: to=<Jo\.Nas\+Ext@Remote\.Example>, "
                          r"relay=scriptpipe, delay=[0-9.]+, delays=[0-9./]+, dsn=2\.0\.0, "
                          r"status=sent \(delivered via scriptpipe service\)" % qid)


def test_pipe_recipient_repeated_and_eol():
    with ScriptDir() as sd:
        with Instance("pipe-multi",
                      main={"default_transport": "scriptpipe",
                            "scriptpipe_destination_recipient_limit": "10"},
                      master_extra="scriptpipe unix - n n - - pipe\n"
                      "  flags=R eol=\\r\\n null_sender=<> user=nobody argv=%s -f ${sender} "
                      "-- to:${recipient} ${nexthop}\n" % sd.script) as inst:
            inst.start()
            qid = submit(inst, ["a@remote.example", "b@remote.example"], BODY, sender="")
            (args, msg, uid, env), = sd.runs(1)
            assert args == ["-f", "<>", "--", "to:a@remote.example", "to:b@remote.example",
                            "remote.example"], args
            assert msg.startswith(b"Return-Path: <<>>\r\nReceived: "), msg
            assert msg.endswith(b"\r\nlast line\r\n"), msg
            for r in ("a", "b"):
                inst.wait_log(r"%s: to=<%s@remote\.example>, relay=scriptpipe, .*status=sent "
                              r"\(delivered via scriptpipe service\)" % (qid, r))
            # a per-transport parameter of a pipe service is implemented
            assert "not implemented" not in inst.log(), inst.log()


def test_pipe_exit_status_mapping():
    with ScriptDir() as sd:
        with Instance("pipe-status",
                      main={"default_transport": "scriptpipe", "scriptpipe_time_limit": "2s",
                            "transport_maps": "inline:{bad.example=badcmd}"},
                      master_extra="scriptpipe unix - n n - - pipe\n"
                      "  user=nobody argv=%s ${recipient}\n"
                      "badcmd unix - n n - - pipe\n"
                      "  user=nobody argv=/nonexistent/cmd ${recipient}\n" % sd.script) as inst:
            inst.start()
            cases = {
                "tempfail": r"dsn=4\.3\.0, status=deferred \(temporary failure\)",
                "nouser": r"dsn=5\.1\.1, status=bounced \(user unknown\)",
                "unavail": r"dsn=5\.3\.0, status=bounced \(service unavailable\)",
                "died": r'dsn=5\.3\.0, status=bounced \(Command died with status 3: "%s"\. '
                        r'Command output: something went wrong \)' % sd.script,
                "sleep": r'dsn=5\.3\.0, status=bounced \(Command time limit exceeded: "%s"\)'
                         % sd.script,
            }
            for local, rx in cases.items():
                qid = submit(inst, ["%s@remote.example" % local], BODY)
                inst.wait_log(r"%s: to=<%s@remote\.example>, relay=scriptpipe, .*%s"
                              % (qid, local, rx))
            # a command that cannot be run: deferred, in Postfix 3.7's words
            qid = submit(inst, ["x@bad.example"], BODY)
            inst.wait_log(r"%s: to=<x@bad\.example>, relay=badcmd, .*dsn=4\.3\.0, "
                          r"status=deferred \(temporary failure\. Command output: pipe: fatal: "
                          r"pipe_command: execvp /nonexistent/cmd: No such file or directory \)"
                          % qid)


def test_pipe_size_limit_and_delivered_to_needs_one_recipient():
    with ScriptDir() as sd:
        with Instance("pipe-limits",
                      main={"transport_maps": "inline:{small.example=small, "
                                              "multi.example=multi}",
                            "multi_destination_recipient_limit": "5"},
                      master_extra="small unix - n n - - pipe\n"
                      "  size=100 user=nobody argv=%s\n"
                      "multi unix - n n - - pipe\n"
                      "  flags=D user=nobody argv=%s\n" % (sd.script, sd.script)) as inst:
            inst.start()
            qid = submit(inst, ["x@small.example"], BODY)
            inst.wait_log(r"%s: to=<x@small\.example>, relay=small, .*dsn=5\.2\.3, "
                          r"status=bounced \(message too large\)" % qid)
            qid = submit(inst, ["a@multi.example", "b@multi.example"], BODY)
            inst.wait_log(r"warning: pipe flag `D' requires "
                          r"multi_destination_recipient_limit = 1")
            inst.wait_log(r"%s: to=<a@multi\.example>, relay=multi, .*dsn=4\.3\.5, "
                          r"status=deferred \(mail system configuration error\)" % qid)
            assert not glob.glob(os.path.join(sd.out, "*"))
            # D: a message that went through this recipient before bounces
            looped = b"Delivered-To: A@Multi.Example\r\n" + BODY
            qid = submit(inst, ["a@multi.example"], looped)
            inst.wait_log(r"%s: to=<a@multi\.example>, relay=multi, .*dsn=5\.4\.6, "
                          r"status=bounced \(mail forwarding loop for a@multi\.example\)" % qid)
            assert not glob.glob(os.path.join(sd.out, "*"))


def test_pipe_refuses_root():
    with ScriptDir() as sd:
        with Instance("pipe-root", main={"default_transport": "scriptpipe"},
                      master_extra="scriptpipe unix - n n - - pipe\n"
                      "  user=root argv=%s\n" % sd.script) as inst:
            inst.start()
            submit(inst, ["x@remote.example"], BODY)
            inst.wait_log(r"fatal: service scriptpipe: user= command-line attribute "
                          r"specifies root privileges")
            assert not glob.glob(os.path.join(sd.out, "*"))
