#!/usr/bin/env python3
"""
bench.py - make bench: posthorn and Debian's Postfix, side by side, on one machine.

What it does (root only):
  1. installs the posthorn build (BENCH_BIN/BENCH_OBJ, default bin/build) into a
     temporary root, and Debian's postfix package when it is missing (only here:
     make check never needs it; no system instance is configured or left running);
  2. writes two isolated instances under one temporary directory with the same
     main.cf parameters (only the program paths differ), each with its own
     127.0.0.1 port, queue, data directory and log file; master.cf is each
     project's own default with chroot off everywhere, so process limits match;
  3. runs BENCH_ROUNDS rounds (default 6). Each round measures both MTAs in
     abba order (posthorn first in rounds 1, 4, 5, 8, ...; Postfix first in
     2, 3, 6, 7, ...), each freshly started:
       (a) acceptance rate: smtp-source -s 20 -l 2048 -m N into the MTA,
           messages per second until smtp-source is done;
       (b) end-to-end rate of the same run: until smtp-sink (relayhost of both
           MTAs, -M N) has received all N;
       (c) local delivery rate: N messages to a throw-away user with
           home_mailbox = Maildir/, until all N are in ~/Maildir/new
           (watched with inotify: DirCounter);
       (d) peak total PSS (smaps_rollup, so shared pages count once) of the
           MTA's master and all its descendants, sampled every 100 ms during
           (a)+(b); also during (c), and the CPU time the MTA used per message.
     Also per message, from /proc/diskstats of the disk that holds the queue:
     the write requests the disk completed during (a)+(b) and during (c)
     (and cache flushes, in the JSON results), whoever made them.
     A finished local run's Maildir is moved aside, not deleted, until the end
     (put_maildir_aside()).
     After the last round, the machine's ceilings (once: the durability one
     unlinks thousands of files, see ceilings()): smtp-source straight into
     smtp-sink (protocol); bench/floor.c, the least an MTA must do on the
     path of (c) (SMTP in, an fsync()ed queue file before the 250, two
     Maildir deliveries at a time, each fsync()ed; no logging, lookups,
     privileges or processes), measured like (c), three times; and
     create+write+fsync+unlink per second on the queue's file system
     (durability), with 1 and with 20 threads.
  4. prints the medians with the posthorn/Postfix ratio and appends JSON lines
     to bench/results/<timestamp>.json (copied to bench/results/latest.json).

  bench/run --compare A.json B.json   prints two runs' summaries side by side.

Environment: BENCH_N (2000), BENCH_ROUNDS (6), BENCH_TIMEOUT (300 s per
measurement), BENCH_SESSIONS (20), BENCH_SIZE (2048), BENCH_BIN, BENCH_OBJ;
for A/B runs, BENCH_MAIN_POSTHORN and BENCH_MAIN_POSTFIX add main.cf
settings to one MTA ("name=value,name=value"; the results then no longer
compare the same configuration).

Cleanup: both instances are stopped (and what is left of their process trees
killed, by pid), the bench user and the temporary directory are removed, also
on errors and on SIGINT/SIGTERM.

SECURITY: runs as root; creates and removes the Unix user "phbench" (refuses to
touch an existing user of that name that it did not create), writes only under
its own mkdtemp() directory and bench/results/.
"""
import ctypes
import fcntl
import json
import os
import platform
import pwd
import re
import select
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
from posthorn import ensure_system_accounts, free_port, port_open  # noqa: E402 - the tests' helpers
RESULTS = os.path.join(HERE, "results")

N = int(os.environ.get("BENCH_N", "2000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "6"))
TIMEOUT = float(os.environ.get("BENCH_TIMEOUT", "300"))
SESSIONS = int(os.environ.get("BENCH_SESSIONS", "20"))
SIZE = int(os.environ.get("BENCH_SIZE", "2048"))
BUILD_BIN = os.environ.get("BENCH_BIN", "bin")
BUILD_OBJ = os.environ.get("BENCH_OBJ", "build")

BENCH_USER = "phbench"


def extra_main(kind):
    """BENCH_MAIN_POSTHORN / BENCH_MAIN_POSTFIX: "name=value,name=value"."""
    spec = os.environ.get("BENCH_MAIN_" + kind.upper(), "")
    pairs = (item.split("=", 1) for item in spec.split(",") if "=" in item)
    return {k.strip(): v.strip() for k, v in pairs}


HOSTNAME = "bench.example.test"
SMTP_SOURCE = "/usr/sbin/smtp-source"
SMTP_SINK = "/usr/sbin/smtp-sink"
PF_DAEMON_DIR = "/usr/lib/postfix/sbin"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def say(text):
    print(text, flush=True)


def run(argv, check=True, timeout=120, env=None):
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env)
    if check and p.returncode != 0:
        raise RuntimeError("%s failed (%d): %s%s" % (" ".join(argv), p.returncode,
                                                      p.stdout, p.stderr))
    return p


def wait_until(cond, timeout, what):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return
        time.sleep(0.05)
    raise RuntimeError("timed out after %.0fs waiting for %s" % (timeout, what))


# ---- setup: packages, posthorn build, bench user -------------------------

def ensure_postfix_package():
    """Install Debian's postfix when smtp-source or its daemons are missing.
    Returns True when this run installed it."""
    if os.path.exists(SMTP_SOURCE) and os.path.exists(os.path.join(PF_DAEMON_DIR, "master")):
        return False
    say("bench: installing Debian's postfix package (for Postfix itself and smtp-source/smtp-sink)")
    # "No configuration": no /etc/postfix/main.cf, so no system instance.
    p = subprocess.run(["debconf-set-selections"], text=True, capture_output=True,
                       input="postfix postfix/main_mailer_type select No configuration\n")
    if p.returncode != 0:
        raise RuntimeError("debconf-set-selections: " + p.stderr)
    # policy-rc.d 101 keeps the package scripts from starting anything.
    policy = "/usr/sbin/policy-rc.d"
    made_policy = not os.path.exists(policy)
    if made_policy:
        with open(policy, "w") as f:
            f.write("#!/bin/sh\n# bench.py: no service starts during the install\nexit 101\n")
        os.chmod(policy, 0o755)
    try:
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        p = run(["apt-get", "install", "-y", "--no-install-recommends", "postfix"],
                check=False, timeout=600, env=env)
        if p.returncode != 0:
            run(["apt-get", "update"], check=False, timeout=300, env=env)
            run(["apt-get", "install", "-y", "--no-install-recommends", "postfix"],
                timeout=600, env=env)
    finally:
        if made_policy:
            os.unlink(policy)
    # Whatever the maintainer scripts did: no system Postfix stays up.
    if os.path.exists("/etc/postfix/main.cf") and \
            run(["/usr/sbin/postfix", "status"], check=False).returncode == 0:
        run(["/usr/sbin/postfix", "stop"], check=False)
    return True


def install_posthorn(root):
    say("bench: installing posthorn (%s) into %s" % (BUILD_BIN, root))
    # -o all: install what is built (make bench builds it first), do not rebuild
    run(["make", "-s", "-C", REPO, "-o", "all", "install", "DESTDIR=" + root, "BIN=" + BUILD_BIN,
         "OBJ=" + BUILD_OBJ], timeout=900)


def create_bench_user(top):
    try:
        pw = pwd.getpwnam(BENCH_USER)
    except KeyError:
        pw = None
    if pw is not None:
        # Left behind by an interrupted run (home under a /tmp/posthorn-bench-* dir)?
        if re.match(r"^/tmp/posthorn-bench-[^/]+/home/", pw.pw_dir):
            run(["userdel", BENCH_USER], check=False)
        else:
            raise RuntimeError("user %s exists and is not ours; remove it first" % BENCH_USER)
    home = os.path.join(top, "home", BENCH_USER)
    os.makedirs(os.path.dirname(home), mode=0o755)
    run(["useradd", "--home-dir", home, "--create-home", "--shell", "/usr/sbin/nologin",
         BENCH_USER])
    return home


def remove_bench_user():
    run(["userdel", BENCH_USER], check=False)


# ---- process trees: PSS and CPU ------------------------------------------

def proc_table():
    """pid -> (ppid, comm, cpu ticks incl. reaped children)"""
    out = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                data = f.read()
        except OSError:
            continue
        lp, rp = data.find("("), data.rfind(")")
        fields = data[rp + 2:].split()
        # fields[0] is state (field 3); ppid is field 4, utime..cstime 14..17
        ticks = sum(int(x) for x in fields[11:15])
        out[int(name)] = (int(fields[1]), data[lp + 1:rp], ticks)
    return out


def tree_pids(root, table=None):
    table = table or proc_table()
    if root not in table:
        return [], table
    kids = {}
    for pid, (ppid, _, _) in table.items():
        kids.setdefault(ppid, []).append(pid)
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo.extend(kids.get(pid, ()))
    return pids, table


def pss_kb(pid):
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def cpu_snapshot(root, table=None):
    """pid -> (ppid, comm, cpu ticks incl. reaped children) over the tree of root."""
    pids, table = tree_pids(root, table)
    return {pid: table[pid] for pid in pids}


def cpu_delta(before, after, seen=None):
    """Seconds of CPU the tree used between two snapshots, total and per comm.
    A child that exits is added whole to its parent's cutime; seen (the last
    sample of every process, from PssSampler) moves what such a child used
    in between from its parent's bucket to its own name."""
    def bucket(comm):
        return "master+other" if comm == "master" else comm

    per = {}
    for pid, (_, comm, ticks) in after.items():
        per[bucket(comm)] = per.get(bucket(comm), 0) + max(0, ticks - before.get(pid, (0, comm, 0))[2])
    for pid, (ppid, comm, ticks) in (seen or {}).items():
        if pid in after:
            continue
        used = max(0, ticks - before.get(pid, (0, comm, 0))[2])
        parent = (after.get(ppid) or before.get(ppid) or (0, "master", 0))[1]
        per[bucket(parent)] = per.get(bucket(parent), 0) - used - before.get(pid, (0, comm, 0))[2]
        per[bucket(comm)] = per.get(bucket(comm), 0) + used
    for pid, (ppid, comm, ticks) in before.items():
        if pid not in after and pid not in (seen or {}):
            per["master+other"] = per.get("master+other", 0) - ticks
    per = {k: max(0, v) for k, v in per.items()}
    total = sum(per.values())
    return total / CLK_TCK, {k: v / CLK_TCK for k, v in sorted(per.items(), key=lambda kv: -kv[1])}


class PssSampler(threading.Thread):
    """Peak total PSS of a process tree, sampled every interval seconds."""

    def __init__(self, root, interval=0.1):
        super().__init__(daemon=True)
        self.root, self.interval = root, interval
        self.peak_kb, self.peak_procs, self.samples = 0, 0, 0
        self.seen = {}                      # pid -> last (ppid, comm, ticks)
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            pids, table = tree_pids(self.root)
            for pid in pids:
                self.seen[pid] = table[pid]
            total = sum(pss_kb(p) for p in pids)
            self.samples += 1
            if total > self.peak_kb:
                self.peak_kb, self.peak_procs = total, len(pids)
            self.done.wait(self.interval)

    def finish(self):
        self.done.set()
        self.join(10)
        return self.peak_kb


# ---- the two MTAs -----------------------------------------------------------

def master_cf(text, port):
    """Each project's default master.cf with chroot off and smtpd on port."""
    out, moved = [], False
    for line in text.splitlines():
        if line and not line[0].isspace() and not line.startswith("#"):
            f = line.split()
            if len(f) >= 8:
                f[4] = "n"
                if f[0] == "smtp" and f[1] == "inet" and not moved:
                    f[0], moved = str(port), True
                line = " ".join(f)
        out.append(line)
    if not moved:
        raise RuntimeError("master.cf has no smtp inet service")
    return "\n".join(out) + "\n"


class Mta:
    def __init__(self, kind, top, root, sink_port):
        self.kind = kind
        self.dir = os.path.join(top, kind)
        self.conf = os.path.join(self.dir, "conf")
        self.queue = os.path.join(self.dir, "queue")
        self.data = os.path.join(self.dir, "data")
        self.maillog = os.path.join(self.dir, "maillog")
        self.port = free_port()
        self.running = False
        self.master_pid = None
        if kind == "posthorn":
            self.sbin = os.path.join(root, "usr/sbin")
            paths = {"daemon_directory": os.path.join(root, "usr/libexec/posthorn"),
                     "command_directory": self.sbin}
            master_src = os.path.join(REPO, "conf/master.cf")
        else:
            self.sbin = "/usr/sbin"
            paths = {"daemon_directory": PF_DAEMON_DIR, "command_directory": self.sbin,
                     "meta_directory": "/etc/postfix", "shlib_directory": "/usr/lib/postfix"}
            master_src = "/etc/postfix/master.cf"
            if not os.path.exists(master_src):
                master_src = "/usr/share/postfix/master.cf.dist"
        os.makedirs(self.conf)
        os.makedirs(os.path.join(self.dir, "mail"), mode=0o1777)
        os.chmod(os.path.join(self.dir, "mail"), 0o1777)
        params = {
            "compatibility_level": "3.6",
            "queue_directory": self.queue,
            "data_directory": self.data,
            "mail_owner": "postfix",
            "setgid_group": "postdrop",
            "myhostname": HOSTNAME,
            "mydomain": "example.test",
            "mydestination": "$myhostname, localhost.$mydomain, localhost",
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4",
            "mynetworks": "127.0.0.0/8",
            "relayhost": "[127.0.0.1]:%d" % sink_port,
            "home_mailbox": "Maildir/",
            "mail_spool_directory": os.path.join(self.dir, "mail"),
            "alias_maps": "hash:%s/aliases" % self.conf,
            "alias_database": "hash:%s/aliases" % self.conf,
            "maillog_file": self.maillog,
            "maillog_file_prefixes": self.dir,
            "smtpd_peername_lookup": "no",
            "biff": "no",
        }
        params.update(paths)
        params.update(extra_main(kind))
        with open(os.path.join(self.conf, "main.cf"), "w") as f:
            f.write("# bench.py: %s instance\n" % kind)
            for k, v in params.items():
                f.write("%s = %s\n" % (k, v))
        with open(master_src) as f:
            text = f.read()
        with open(os.path.join(self.conf, "master.cf"), "w") as f:
            f.write(master_cf(text, self.port))
        aliases = os.path.join(self.conf, "aliases")
        with open(aliases, "w") as f:
            f.write("postmaster: root\n")
        self.cmd("postalias", aliases)

    def cmd(self, name, *args, check=True, timeout=120):
        return run([os.path.join(self.sbin, name), "-c", self.conf] + list(args),
                   check=check, timeout=timeout)

    def start(self, fresh=True):
        """A fresh queue (unless fresh is False: keep what is queued), then postfix start."""
        self.stop()
        if fresh:
            for d in (self.queue, self.data):
                shutil.rmtree(d, ignore_errors=True)
        os.makedirs(self.queue, mode=0o755, exist_ok=True)
        pidfile = os.path.join(self.queue, "pid", "master.pid")
        if os.path.exists(pidfile):             # the last run's: not this master
            os.unlink(pidfile)
        p = self.cmd("postfix", "start", check=False)
        self.running = True
        if p.returncode != 0:
            raise RuntimeError("%s: postfix start failed: %s%s\n%s" % (
                self.kind, p.stdout, p.stderr, self.log_tail()))
        wait_until(lambda: port_open(self.port), 30, "%s smtpd on port %d" % (self.kind, self.port))
        wait_until(lambda: os.path.exists(pidfile), 10, pidfile)
        with open(pidfile) as f:
            self.master_pid = int(f.read().split()[0])

    def stop(self):
        if not self.running:
            return
        self.running = False
        pids = []
        if self.master_pid:
            pids, _ = tree_pids(self.master_pid)
        try:
            self.cmd("postfix", "stop", check=False, timeout=60)
        except subprocess.TimeoutExpired:
            pass
        end = time.time() + 30
        while time.time() < end and any(os.path.exists("/proc/%d" % p) for p in pids):
            time.sleep(0.1)
        for pid in pids:                       # only our own tree, by pid
            try:
                with open("/proc/%d/stat" % pid) as f:
                    if f.read().split()[3] in (str(q) for q in pids + [1]):
                        os.kill(pid, signal.SIGKILL)
            except (OSError, IndexError):
                pass
        self.master_pid = None

    def log_tail(self, lines=25):
        try:
            with open(self.maillog, errors="replace") as f:
                return "\n".join(f.read().splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def version(self):
        if self.kind == "postfix":
            return run(["/usr/sbin/postconf", "-d", "-h", "mail_version"], check=False).stdout.strip()
        return "git " + git_rev()


# ---- measurements -------------------------------------------------------

def smtp_source(port, rcpt, count):
    return Timed(subprocess.Popen(
        [SMTP_SOURCE, "-s", str(SESSIONS), "-l", str(SIZE), "-m", str(count),
         "-M", "client.example.test", "-f", "bench@client.example.test",
         "-t", rcpt, "127.0.0.1:%d" % port],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))


def start_sink(port, count=None):
    """smtp-sink on port; with count, it exits after count messages (the
    reply to the last one may be lost: the MTA will retry that one later,
    after the measurement)."""
    argv = [SMTP_SINK, "-u", "nobody"] + (["-M", str(count)] if count else [])
    p = subprocess.Popen(argv + ["127.0.0.1:%d" % port, "256"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_until(lambda: p.poll() is not None or port_open(port), 10, "smtp-sink on port %d" % port)
    except RuntimeError:
        p.kill()
        p.wait()
        raise
    if p.poll() is not None:
        raise RuntimeError("smtp-sink exited: " + p.stdout.read())
    return Timed(p)


class Timed(threading.Thread):
    """Waits for a process in the background and notes when it exited."""

    def __init__(self, proc):
        super().__init__(daemon=True)
        self.proc, self.t = proc, None
        self.start()

    def run(self):
        self.proc.wait()
        self.t = time.time()


def finish(timed, deadline, what):
    """Wait for a Timed until deadline (time.time()); returns its exit time or None."""
    timed.join(max(0.1, deadline - time.time()))
    if timed.is_alive():
        timed.proc.kill()
        timed.join(10)
        say("bench: %s did not finish within %.0fs" % (what, TIMEOUT))
        return None
    return timed.t


def check_source(timed, what):
    proc = timed.proc
    out = proc.stdout.read() if proc.stdout else ""
    if proc.returncode != 0:
        say("bench: %s: smtp-source exited %s: %s" % (what, proc.returncode, out.strip()[-500:]))
        return False
    return True


def protocol_ceiling(sink_port):
    """smtp-source into smtp-sink: until smtp-source has all N replies."""
    sink = start_sink(sink_port)
    try:
        t0 = time.time()
        src = smtp_source(sink_port, "rcpt@sink.example.test", N)
        t_src = finish(src, t0 + TIMEOUT, "smtp-source -> smtp-sink")
    finally:
        sink.proc.terminate()
        finish(sink, time.time() + 10, "smtp-sink exit")
    if t_src is None or not check_source(src, "ceiling"):
        return None
    return N / (t_src - t0)


def floor_ceiling(top, agents=2, runs=3):
    """bench/floor.c, the least an MTA must do on the path of (c) (SMTP in,
    an fsync()ed queue file before the 250, agents Maildir deliveries in
    parallel, each fsync()ed): (accept rate, delivery rate), medians of
    runs runs like local_run()'s. None, None when it cannot be built."""
    src, prog = os.path.join(HERE, "floor.c"), os.path.join(top, "floor-bin")
    if run(["cc", "-O2", "-pthread", "-o", prog, src], check=False).returncode:
        say("bench: cannot build %s: no floor ceiling" % src)
        return None, None
    accept, local = [], []
    for i in range(runs):
        base = os.path.join(top, "floor%d" % i)
        queue, maildir = os.path.join(base, "queue"), os.path.join(base, "Maildir")
        for d in (queue, os.path.join(maildir, "tmp"), os.path.join(maildir, "new")):
            os.makedirs(d)
        port = free_port()
        proc = subprocess.Popen([prog, str(port), queue, maildir, str(SESSIONS), str(agents)])
        try:
            wait_until(lambda: proc.poll() is not None or port_open(port), 10, "floor on port %d" % port)
            new = DirCounter(os.path.join(maildir, "new"))
            t0 = time.time()
            src_run = smtp_source(port, "%s@%s" % (BENCH_USER, HOSTNAME), N)
            t_src = finish(src_run, t0 + TIMEOUT, "smtp-source -> floor")
            if t_src is None or not check_source(src_run, "floor"):
                continue
            t_done = new.wait(N, t0 + TIMEOUT)
            accept.append(N / (t_src - t0))
            if t_done is not None:
                local.append(N / (t_done - t0))
        finally:
            proc.kill()
            proc.wait()
    return median(accept), median(local)


def ceilings(top, sink_port):
    """The machine's ceilings, measured once, after the last round: the
    durability ceiling creates and unlinks some 10,000-20,000 files, and
    on ext4 without a journal every file created in the next one to six
    minutes would pay for them (put_maildir_aside()): measured before a
    round, the ceiling slowed both MTAs' queue and Maildir files in it."""
    ceil = {"protocol": protocol_ceiling(sink_port)}
    ceil["floor_accept"], ceil["floor_local"] = floor_ceiling(top)
    ceil["fsync1"] = durability_ceiling(os.path.join(top, "fsync"), 1)
    ceil["fsync20"] = durability_ceiling(os.path.join(top, "fsync"), SESSIONS)
    say("bench: ceilings: protocol %s msg/s, floor (c) %s msg/s, fsync %s/s (1 thread) %s/s (%d threads)" % (
        fmt(ceil["protocol"]), fmt(ceil["floor_local"]), fmt(ceil["fsync1"]), fmt(ceil["fsync20"]), SESSIONS))
    return ceil


def durability_ceiling(dirpath, threads, seconds=2.0):
    """create+write+fsync+unlink of a queue-file-sized file, per second."""
    os.makedirs(dirpath, exist_ok=True)
    payload = b"x" * (SIZE + 600)
    counts = [0] * threads

    def worker(i, end):
        n = 0
        while time.time() < end:
            path = os.path.join(dirpath, "f%d.%d" % (i, n))
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            try:
                os.write(fd, payload)
                os.fsync(fd)
            finally:
                os.close(fd)
            os.unlink(path)
            n += 1
        counts[i] = n

    t0 = time.time()
    end = t0 + seconds
    ths = [threading.Thread(target=worker, args=(i, end)) for i in range(threads)]
    for t in ths:
        t.start()
    for t in ths:
        t.join(seconds + 30)
    return sum(counts) / (time.time() - t0)


def interrupt(proc, timeout):
    """SIGINT to a tool we started (strace, perf), killed when it lingers."""
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def apt_install(package, who):
    say("%s: installing %s" % (who, package))
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    run(["apt-get", "install", "-y", "--no-install-recommends", package], timeout=600, env=env)


SETTLED_STAMP = os.path.join(RESULTS, ".deleted")  # touched when a bench deletes its files
SETTLE = 120


def settle():
    """Wait until the last bench's teardown (which deletes thousands of
    queue and Maildir files) is SETTLE seconds in the past. On ext4
    without a journal the inode allocator passes over every inode freed
    in the last minute or more before it takes a free one, and the next
    run's home directory tends to land in the block group those files
    were freed from: a bench started right after another one measured
    local delivery 20-30% slower (docs/PERFORMANCE.md section 27)."""
    try:
        age = time.time() - os.stat(SETTLED_STAMP).st_mtime
    except OSError:
        return
    if 0 <= age < SETTLE:
        say("bench: the last bench deleted its files %d s ago; waiting %d s so that "
            "this one does not measure the file system's memory of them" % (age, SETTLE - age))
        time.sleep(SETTLE - age)


def make_top():
    """The bench's temporary directory, /tmp/posthorn-bench-*, mode 0755,
    with ext4's "top of directory hierarchy" flag (chattr +T): the
    directories made in it (each MTA's, the bench user's home, the
    ceilings') are then spread over the file system's block groups as
    top-level directories are, instead of all going into the group of
    /tmp. Each MTA's queue files and Maildir files are then allocated in
    a group of their own, so neither MTA's file creation pays for the
    files the other one (or the bench) deleted in the last minutes: on
    ext4 without a journal the inode allocator passes over every inode
    freed in the last one to six minutes in a group before it takes a
    free one (put_maildir_aside()). Where the flag cannot be set (another
    file system), nothing else changes. First it waits until the last
    bench's deletions are SETTLE seconds old (settle())."""
    settle()
    top = tempfile.mkdtemp(prefix="posthorn-bench-", dir="/tmp")
    os.chmod(top, 0o755)
    fs_ioc_getflags, fs_ioc_setflags, fs_topdir_fl = 0x80086601, 0x40086602, 0x00020000
    fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
    try:
        flags = struct.unpack("l", fcntl.ioctl(fd, fs_ioc_getflags, struct.pack("l", 0)))[0]
        fcntl.ioctl(fd, fs_ioc_setflags, struct.pack("l", flags | fs_topdir_fl))
    except OSError:
        pass
    finally:
        os.close(fd)
    return top


def side_start(who, ensure_tool):
    """The start of bench-profile and bench-cpu: None when not root, else a
    new temporary directory, with signals handled, Postfix, the tool
    (ensure_tool()) and the system accounts in place."""
    if os.geteuid() != 0:
        say("%s: needs root" % who)
        return None
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    ensure_postfix_package()
    ensure_tool()
    ensure_system_accounts()
    return make_top()


def side_instances(top, kinds, meta, made):
    """posthorn installed under top, the bench user (made["user"] is set
    once it exists, for teardown()), one Mta per kind and both versions
    in meta: (home, sink_port, mtas)."""
    root = os.path.join(top, "root")
    install_posthorn(root)
    home = create_bench_user(top)
    made["user"] = True
    sink_port = free_port()
    mtas = [Mta(kind, top, root, sink_port) for kind in kinds]
    meta["posthorn_version"] = "git " + git_rev()
    meta["postfix_version"] = run(["/usr/sbin/postconf", "-d", "-h", "mail_version"],
                                  check=False).stdout.strip()
    return home, sink_port, mtas


def write_report(prefix, text, meta, results, who):
    """Print a report and keep it: bench/results/<prefix>-<time>.md and
    .json, and <prefix>-latest.md."""
    say("")
    say(text)
    os.makedirs(RESULTS, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    md = os.path.join(RESULTS, "%s-%s.md" % (prefix, stamp))
    with open(md, "w") as f:
        f.write(text)
    with open(os.path.join(RESULTS, "%s-%s.json" % (prefix, stamp)), "w") as f:
        json.dump({"meta": meta, "results": results}, f, indent=1, sort_keys=True)
    shutil.copyfile(md, os.path.join(RESULTS, "%s-latest.md" % prefix))
    say("%s: report in %s (and bench/results/%s-latest.md)" % (who, md, prefix))


def disk_counters(path):
    """(write requests, flushes) completed so far by the block device that
    holds path, from /proc/diskstats (whole disk: a partition's line has no
    flush count); None where it cannot be told."""
    st = os.stat(path)
    major, minor = os.major(st.st_dev), os.minor(st.st_dev)
    try:
        with open("/sys/dev/block/%d:%d/../dev" % (major, minor)) as f:
            major, minor = (int(x) for x in f.read().split(":"))
    except (OSError, ValueError):
        pass                                # not a partition: the disk itself
    try:
        with open("/proc/diskstats") as f:
            for line in f:
                v = line.split()
                if int(v[0]) == major and int(v[1]) == minor:
                    return (int(v[7]), int(v[15]) if len(v) > 15 else 0, int(v[10]))
    except (OSError, ValueError, IndexError):
        pass
    return None


def disk_per_msg(res, prefix, before, after):
    """Write requests and flushes per message between two disk_counters()."""
    if before and after:
        res[prefix + "disk_writes_per_msg"] = (after[0] - before[0]) / N
        res[prefix + "disk_flushes_per_msg"] = (after[1] - before[1]) / N
        writes = after[0] - before[0]
        res[prefix + "disk_ms_per_write"] = (after[2] - before[2]) / writes if writes else None


def quiesce():
    """Before each measured run: write back what earlier runs (of either
    MTA) left dirty in the page cache -- directory and inode blocks that
    nobody fsynced -- so that the kernel's writeback of one run does not
    land in the middle of the next one's."""
    os.sync()
    time.sleep(0.5)


def relay_run(mta, sink_port):
    """(a), (b), (d): one smtp-source run relayed to smtp-sink."""
    res = {}
    quiesce()
    sink = start_sink(sink_port, N)
    sampler = PssSampler(mta.master_pid)
    cpu0 = cpu_snapshot(mta.master_pid)
    disk0 = disk_counters(mta.queue)
    sampler.start()
    t0 = time.time()
    src = smtp_source(mta.port, "rcpt@sink.example.test", N)
    deadline = t0 + TIMEOUT
    t_src = finish(src, deadline, "%s smtp-source" % mta.kind)
    ok = t_src is not None and check_source(src, mta.kind + " relay")
    if ok:
        res["accept_rate"] = N / (t_src - t0)
    if not ok:
        sink.proc.kill()
    t_sink = finish(sink, deadline, "%s end-to-end (smtp-sink -M %d)" % (mta.kind, N))
    if ok and t_sink is not None:
        res["e2e_rate"] = N / (t_sink - t0)
    res["peak_pss_mib"] = sampler.finish() / 1024.0
    res["peak_pss_procs"] = sampler.peak_procs
    cpu, per = cpu_delta(cpu0, cpu_snapshot(mta.master_pid), sampler.seen)
    res["cpu_ms_per_msg"] = 1000.0 * cpu / N
    disk_per_msg(res, "", disk0, disk_counters(mta.queue))
    res["cpu_by_process_s"] = {k: round(v, 2) for k, v in per.items() if v > 0}
    if "e2e_rate" not in res:
        say("---- %s log tail\n%s" % (mta.kind, mta.log_tail()))
    return res


def put_maildir_aside(home):
    """Move ~/Maildir out of the way of the next run instead of deleting it.
    Deleting thousands of files during the bench would slow the next run's
    file creation on ext4 without a journal: its inode allocator passes over
    every inode freed in the last minute (six if the inode table block is
    still dirty) before it takes a free one (recently_deleted() in
    fs/ext4/ialloc.c) -- a cost of the bench, not of either MTA. The old
    Maildirs go with the bench's temporary directory at the end."""
    maildir = os.path.join(home, "Maildir")
    if not os.path.exists(maildir):
        return
    old = os.path.join(os.path.dirname(home), "old-maildirs")
    os.makedirs(old, exist_ok=True)
    os.rename(maildir, os.path.join(old, "Maildir.%d" % len(os.listdir(old))))


class DirCounter:
    """The number of files in a directory that may not exist yet (a
    Maildir's new/ before the first delivery), and the time it reached n:
    inotify (IN_CREATE, IN_MOVED_TO) once the directory exists, so that
    the moment the last file appears is known to within a millisecond
    without listing a directory of thousands of files over and over; a
    directory listing every 50 ms where inotify is not available."""
    IN_CREATE, IN_MOVED_TO, IN_Q_OVERFLOW = 0x100, 0x80, 0x4000

    def __init__(self, path):
        self.path, self.fd, self.names = path, -1, set()
        try:
            self.libc = ctypes.CDLL(None, use_errno=True)
        except OSError:
            self.libc = None

    def _watch(self):
        if self.libc is None or not os.path.isdir(self.path):
            return False
        fd = self.libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if fd < 0:
            self.libc = None
            return False
        if self.libc.inotify_add_watch(fd, self.path.encode(),
                                       self.IN_CREATE | self.IN_MOVED_TO) < 0:
            os.close(fd)
            self.libc = None
            return False
        self.fd = fd
        self.names.update(os.listdir(self.path))     # after the watch: none missed
        return True

    def _read(self):
        try:
            buf = os.read(self.fd, 65536)
        except BlockingIOError:
            return
        off = 0
        while off + 16 <= len(buf):
            _, mask, _, size = struct.unpack_from("iIII", buf, off)
            name = buf[off + 16:off + 16 + size].split(b"\0", 1)[0]
            off += 16 + size
            if mask & self.IN_Q_OVERFLOW:
                self.names.update(os.listdir(self.path))
            elif name:
                self.names.add(name.decode(errors="replace"))

    def wait(self, n, deadline):
        """The time the directory held n files, or None at the deadline."""
        try:
            while time.time() < deadline:
                if self.fd < 0 and not self._watch():
                    try:
                        if len(os.listdir(self.path)) >= n:
                            return time.time()
                    except OSError:
                        pass
                    time.sleep(0.05 if self.libc is None else 0.005)
                    continue
                if len(self.names) >= n:
                    return time.time()
                select.select([self.fd], [], [], max(0.0, min(0.5, deadline - time.time())))
                self._read()
            return None
        finally:
            if self.fd >= 0:
                os.close(self.fd)
                self.fd = -1

    def count(self):
        try:
            return len(os.listdir(self.path))
        except OSError:
            return 0


def local_run(mta, home):
    """(c): N messages into ~phbench/Maildir/new."""
    res = {}
    put_maildir_aside(home)
    quiesce()
    new = DirCounter(os.path.join(home, "Maildir", "new"))
    sampler = PssSampler(mta.master_pid)
    cpu0 = cpu_snapshot(mta.master_pid)
    disk0 = disk_counters(mta.queue)
    sampler.start()
    t0 = time.time()
    src = smtp_source(mta.port, "%s@%s" % (BENCH_USER, HOSTNAME), N)
    deadline = t0 + TIMEOUT
    t_src = finish(src, deadline, "%s smtp-source (local)" % mta.kind)
    ok = t_src is not None and check_source(src, mta.kind + " local")
    if ok:
        res["local_accept_rate"] = N / (t_src - t0)
    t_done = new.wait(N, deadline) if ok else None
    if t_done is not None:
        res["local_rate"] = N / (t_done - t0)
    else:
        say("bench: %s local delivery: %d of %d in Maildir/new\n---- log tail\n%s" % (
            mta.kind, new.count(), N, mta.log_tail()))
    res["local_peak_pss_mib"] = sampler.finish() / 1024.0
    cpu, per = cpu_delta(cpu0, cpu_snapshot(mta.master_pid), sampler.seen)
    res["local_cpu_ms_per_msg"] = 1000.0 * cpu / N
    disk_per_msg(res, "local_", disk0, disk_counters(mta.queue))
    res["local_cpu_by_process_s"] = {k: round(v, 2) for k, v in per.items() if v > 0}
    put_maildir_aside(home)
    return res


def measure(mta, sink_port, home):
    res = {}
    try:
        mta.start()
        res.update(relay_run(mta, sink_port))
        res.update(local_run(mta, home))
    except (RuntimeError, OSError, subprocess.SubprocessError) as e:
        say("bench: %s round failed: %s" % (mta.kind, e))
        res["error"] = str(e)[:2000]
    finally:
        mta.stop()
    return res


# ---- report ---------------------------------------------------------------

# key, label, unit, higher is better
METRICS = [
    ("accept_rate", "(a) acceptance", "msg/s", True),
    ("e2e_rate", "(b) end-to-end relay", "msg/s", True),
    ("local_rate", "(c) local Maildir delivery", "msg/s", True),
    ("peak_pss_mib", "(d) peak PSS during (a)+(b)", "MiB", False),
    ("local_peak_pss_mib", "    peak PSS during (c)", "MiB", False),
    ("cpu_ms_per_msg", "    MTA CPU per msg, relay", "ms", False),
    ("local_cpu_ms_per_msg", "    MTA CPU per msg, local", "ms", False),
    ("disk_writes_per_msg", "    disk writes per msg, relay", "reqs", False),
    ("local_disk_writes_per_msg", "    disk writes per msg, local", "reqs", False),
]
CEILINGS = [
    ("protocol", "smtp-source -> smtp-sink", "msg/s"),
    ("floor_accept", "floor.c (c): accepted", "msg/s"),
    ("floor_local", "floor.c (c): in Maildir/new", "msg/s"),
    ("fsync1", "create+write+fsync+unlink, 1 thread", "ops/s"),
    ("fsync20", "create+write+fsync+unlink, %d threads" % SESSIONS, "ops/s"),
]


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(v, digits=1):
    return "-" if v is None else "%.*f" % (digits, v)


def summarize(rounds, ceil):
    s = {"posthorn": {}, "postfix": {}, "ratio": {}, "ceilings": {}}
    for kind in ("posthorn", "postfix"):
        for key, _, _, _ in METRICS:
            s[kind][key] = median([r[kind].get(key) for r in rounds])
    # The ratio is the median of the per-round ratios: posthorn and Postfix
    # run back to back in each round, so a pair saw about the same load.
    s["ratio_of_medians"] = {}
    for key, _, _, _ in METRICS:
        pairs = [(r["posthorn"].get(key), r["postfix"].get(key)) for r in rounds]
        s["ratio"][key] = median([a / b for a, b in pairs if a is not None and b])
        a, b = s["posthorn"][key], s["postfix"][key]
        s["ratio_of_medians"][key] = a / b if a is not None and b else None
    s["ceilings"] = dict(ceil)
    return s


def print_table(s, meta):
    say("")
    say("posthorn (%s) vs Postfix %s: N=%d messages of %d bytes, %d sessions, medians of %d round(s)"
        % (meta["posthorn_version"], meta["postfix_version"], N, SIZE, SESSIONS, meta["rounds"]))
    say("%-32s %10s %10s %8s  %s" % ("metric", "posthorn", "Postfix", "ratio", "better"))
    for key, label, unit, higher in METRICS:
        say("%-32s %10s %10s %8s  %s" % (
            "%s, %s" % (label, unit), fmt(s["posthorn"][key]), fmt(s["postfix"][key]),
            fmt(s["ratio"][key], 2), ">1: posthorn better" if higher else "<1: posthorn better"))
    say("ratio: median of the per-round posthorn/Postfix ratios (the two run back to back)")
    say("machine ceilings (same run):")
    for key, label, unit in CEILINGS:
        say("  %-44s %10s %s" % (label, fmt(s["ceilings"][key]), unit))
    fl, pf = s["ceilings"].get("floor_local"), s["postfix"].get("local_rate")
    say("  floor.c (c) / Postfix (c): %s (the most any MTA with this durability gets on this machine)"
        % fmt(fl / pf if fl and pf else None, 2))
    say("load average at start/end: %s / %s, %d CPUs" % (
        meta["loadavg_start"], meta.get("loadavg_end", "?"), meta["cpus"]))


def git_rev():
    p = run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], check=False)
    rev = p.stdout.strip() or "unknown"
    # diff-index is read-only (no index refresh): may call a touched file modified
    if run(["git", "-C", REPO, "diff-index", "--quiet", "HEAD", "--"], check=False).returncode:
        rev += "+modified"
    return rev


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def write_results(lines):
    """<timestamp>.json; latest.json only for a complete run (with a summary)."""
    os.makedirs(RESULTS, exist_ok=True)
    complete = any(rec.get("type") == "summary" for rec in lines)
    stamp = time.strftime("%Y%m%d-%H%M%S") + ("" if complete else "-partial")
    path = os.path.join(RESULTS, stamp + ".json")
    with open(path, "a") as f:
        for rec in lines:
            f.write(json.dumps(rec, sort_keys=True) + "\n")
    if complete:
        shutil.copyfile(path, os.path.join(RESULTS, "latest.json"))
    return path


def load_summary(path):
    summary = None
    with open(path) as f:
        for line in f:
            rec = json.loads(line)
            if rec.get("type") == "summary":
                summary = rec
    if summary is None:
        raise SystemExit("%s: no summary line" % path)
    return summary


def compare(a_path, b_path):
    a, b = load_summary(a_path), load_summary(b_path)
    say("A: %s  (%s, N=%s, %s rounds, load %s)" % (a_path, a["meta"]["time"], a["meta"]["n"],
                                                   a["meta"]["rounds"], a["meta"]["loadavg_start"]))
    say("B: %s  (%s, N=%s, %s rounds, load %s)" % (b_path, b["meta"]["time"], b["meta"]["n"],
                                                   b["meta"]["rounds"], b["meta"]["loadavg_start"]))
    say("%-32s %9s %9s %7s | %9s %9s %7s" % ("metric", "A posth.", "B posth.", "B/A",
                                              "A ratio", "B ratio", "B/A"))
    for key, label, unit, _ in METRICS:
        pa, pb = a["posthorn"].get(key), b["posthorn"].get(key)
        ra, rb = a["ratio"].get(key), b["ratio"].get(key)
        say("%-32s %9s %9s %7s | %9s %9s %7s" % (
            "%s, %s" % (label, unit), fmt(pa), fmt(pb), fmt(pb / pa if pa and pb else None, 2),
            fmt(ra, 2), fmt(rb, 2), fmt(rb / ra if ra and rb else None, 2)))
    for key, label, unit in CEILINGS:
        ca, cb = a["ceilings"].get(key), b["ceilings"].get(key)
        say("%-32s %9s %9s %7s" % ("ceiling " + key + ", " + unit, fmt(ca), fmt(cb),
                                   fmt(cb / ca if ca and cb else None, 2)))
    return 0


# ---- main -----------------------------------------------------------------

def guarded(who):
    """Decorator for a whole run: an interrupt is status 130, a failed step
    (after the run's own cleanup) status 1, each said."""
    def wrap(fn):
        def run(*args):
            try:
                return fn(*args)
            except KeyboardInterrupt:
                say("%s: interrupted" % who)
                return 130
            except (RuntimeError, OSError, subprocess.SubprocessError) as e:
                say("%s: failed: %s" % (who, e))
                return 1
        return run
    return wrap


def teardown(mtas, user_made, top, who):
    """Stop the instances, remove the bench user and the temporary directory."""
    for mta in mtas:
        try:
            mta.stop()
        except Exception as e:        # keep cleaning up
            say("%s: stopping %s: %s" % (who, mta.kind, e))
    if user_made:
        remove_bench_user()
    shutil.rmtree(top, ignore_errors=True)
    try:
        os.makedirs(RESULTS, exist_ok=True)
        with open(SETTLED_STAMP, "w"):
            pass
    except OSError:
        pass


def on_signal(signum, frame):
    raise KeyboardInterrupt("signal %d" % signum)


@guarded("bench")
def bench():
    if os.geteuid() != 0:
        say("bench: needs root (installs postfix, starts two MTAs, adds a user)")
        return 1
    if N < 1 or ROUNDS < 1:
        say("bench: BENCH_N and BENCH_ROUNDS must be positive")
        return 1
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    installed = ensure_postfix_package()
    ensure_system_accounts()
    top = make_top()
    mtas, user_made, lines = [], False, []
    meta = {"type": "meta", "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "n": N,
            "rounds": ROUNDS, "sessions": SESSIONS, "size": SIZE, "cpus": os.cpu_count(),
            "kernel": platform.release(), "loadavg_start": loadavg(), "tmpdir": top,
            "postfix_installed_by_bench": installed}
    try:
        root = os.path.join(top, "root")
        install_posthorn(root)
        home = create_bench_user(top)
        user_made = True
        sink_port = free_port()
        mtas = [Mta("posthorn", top, root, sink_port), Mta("postfix", top, root, sink_port)]
        meta["posthorn_version"] = mtas[0].version()
        meta["postfix_version"] = mtas[1].version()
        lines.append(meta)
        rounds = []
        for i in range(ROUNDS):
            say("bench: round %d of %d (N=%d)" % (i + 1, ROUNDS, N))
            rec = {"type": "round", "round": i + 1}
            # abba order: posthorn first in rounds 1, 4, 5, 8, ..., Postfix first
            # in 2, 3, 6, 7, ...: a drift of the machine during the run (disk,
            # other load, the file system's recently freed inodes) does not
            # favour one MTA
            order = mtas if (i % 4) in (0, 3) else mtas[::-1]
            for mta in order:
                rec[mta.kind] = r = measure(mta, sink_port, home)
                say("  %-8s accept %s  e2e %s  local %s msg/s  PSS %s MiB  CPU %s ms/msg (%s)" % (
                    mta.kind, fmt(r.get("accept_rate")), fmt(r.get("e2e_rate")),
                    fmt(r.get("local_rate")), fmt(r.get("peak_pss_mib")),
                    fmt(r.get("cpu_ms_per_msg"), 2),
                    ", ".join("%s %.1fs" % kv for kv in list(r.get("cpu_by_process_s", {}).items())[:4])))
                say("  %-8s disk writes per msg (ms each): relay %s (%s), local %s (%s)" % (
                    mta.kind, fmt(r.get("disk_writes_per_msg"), 2), fmt(r.get("disk_ms_per_write"), 2),
                    fmt(r.get("local_disk_writes_per_msg"), 2), fmt(r.get("local_disk_ms_per_write"), 2)))
            rounds.append(rec)
            lines.append(rec)
        ceil = ceilings(top, sink_port)
        lines.append({"type": "ceilings", "ceilings": ceil})
        meta["loadavg_end"] = loadavg()
        s = summarize(rounds, ceil)
        s.update({"type": "summary", "meta": meta})
        lines.append(s)
        print_table(s, meta)
        failed = any("error" in r[k] for r in rounds for k in ("posthorn", "postfix"))
        return 1 if failed else 0
    finally:
        teardown(mtas, user_made, top, "bench")
        if lines:
            path = write_results(lines)
            say("bench: results in %s%s" % (path, "" if path.endswith("-partial.json")
                                              else " (and bench/results/latest.json)"))


def main(argv):
    if len(argv) >= 2 and argv[1] == "--compare":
        if len(argv) != 4:
            say("usage: bench/run --compare A.json B.json")
            return 2
        return compare(argv[2], argv[3])
    if len(argv) > 1:
        say("usage: bench/run [--compare A.json B.json]")
        return 2
    return bench()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
