"""
test_syscalls.py - the system calls smtpd and cleanup make per message
(issue 13, docs/PERFORMANCE.md section 20), counted with strace -f on a
running instance: a few sessions of one message each, as smtp-source
sends them. Each count is one that used to be made per message and is
now made once per process or connection, or not at all; the mail is
still delivered. Needs strace (skipped, with a note, without it).
"""
import collections
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

from posthorn import Instance, wait_for
from test_core import classic_session

STRACE = shutil.which("strace")
SYSCALL_RX = re.compile(r"^(?:\d+:\d+:\d+\.\d+ )?([a-z0-9_]+)\((.*)$")
SESSIONS = 3


def children(ppid):
    """The pids whose parent is ppid."""
    kids = []
    for entry in os.listdir("/proc"):
        try:
            with open("/proc/%s/stat" % entry) as f:
                if entry.isdigit() and int(f.read().rsplit(")", 1)[1].split()[1]) == ppid:
                    kids.append(int(entry))
        except (OSError, ValueError, IndexError):
            pass
    return kids


def traced_sessions(inst, n):
    """n classic sessions under strace -f attached to master; returns
    {program: [lines after the process's first accepted client]}."""
    with open(os.path.join(inst.queue, "pid", "master.pid")) as f:
        master = int(f.read().split()[0])
    comm = {}

    def settled():                  # the smtpd that inst.start()'s probe woke
        comm.clear()
        for pid in [master] + children(master):
            with open("/proc/%d/comm" % pid) as f:
                comm[pid] = f.read().strip()
        return "smtpd" in comm.values()
    wait_for(settled, 10, "an smtpd process")
    pids = list(comm)
    tdir = tempfile.mkdtemp(prefix="posthorn-strace-", dir="/tmp")
    argv = [STRACE, "-f", "-ff", "-qq", "-s", "64", "-o", os.path.join(tdir, "t")]
    for pid in pids:
        argv += ["-p", str(pid)]
    tracer = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def attached():
            for pid in pids:
                with open("/proc/%d/status" % pid) as f:
                    if not re.search(r"^TracerPid:\s+[1-9]", f.read(), re.M):
                        return False
            return True
        wait_for(attached, 10, "strace to attach")
        # qmgr done with its start-up scan of the queue, waiting for a
        # trigger: otherwise, on a loaded machine, that scan can find the
        # new mail before qmgr takes cleanup's first trigger, and its trace
        # holds no accept() before the last delivery
        qmgr = [pid for pid, name in comm.items() if name == "qmgr"]
        idle = []

        def qmgr_idle():
            with open("/proc/%d/wchan" % qmgr[0]) as f:
                idle.append("epoll" in f.read())     # do_epoll_wait
            return len(idle) >= 3 and all(idle[-3:])
        if qmgr:
            wait_for(qmgr_idle, 10, "qmgr waiting for a trigger")
        for i in range(n):
            classic_session(inst, "jonas%d@example.test" % i, "phedison@example.test",
                            ("message %d" % i,))    # (a new sender: asked anew)
        inst.wait_mbox("phedison", "message %d" % (n - 1))
    finally:
        tracer.send_signal(signal.SIGINT)
        tracer.wait(timeout=30)
    work = collections.defaultdict(list)
    for name in os.listdir(tdir):
        with open(os.path.join(tdir, name), errors="replace") as f:
            lines = f.read().splitlines()
        prog = next((os.path.basename(m.group(1)) for m in
                     (re.search(r'^execve\("([^"]+)"', l) for l in lines) if m),
                    comm.get(int(name.rsplit(".", 1)[1])))
        start = next((i for i, l in enumerate(lines)
                      if re.match(r"^accept4?\(.*\)\s+= \d+$", l)),
                     0 if prog == "postlogd" else None)     # (datagrams: no accept)
        if prog and start is not None:
            work[prog] += lines[start:]
    shutil.rmtree(tdir, ignore_errors=True)
    return work


def count(lines, name, pattern=""):
    rx = re.compile(pattern)
    return sum(1 for l in lines
               if (m := SYSCALL_RX.match(l)) and m.group(1) == name and rx.search(l))


def test_syscalls_per_message():
    if STRACE is None:
        print("test_syscalls_per_message: no strace; skipped")
        return
    with Instance("syscalls") as inst:
        inst.start()
        work = traced_sessions(inst, SESSIONS)
        smtpd, cleanup = work["smtpd"], work["cleanup"]
        assert smtpd and cleanup, sorted(work)
        msg = "\n".join(smtpd[:200])
        # no poll() before a read or write: reads block bounded by SO_RCVTIMEO,
        # writes are sent at once
        assert count(smtpd, "poll") == 0, msg
        assert count(smtpd, "getpeername") == SESSIONS, msg
        # the pid asked once per process, the log socket not fstat()ed per line
        assert count(smtpd, "getpid") == 0, msg
        # (one when the process connects to postlogd, if it had not yet)
        assert count(smtpd, "newfstatat", r"S_IFSOCK") <= 1, msg
        # IPC connects (rewrite and proxymap once per process, cleanup per
        # message): one fcntl() each; table locks are not counted
        connects = count(smtpd, "connect", r'"(private|public)/')
        assert connects >= SESSIONS, msg
        assert count(smtpd, "fcntl", r"F_[GS]ETF[LD]") <= connects, msg
        # the watchdog stays set between clients, set again at most once a second
        assert count(smtpd, "alarm") < 2 * SESSIONS, msg
        assert count(cleanup, "alarm") < 2 * SESSIONS, "\n".join(cleanup[:200])
        # master's exit is the status pipe's hangup: getppid() only when idle
        assert count(smtpd, "getppid") <= count(smtpd, "epoll_wait", r"= 0$"), msg
        # the watchdog of a multi server: alarm() at most once a second
        rewrite = work["trivial-rewrite"]
        requests = count(rewrite, "read", r"request")
        assert requests >= 2 * SESSIONS, "\n".join(rewrite)
        assert count(rewrite, "alarm") < requests, "\n".join(rewrite)
        # postlogd: the watchdog not set and cleared around every line
        postlogd = work["postlogd"]
        lines = count(postlogd, "write") - count(postlogd, "write", r"^write\(3,")
        assert lines >= 5 * SESSIONS, "\n".join(postlogd)
        assert 4 * count(postlogd, "alarm") < lines, "\n".join(postlogd)
        # qmgr and postlogd, their services' only processes, do not report
        # busy and available to master (status pipe: fd 3) per trigger
        qmgr = work["qmgr"]
        # (a trigger can be taken after the last delivery: not one per message)
        assert count(qmgr, "accept4") + count(qmgr, "accept") >= 1, "\n".join(qmgr)
        assert count(qmgr, "write", r"^write\(3,") == 0, "\n".join(qmgr)
        assert count(postlogd, "write", r"^write\(3,") == 0, "\n".join(postlogd)
        msg = "\n".join(cleanup[:200])
        assert count(cleanup, "poll") == 0, msg
        # (one per message is left: the queue file's temporary name, queue.c)
        assert count(cleanup, "getpid") <= SESSIONS, msg
        # the queue file offset kept: one lseek to learn it, one seek back
        # for the size record, per message; no send() tried on the file
        assert count(cleanup, "lseek", r", 0, SEEK_") <= 2 * SESSIONS, msg
        assert count(cleanup, "sendto", r"ENOTSOCK") == 0, msg
        # local writes the mailbox with write(), no send() tried first
        local = work["local"]
        assert count(local, "write", r'^write\(\d+, "(From |Return-Path)') >= SESSIONS, \
            "\n".join(local)                   # (mailbox: "From ..."; Maildir: "Return-Path")
        assert count(local, "sendto", r"ENOTSOCK") == 0, "\n".join(local)
        # its answer to qmgr (status, then "more") goes out in one write
        assert count(local, "sendto", r'^sendto\(\d+, "status\\0') >= SESSIONS, "\n".join(local)
        assert count(local, "sendto", r'^sendto\(\d+, "more\\0') == 0, "\n".join(local)
        # the qmgr trigger: connect and write, no stat() and no fcntl()
        assert count(cleanup, "newfstatat", r'"public/qmgr"') == 0, msg
        assert count(cleanup, "fcntl", r"F_[GS]ETF[LD]") <= 1, msg


def test_watchdog_spares_idle_process_and_ends_hung_client():
    """daemon_timeout stays set between clients (no alarm(0) and alarm()
    per client) but never fires in an idle process: it is set again while
    idle. A client that holds smtpd past daemon_timeout still ends it."""
    with Instance("watchdog", main={"daemon_timeout": "4s", "smtpd_timeout": "60s"}) as inst:
        inst.start()
        s = inst.session(helo="HELO client.example")
        assert s.cmd("QUIT")[0].startswith("221")
        s.close()
        m = inst.wait_log(r"postfix/smtpd\[(\d+)\]: disconnect from .* helo=1")
        pid = int(m.group(1))
        time.sleep(6)                   # idle past daemon_timeout
        assert os.path.exists("/proc/%d" % pid), inst.log()
        s = inst.session(helo="HELO client.example")
        assert s.cmd("QUIT")[0].startswith("221")
        s.close()
        assert "killed by signal" not in inst.log(), inst.log()
        s = inst.session(helo="HELO client.example")    # then says nothing
        start = time.time()
        try:
            s.line()
            assert False, "smtpd answered an idle client"
        except (EOFError, ConnectionResetError):
            pass
        assert time.time() - start < 10
        inst.wait_log(r"process \S*smtpd pid \d+ killed by signal 14")
        s.close()


def test_postlogd_takes_queued_lines_in_order():
    """postlogd reads every datagram already queued in one recvmmsg(): a
    burst of lines arrives complete and in order."""
    import socket
    with Instance("postlogburst") as inst:
        inst.start()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.connect(os.path.join(inst.queue, "public", "postlog"))
        sock.settimeout(5)
        for i in range(200):
            sock.send(b"Dec 07 00:00:00 mail postfix/burst[1]: line %03d" % i)
        sock.close()
        inst.wait_log(r"burst\[1\]: line 199")
        got = re.findall(r"burst\[1\]: line (\d+)", inst.log())
        assert got == ["%03d" % i for i in range(200)], got
