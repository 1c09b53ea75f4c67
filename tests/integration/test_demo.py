"""
test_demo.py - "make run" (tests/demo.sh): the demo instance starts in
the foreground with its log on stdout, takes a message on 127.0.0.1:2525
and delivers it to run/mail/<user>, and Ctrl-C (SIGINT to the whole
foreground process group) stops it with no process left behind.

The instance directory is a temporary one (POSTHORN_RUN_DIR) and the
test install tree is reused (POSTHORN_ROOT), so the checkout is not touched.
"""
import os
import shutil
import signal
import smtplib
import subprocess
import tempfile
import threading

from posthorn import REPO, kill_group, run, wait_for
import posthorn

DEMO_PORT = 2525


def demo_procs(rundir):
    p = run(["ps", "-eo", "pid=,args="])
    return [l.strip() for l in p.stdout.splitlines() if rundir + "/conf" in l]


def test_make_run_demo():
    rundir = tempfile.mkdtemp(prefix="posthorn-demo-", dir="/tmp")
    os.chmod(rundir, 0o755)
    env = dict(os.environ, POSTHORN_RUN_DIR=rundir, POSTHORN_ROOT=posthorn.ROOT)
    p = subprocess.Popen([os.path.join(REPO, "tests", "demo.sh")], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, start_new_session=True)
    lines = []

    def reader():
        for line in p.stdout:
            lines.append(line.rstrip("\n"))
    t = threading.Thread(target=reader, daemon=True)
    t.start()
    try:
        wait_for(lambda: any("postfix/master[" in l and "daemon started" in l for l in lines),
                 30, "daemon started on the demo's stdout:\n" + "\n".join(lines))
        assert any("SMTP on 127.0.0.1:2525" in l for l in lines), lines

        def connect():
            try:
                return smtplib.SMTP("127.0.0.1", DEMO_PORT, timeout=10)
            except OSError:
                return None
        s = wait_for(connect, 20, "smtpd on 127.0.0.1:%d" % DEMO_PORT)
        s.sendmail("someone@example.test", ["root@localhost"],
                   "Subject: demo test\r\n\r\nhello from test_demo\r\n")
        s.quit()
        box = os.path.join(rundir, "mail", "root")
        wait_for(lambda: os.path.exists(box) and "hello from test_demo" in open(box).read(),
                 20, "the message in run/mail/root:\n" + "\n".join(lines))
        wait_for(lambda: any("status=sent (delivered to mailbox)" in l for l in lines), 10,
                 "the delivery log line on stdout")
        assert demo_procs(rundir)
        os.killpg(p.pid, signal.SIGINT)         # what Ctrl-C does
        assert p.wait(15) == 0, "\n".join(lines)
        assert not demo_procs(rundir), demo_procs(rundir)
        t.join(5)
        assert any("postfix/master[%d]: terminating on signal 2" % p.pid in l for l in lines), \
            "\n".join(lines[-10:])
        bad = [l for l in lines if "warning:" in l or "fatal:" in l]
        assert not bad, bad
    finally:
        kill_group(p)
        shutil.rmtree(rundir, ignore_errors=True)
