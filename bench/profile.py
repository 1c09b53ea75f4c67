#!/usr/bin/env python3
"""
profile.py - make bench-profile: where posthorn and Debian's Postfix spend
their work per message, by process type (smtpd, cleanup, trivial-rewrite,
qmgr, smtp, local, master, ...).

Same setup as make bench (bench.py: the two isolated instances with the same
main.cf, smtp-source -s 20 -l 2048 into the MTA). Two paths:
  relay  smtp-source -> MTA -> smtp-sink (the relayhost of both MTAs)
  local  smtp-source -> MTA -> ~phbench/Maildir/new (home_mailbox = Maildir/)
and for each MTA and path two runs, each on a freshly started instance and
each until smtp-source is done AND the queue is empty (every message
delivered and removed):
  1. counted run of BENCH_N messages (default 400), under strace -f -ff
     (attached to the MTA's master and every process it has running; the
     children it forks later are followed): system calls per message by
     process type (fsync, rename, link, unlink, open, close, read, write,
     fork, exec, connect, accept, ...). strace makes the run slow; the
     counts do not depend on that.
  2. timed run of BENCH_PROFILE_TIMED_N messages (default 5 * BENCH_N)
     WITHOUT strace: CPU time (utime+stime from /proc/PID/stat, sampled
     every 100 ms so processes that exit are charged to their own name;
     reaped children not sampled are charged to their parent through its
     cutime/cstime; the kernel samples these at the tick, so they are
     coarse), and from perf record of the sched:sched_switch,
     sched:sched_process_fork, sched:sched_process_exit and
     sys_enter_(clock_)nanosleep tracepoints,
     system wide but kept only for the MTA's process tree: the exact time
     on a CPU (switch-in to switch-out), context switches (a switch-out in
     state R is involuntary, any other voluntary) and sleep calls. After
     the run, /proc/PID/smaps of every live process of the tree: RSS, PSS
     and private dirty memory per process type, and the private dirty part
     of the libssl/libcrypto mappings (relocations).
A process that forks without exec (posthorn's per-delivery child) is counted
under its parent's type; the "procs" column says how many processes of the
type ran. Every figure is divided by the number of messages delivered.

Output: a markdown report, printed and written to
bench/results/profile-<timestamp>.md (+ profile-latest.md) with the raw
numbers in profile-<timestamp>.json.

Environment: BENCH_N (400), BENCH_PROFILE_TIMED_N (5 * BENCH_N: the timed runs),
BENCH_TIMEOUT (300 s per run), BENCH_SESSIONS,
BENCH_SIZE, BENCH_BIN, BENCH_OBJ as for make bench; BENCH_PROFILE_PATHS
("relay local"), BENCH_PROFILE_MTAS ("posthorn postfix").

SECURITY: runs as root like bench.py (same user, directory and cleanup rules);
strace and perf are only attached to the MTAs' own process trees (perf
records system wide but only the tree's pids are kept); it installs the
strace package when missing (perf is optional: without it the context
switch columns are empty).
"""
import os
import re
import shutil
import subprocess
import sys
import time

os.environ.setdefault("BENCH_N", "400")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench as B  # noqa: E402 - the instances, load generators and /proc helpers

N = B.N
# the timed run is fast and its CPU figures are sampled: more messages there
N_TIMED = int(os.environ.get("BENCH_PROFILE_TIMED_N", str(5 * N)))
PATHS = os.environ.get("BENCH_PROFILE_PATHS", "relay local").split()
KINDS = os.environ.get("BENCH_PROFILE_MTAS", "posthorn postfix").split()
STRACE = "/usr/bin/strace"
PERF = shutil.which("perf")

# column, system calls counted in it
SYSCALL_COLUMNS = [
    ("fsync", ("fsync", "fdatasync", "syncfs", "sync_file_range")),
    ("rename", ("rename", "renameat", "renameat2")),
    ("link", ("link", "linkat")),
    ("unlink", ("unlink", "unlinkat", "rmdir")),
    ("open", ("open", "openat", "openat2", "creat")),
    ("close", ("close", "close_range")),
    ("read", ("read", "readv", "pread64", "preadv", "preadv2", "recvfrom")),
    ("write", ("write", "writev", "pwrite64", "pwritev", "pwritev2", "sendto")),
    ("stat", ("stat", "fstat", "lstat", "newfstatat", "statx", "access", "faccessat",
              "faccessat2", "readlink", "readlinkat")),
    ("fork", ("fork", "vfork", "clone", "clone3")),
    ("exec", ("execve", "execveat")),
    ("connect", ("connect",)),
    ("accept", ("accept", "accept4")),
    ("sendmsg", ("sendmsg", "recvmsg", "sendmmsg", "recvmmsg")),
    ("wait", ("poll", "ppoll", "select", "pselect6", "epoll_wait", "epoll_pwait",
              "epoll_pwait2", "wait4", "waitid")),
    ("id", ("setuid", "setgid", "setresuid", "setresgid", "setreuid", "setregid",
            "seteuid", "setegid", "setgroups")),
    ("lock", ("flock", "fcntl")),
]

say = B.say


# ---- load: one run of N messages until the queue is empty ------------------

def queue_files(mta):
    n = 0
    for sub in ("maildrop", "incoming", "active", "deferred", "hold"):
        for _, _, files in os.walk(os.path.join(mta.queue, sub)):
            n += len(files)
    return n


def maildir_count(home):
    try:
        return len(os.listdir(os.path.join(home, "Maildir", "new")))
    except OSError:
        return 0


def run_load(mta, path, sink_port, home, n=N):
    """smtp-source n into mta; returns once all n are delivered and the queue
    is empty. The sink (relay) runs without -M, so no reply is lost."""
    B.put_maildir_aside(home)
    sink = B.start_sink(sink_port) if path == "relay" else None
    try:
        rcpt = "rcpt@sink.example.test" if path == "relay" else \
            "%s@%s" % (B.BENCH_USER, B.HOSTNAME)
        t0 = time.time()
        src = B.smtp_source(mta.port, rcpt, n)
        deadline = t0 + B.TIMEOUT
        if B.finish(src, deadline, "%s smtp-source (%s)" % (mta.kind, path)) is None \
                or not B.check_source(src, "%s %s" % (mta.kind, path)):
            raise RuntimeError("%s %s: smtp-source failed\n%s" % (mta.kind, path, mta.log_tail()))
        while time.time() < deadline:
            if queue_files(mta) == 0 and (path == "relay" or maildir_count(home) >= n):
                return time.time() - t0
            time.sleep(0.1)
        raise RuntimeError("%s %s: queue not empty after %.0fs (%d files, %d in Maildir)\n%s" % (
            mta.kind, path, B.TIMEOUT, queue_files(mta), maildir_count(home), mta.log_tail()))
    finally:
        if sink is not None:
            sink.proc.terminate()
            B.finish(sink, time.time() + 10, "smtp-sink exit")


# ---- counted run: strace ---------------------------------------------------

def wait_traced(pids, timeout=20):
    def traced(pid):
        try:
            with open("/proc/%d/status" % pid) as f:
                for line in f:
                    if line.startswith("TracerPid:"):
                        return int(line.split()[1]) != 0
        except OSError:
            return True                   # gone: nothing to wait for
        return False
    B.wait_until(lambda: all(traced(p) for p in pids), timeout, "strace to attach")


def comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return None


SYSCALL_RE = re.compile(r"^([a-z_0-9]+)\(")
EXEC_RE = re.compile(r'^execve(?:at)?\("([^"]*)".* = 0$')
CHILD_RE = re.compile(r"^(?:clone3?|v?fork)\(.*\) += (\d+)$")


def parse_traces(tdir, initial):
    """Per pid: (type, {syscall: count}, [children]). initial: pid -> comm of
    the processes strace attached to."""
    procs = {}
    for name in os.listdir(tdir):
        pid = int(name.rsplit(".", 1)[1])
        calls, kids, exe = {}, [], None
        with open(os.path.join(tdir, name), errors="replace") as f:
            for line in f:
                m = SYSCALL_RE.match(line)
                if not m:
                    continue
                calls[m.group(1)] = calls.get(m.group(1), 0) + 1
                e = EXEC_RE.match(line.rstrip())
                if e:
                    exe = os.path.basename(e.group(1))
                c = CHILD_RE.match(line.rstrip())
                if c:
                    kids.append(int(c.group(1)))
        procs[pid] = [exe or initial.get(pid), calls, kids]
    # a process that did not exec has its parent's type
    parent = {k: p for p, v in procs.items() for k in v[2]}
    for pid, v in procs.items():
        seen, q = set(), pid
        while v[0] is None and q in parent and q not in seen:
            seen.add(q)
            q = parent[q]
            v[0] = procs[q][0] if procs[q][0] is not None else v[0]
        if v[0] is None:
            v[0] = "unknown"
    return procs


def counted_run(mta, path, sink_port, home, top):
    mta.start()
    time.sleep(1.0)                   # let master start its wakeup services
    tdir = os.path.join(top, "strace-%s-%s" % (mta.kind, path))
    os.makedirs(tdir)
    pids, _ = B.tree_pids(mta.master_pid)
    argv = [STRACE, "-f", "-ff", "-qq", "-s", "0", "-o", os.path.join(tdir, "t")]
    for p in pids:
        argv += ["-p", str(p)]
    tracer = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_traced(pids)
        initial = {p: comm(p) for p in pids}     # after attach: no exec in between
        elapsed = run_load(mta, path, sink_port, home)
    finally:
        B.interrupt(tracer, 60)                      # strace detaches; the MTA keeps running
        mta.stop()
    procs = parse_traces(tdir, initial)
    shutil.rmtree(tdir, ignore_errors=True)
    per_type = {}
    for ptype, calls, _ in procs.values():
        t = per_type.setdefault(ptype, {"procs": 0, "calls": {}})
        t["procs"] += 1
        for k, v in calls.items():
            t["calls"][k] = t["calls"].get(k, 0) + v
    return {"elapsed_s": round(elapsed, 2), "types": per_type}


# ---- timed run: /proc CPU, perf context switches, smaps ----------------------

PERF_EVENTS = ["sched:sched_switch", "sched:sched_process_fork", "sched:sched_process_exit",
               "syscalls:sys_enter_nanosleep", "syscalls:sys_enter_clock_nanosleep"]
LINE_RE = re.compile(r"^\s*(.*?)\s+(\d+)\s+([\d.]+):\s+(\S+):\s*(.*)$")
SWITCH_RE = re.compile(r"prev_comm=(.*?) prev_pid=(\d+) .*?prev_state=(\S+) ==> "
                       r"next_comm=.*? next_pid=(\d+)")
FORK_RE = re.compile(r" pid=(\d+) child_comm=.*? child_pid=(\d+)")


def perf_events(data, tree):
    """From a perf.data file, for the pids of tree and their descendants
    (sched_process_fork): comm -> {vol, invol: context switches, run_ms:
    time on a CPU (between switch-in and switch-out), sleeps: nanosleep
    calls}. A pid leaves the set at its last switch-out after
    sched_process_exit: the machine reuses pids (other processes then
    get them) within one run."""
    p = subprocess.run([PERF, "script", "-i", data, "-F", "comm,pid,time,event,trace"],
                       capture_output=True, text=True, errors="replace", timeout=600)
    pids, out, on_cpu, comms, dying = set(tree), {}, {}, {}, set()

    def bucket(pid):
        return out.setdefault(comms.get(pid, "?"), {"vol": 0, "invol": 0, "run_ms": 0.0,
                                                     "sleeps": 0})
    for line in p.stdout.splitlines():
        m = LINE_RE.match(line)
        if not m:
            continue
        comm, pid, t, event, rest = m.group(1), int(m.group(2)), float(m.group(3)), \
            m.group(4), m.group(5)
        if event == "sched:sched_process_fork":
            f = FORK_RE.search(rest)
            if f and int(f.group(1)) in pids:
                pids.add(int(f.group(2)))
        elif event == "sched:sched_process_exit":
            if pid in pids:
                dying.add(pid)
        elif event == "sched:sched_switch":
            sw = SWITCH_RE.search(rest)
            if not sw:
                continue
            prev, nxt = int(sw.group(2)), int(sw.group(4))
            if prev in pids:
                comms[prev] = sw.group(1)
                b = bucket(prev)
                b["vol" if not sw.group(3).startswith("R") else "invol"] += 1
                if prev in on_cpu:
                    b["run_ms"] += 1000.0 * (t - on_cpu.pop(prev))
                if prev in dying:
                    pids.discard(prev)
                    dying.discard(prev)
            if nxt in pids:
                on_cpu[nxt] = t
        elif "nanosleep" in event and pid in pids:
            comms[pid] = comm
            bucket(pid)["sleeps"] += 1
    return out


def smaps(pid):
    """(rss, pss, private_dirty, private_dirty of libssl/libcrypto) in kB"""
    tot = [0, 0, 0, 0]
    ssl = False
    try:
        with open("/proc/%d/smaps" % pid) as f:
            for line in f:
                fields = line.split()
                if not line[0].isupper() or not fields[0].endswith(":"):
                    name = fields[5] if len(fields) >= 6 else ""
                    ssl = "libssl" in name or "libcrypto" in name
                    continue
                key = fields[0]
                if key == "Rss:":
                    tot[0] += int(fields[1])
                elif key == "Pss:":
                    tot[1] += int(fields[1])
                elif key == "Private_Dirty:":
                    tot[2] += int(fields[1])
                    if ssl:
                        tot[3] += int(fields[1])
    except (OSError, ValueError, IndexError):
        return None
    return tot


def memory_by_type(root):
    pids, table = B.tree_pids(root)
    out = {}
    for pid in pids:
        m = smaps(pid)
        if m is None:
            continue
        t = out.setdefault(table[pid][1], [0, 0, 0, 0, 0])
        t[0] += 1
        for i in range(4):
            t[i + 1] += m[i]
    return {k: {"procs": v[0], "rss_kb": v[1] // v[0], "pss_kb": v[2] // v[0],
                "private_dirty_kb": v[3] // v[0], "ssl_private_dirty_kb": v[4] // v[0]}
            for k, v in out.items()}


def timed_run(mta, path, sink_port, home, top):
    mta.start()
    time.sleep(1.0)
    res = {}
    perf, data = None, os.path.join(top, "perf-%s-%s.data" % (mta.kind, path))
    try:
        pids, _ = B.tree_pids(mta.master_pid)
        if PERF:
            argv = [PERF, "record", "-q", "-a", "-o", data]
            for e in PERF_EVENTS:
                argv += ["-e", e]
            perf = subprocess.Popen(argv,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            time.sleep(1.0)                       # perf needs a moment to start recording
        sampler = B.PssSampler(mta.master_pid)
        cpu0 = B.cpu_snapshot(mta.master_pid)
        sampler.start()
        res["elapsed_s"] = round(run_load(mta, path, sink_port, home, N_TIMED), 2)
        sampler.finish()
        cpu, per = B.cpu_delta(cpu0, B.cpu_snapshot(mta.master_pid), sampler.seen)
        res["cpu_ms"] = {k.replace("master+other", "master"): 1000.0 * v for k, v in per.items()}
        res["memory"] = memory_by_type(mta.master_pid)
    finally:
        if perf is not None:
            B.interrupt(perf, 120)                   # perf writes its file and exits
        mta.stop()
    if perf is not None and os.path.exists(data):
        res["perf"] = perf_events(data, pids)
        os.unlink(data)
    return res


# ---- report -------------------------------------------------------------------

COLUMNS = ["procs", "CPU ms", "run ms", "vol cs", "invol cs", "sleeps", "syscalls"] + [c for c, _ in SYSCALL_COLUMNS]


def rows_for(counted, timed):
    """type -> {column: value per message}"""
    rows = {}
    for ptype, t in counted["types"].items():
        r = rows.setdefault(ptype, {})
        r["procs"] = t["procs"]
        r["syscalls"] = sum(t["calls"].values()) / N
        for col, names in SYSCALL_COLUMNS:
            r[col] = sum(t["calls"].get(n, 0) for n in names) / N
    for ptype, ms in timed.get("cpu_ms", {}).items():
        rows.setdefault(ptype, {})["CPU ms"] = ms / N_TIMED
    for ptype, ev in timed.get("perf", {}).items():
        r = rows.setdefault(ptype, {})
        r["run ms"], r["sleeps"] = ev["run_ms"] / N_TIMED, ev["sleeps"] / N_TIMED
        r["vol cs"], r["invol cs"] = ev["vol"] / N_TIMED, ev["invol"] / N_TIMED
    return rows


def fmtv(col, v):
    if v is None:
        return ""
    if col == "procs":
        return str(v)
    if col in ("CPU ms", "run ms", "sleeps"):
        return "%.3f" % v
    return "%.0f" % v if v >= 100 else "%.2f" % v if v < 10 else "%.1f" % v


def total_row(rows):
    tot = {}
    for r in rows.values():
        for col, v in r.items():
            tot[col] = tot.get(col, 0) + v
    return tot


def table(rows):
    order = sorted(rows, key=lambda t: -rows[t].get("syscalls", 0))
    lines = ["| process | " + " | ".join(COLUMNS) + " |",
             "|---|" + "---:|" * len(COLUMNS)]
    for ptype in order + ["**total**"]:
        r = rows[ptype] if ptype in rows else total_row(rows)
        lines.append("| %s | %s |" % (ptype, " | ".join(fmtv(c, r.get(c)) for c in COLUMNS)))
    return lines


def report(results, meta):
    out = ["# make bench-profile: per-message work by process type", "",
           "posthorn %s vs Postfix %s; N=%d messages (counted runs), %d (timed runs) of %d "
           "bytes, %d smtp-source sessions; %s; load average %s at start, %s at end." % (
               meta["posthorn_version"], meta["postfix_version"], N, N_TIMED, B.SIZE, B.SESSIONS,
               meta["time"], meta["loadavg_start"], meta.get("loadavg_end", "?")), "",
           "Every column is per message delivered, except procs (processes of that type "
           "that ran during the counted run). CPU ms (utime+stime from /proc, tick-sampled), "
           "run ms (time on a CPU between sched_switch events: exact), context switches "
           "(vol = blocked, invol = preempted) and sleeps (nanosleep calls) come from a run "
           "without strace, recorded with perf; the system call columns from a run under "
           "strace -f. "
           "A child that forks without exec counts as its parent's type.", "",
           "Columns: fsync = fsync+fdatasync; rename/link/unlink (+renameat, linkat, unlinkat, "
           "rmdir); open = open+openat; read = read+readv+pread+recvfrom; write = write+writev+"
           "pwrite+sendto; stat = stat family+access+readlink; fork = clone/fork/vfork; "
           "sendmsg = sendmsg+recvmsg; wait = poll/select/epoll_wait/wait4; id = set*id calls; "
           "lock = flock+fcntl.", ""]
    summary = ["## Totals per message", "",
               "| path | MTA | CPU ms | run ms | vol cs | invol cs | sleeps | syscalls | fsync | "
               "rename | link | unlink | open | fork | exec | connect |", "|---|---|" + "---:|" * 14]
    for path in PATHS:
        for kind in KINDS:
            res = results.get(kind, {}).get(path)
            if not res or "error" in res:
                out += ["## %s: %s" % (path, kind), "",
                        "failed: %s" % (res or {}).get("error", "not run"), ""]
                continue
            rows = rows_for(res["counted"], res["timed"])
            out += ["## %s: %s" % (path, kind), "",
                    "counted run %.1f s under strace, timed run %.1f s without." % (
                        res["counted"]["elapsed_s"], res["timed"]["elapsed_s"]), ""]
            out += table(rows) + [""]
            t = total_row(rows)
            summary.append("| %s | %s | %s |" % (path, kind, " | ".join(
                fmtv(c, t.get(c)) for c in ("CPU ms", "run ms", "vol cs", "invol cs", "sleeps",
                                            "syscalls", "fsync",
                                            "rename", "link", "unlink", "open", "fork", "exec",
                                            "connect"))))
    out += summary + [""]
    out += ["## Memory per process (smaps after the timed run, kB, average per process)", "",
            "| path | MTA | process | procs | RSS | PSS | private dirty | of it libssl+libcrypto |",
            "|---|---|---|---:|---:|---:|---:|---:|"]
    for path in PATHS:
        for kind in KINDS:
            mem = results.get(kind, {}).get(path, {}).get("timed", {}).get("memory", {})
            for ptype in sorted(mem):
                m = mem[ptype]
                out.append("| %s | %s | %s | %d | %d | %d | %d | %d |" % (
                    path, kind, ptype, m["procs"], m["rss_kb"], m["pss_kb"],
                    m["private_dirty_kb"], m["ssl_private_dirty_kb"]))
    return "\n".join(out) + "\n"


# ---- main -----------------------------------------------------------------

def ensure_strace():
    if not os.path.exists(STRACE):
        B.apt_install("strace", "bench-profile")


@B.guarded("bench-profile")
def profile():
    top = B.side_start("bench-profile", ensure_strace)
    if top is None:
        return 1
    if not PERF:
        say("bench-profile: no perf: context switch columns stay empty")
    mtas, made, results, failed = [], {}, {}, False
    meta = {"time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "n": N, "loadavg_start": B.loadavg()}
    try:
        home, sink_port, mtas = B.side_instances(top, KINDS, meta, made)
        for path in PATHS:
            for mta in mtas:
                say("bench-profile: %s %s: counted run (strace), N=%d" % (mta.kind, path, N))
                res = results.setdefault(mta.kind, {}).setdefault(path, {})
                try:
                    res["counted"] = counted_run(mta, path, sink_port, home, top)
                    say("bench-profile: %s %s: timed run" % (mta.kind, path))
                    res["timed"] = timed_run(mta, path, sink_port, home, top)
                except (RuntimeError, OSError, subprocess.SubprocessError) as e:
                    say("bench-profile: %s %s failed: %s" % (mta.kind, path, e))
                    res["error"] = str(e)[:2000]
                    failed = True
        meta["loadavg_end"] = B.loadavg()
        B.write_report("profile", report(results, meta), meta, results, "bench-profile")
        return 1 if failed else 0
    finally:
        B.teardown(mtas, made.get("user"), top, "bench-profile")


if __name__ == "__main__":
    sys.exit(profile())
