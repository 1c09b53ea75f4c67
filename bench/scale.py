#!/usr/bin/env python3
"""
scale.py - make bench-scale: posthorn and Debian's Postfix with a large
deferred queue (issue 13 item 5), side by side.

Same two isolated instances as make bench (bench.py's Mta: one main.cf,
only the program paths differ), plus:
  relayhost      [127.0.0.1]:<a port nobody listens on> (the dead next-hop)
  transport_maps live.example.test -> smtp:[127.0.0.1]:<smtp-sink> (live)
  minimal_backoff_time 2h, maximal_backoff_time 4h (nothing falls due by
  itself during the run: only the postqueue -f below retries the queue)

For each MTA, one after the other:
  1. empty queue: start fresh, postqueue -f, then smtp-source -m
     BENCH_SCALE_NEW (2000) messages to live.example.test: acceptance rate
     (until smtp-source is done) and delivery rate (until smtp-sink has
     them all); qmgr's peak RSS (VmHWM) and peak PSS (sampled every 100 ms),
     the peak number of files in active/ (sampled);
  2. fill: start fresh, smtp-source -m BENCH_SCALE_N (100000) messages to
     dead.example.test, until all N are in deferred/ (the next-hop stays
     dead for the whole run); stop;
  3. loaded: start again on that queue, postqueue -f (every deferred
     message is due: qmgr works through all N while new mail arrives), and
     at once the same run as 1; also how many deferred messages were
     retried meanwhile (status=deferred lines in the log), so a queue
     manager that ignores deferred/ is not mistaken for a fair one;
  4. listing: restart (the flush is over; nothing is due), then postqueue
     -p twice: wall time, time to the first byte of output (does it stream
     or read the whole queue first), bytes, peak RSS of postqueue
     (wait4) and of showq (VmHWM of the showq process afterwards).
The goal (issue 13 item 5): loaded/empty >= 0.8 for acceptance and
delivery, qmgr memory bounded by qmgr_message_active_limit (not by N),
postqueue -p streaming.

Output: a table, and bench/results/scale-<timestamp>.json (one JSON object).

Environment: BENCH_SCALE_N (100000; smaller for a quick run),
BENCH_SCALE_NEW (2000), BENCH_SCALE_MTAS ("posthorn postfix"),
BENCH_SCALE_LOGS (a directory: each MTA's maillog is copied there),
BENCH_TIMEOUT (300 s per measurement; the fill gets N/50 s at least),
BENCH_SESSIONS, BENCH_SIZE, BENCH_BIN, BENCH_OBJ as for make bench.

SECURITY: runs as root like bench.py (its install, instance and cleanup
helpers); writes only under its own mkdtemp() directory and bench/results/;
creates no user.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench as B  # noqa: E402 - the instances, load generators and /proc helpers

N = int(os.environ.get("BENCH_SCALE_N", "100000"))
NEW = int(os.environ.get("BENCH_SCALE_NEW", "2000"))
KINDS = os.environ.get("BENCH_SCALE_MTAS", "posthorn postfix").split()
LOGS = os.environ.get("BENCH_SCALE_LOGS")      # keep each MTA's log here
FILL_TIMEOUT = max(B.TIMEOUT, N / 50.0)
LIVE_DOMAIN = "live.example.test"
DEAD_DOMAIN = "dead.example.test"
TIME = "/usr/bin/time"
say = B.say


# ---- /proc helpers ----------------------------------------------------------

def find_comm(root, comm, timeout=10):
    """pid of the first process named comm in root's tree (waits for it)."""
    end = time.time() + timeout
    while time.time() < end:
        pids, table = B.tree_pids(root)
        for pid in pids:
            if table[pid][1] == comm:
                return pid
        time.sleep(0.05)
    return None


def vm_kb(pid, field="VmHWM"):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def count_files(path):
    n = 0
    for _, _, files in os.walk(path):
        n += len(files)
    return n


class ActiveSampler(B.PssSampler):
    """Peak number of files in active/ (and hash subdirectories); finish()
    returns it (PssSampler's thread, stop and join)."""

    def __init__(self, queue, interval=0.2):
        super().__init__(None, interval)
        self.path = os.path.join(queue, "active")

    def run(self):
        while not self.done.is_set():
            self.peak_kb = max(self.peak_kb, count_files(self.path))
            self.done.wait(self.interval)


# ---- the instances ----------------------------------------------------------

def configure(mta, live_port):
    """The extra main.cf lines (later lines win) and the transport table."""
    table = os.path.join(mta.conf, "transport")
    with open(table, "w") as f:
        f.write("%s smtp:[127.0.0.1]:%d\n" % (LIVE_DOMAIN, live_port))
    mta.cmd("postmap", "hash:" + table)
    with open(os.path.join(mta.conf, "main.cf"), "a") as f:
        f.write("# scale.py\ntransport_maps = hash:%s\n" % table)
        f.write("minimal_backoff_time = 2h\nmaximal_backoff_time = 4h\n")


def log_size(mta):
    try:
        return os.path.getsize(mta.maillog)
    except OSError:
        return 0


def log_count(mta, offset, text):
    try:
        with open(mta.maillog, errors="replace") as f:
            f.seek(offset)
            return sum(1 for line in f if text in line)
    except OSError:
        return 0


# ---- measurements -----------------------------------------------------------

def new_mail_run(mta, live_port):
    """postqueue -f, then NEW messages to the live destination."""
    res = {}
    qmgr = find_comm(mta.master_pid, "qmgr")
    if qmgr is None:
        raise RuntimeError("%s: no qmgr process" % mta.kind)
    sink = B.start_sink(live_port, NEW)
    qmgr_pss, tree_pss = B.PssSampler(qmgr), B.PssSampler(mta.master_pid)
    active = ActiveSampler(mta.queue)
    for s in (qmgr_pss, tree_pss, active):
        s.start()
    log0 = log_size(mta)
    mta.cmd("postqueue", "-f")
    t0 = time.time()
    src = B.smtp_source(mta.port, "rcpt@" + LIVE_DOMAIN, NEW)
    deadline = t0 + B.TIMEOUT
    t_src = B.finish(src, deadline, "%s smtp-source" % mta.kind)
    ok = t_src is not None and B.check_source(src, mta.kind + " new mail")
    if ok:
        res["accept_rate"] = NEW / (t_src - t0)
    else:
        sink.proc.kill()
    t_sink = B.finish(sink, deadline, "%s delivery (smtp-sink -M %d)" % (mta.kind, NEW))
    if ok and t_sink is not None:
        res["delivery_rate"] = NEW / (t_sink - t0)
    else:
        say("---- %s log tail\n%s" % (mta.kind, mta.log_tail()))
    res["qmgr_peak_pss_mib"] = qmgr_pss.finish() / 1024.0
    res["tree_peak_pss_mib"] = tree_pss.finish() / 1024.0
    res["active_peak"] = active.finish()
    hwm = vm_kb(qmgr)
    res["qmgr_hwm_mib"] = hwm / 1024.0 if hwm is not None else None
    res["seconds"] = time.time() - t0
    res["deferred_retried"] = log_count(mta, log0, "status=deferred")
    return res


def fill(mta):
    """N messages to the dead next-hop, until all are in deferred/."""
    t0 = time.time()
    src = B.smtp_source(mta.port, "rcpt@" + DEAD_DOMAIN, N)
    t_src = B.finish(src, t0 + FILL_TIMEOUT, "%s fill smtp-source" % mta.kind)
    if t_src is None or not B.check_source(src, mta.kind + " fill"):
        raise RuntimeError("%s: fill failed\n%s" % (mta.kind, mta.log_tail()))
    deferred = os.path.join(mta.queue, "deferred")
    end, n = t0 + FILL_TIMEOUT, 0
    while time.time() < end:
        n = count_files(deferred)
        if n >= N:
            return {"fill_seconds": time.time() - t0, "fill_accept_rate": N / (t_src - t0)}
        time.sleep(1)
    raise RuntimeError("%s: %d of %d in deferred/ after %.0fs\n%s" % (
        mta.kind, n, N, FILL_TIMEOUT, mta.log_tail()))


def list_once(mta):
    """postqueue -p: wall time, first byte, bytes, peak RSS (postqueue, showq)."""
    # GNU time forks postqueue from a small process: wait4() in this one
    # would count the Python interpreter's pages before the exec.
    rss_file = os.path.join(mta.dir, "postqueue.rss")
    argv = [TIME, "-f", "%M", "-o", rss_file,
            os.path.join(mta.sbin, "postqueue"), "-c", mta.conf, "-p"]
    t0 = time.time()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    first, nbytes, tail = None, 0, b""
    while True:
        chunk = p.stdout.read1(65536)
        if not chunk:
            break
        if first is None:
            first = time.time() - t0
        nbytes += len(chunk)
        tail = (tail + chunk)[-200:]
    p.stdout.close()
    status = p.wait()
    wall = time.time() - t0
    with open(rss_file) as f:
        maxrss_kb = int(f.read().split()[-1])
    showq = find_comm(mta.master_pid, "showq", timeout=2)
    hwm = vm_kb(showq) if showq else None
    return {"wall_s": wall, "first_byte_s": first, "bytes": nbytes,
            "postqueue_maxrss_mib": maxrss_kb / 1024.0,
            "showq_hwm_mib": hwm / 1024.0 if hwm is not None else None,
            "last_line": tail.decode(errors="replace").strip().splitlines()[-1:] or [""],
            "status": status}


def measure(mta, live_port):
    res = {}
    try:
        say("  %s: empty queue, %d new messages" % (mta.kind, NEW))
        mta.start()
        res["empty"] = new_mail_run(mta, live_port)
        say("  %s: filling deferred/ with %d messages" % (mta.kind, N))
        mta.start()
        res.update(fill(mta))
        say("  %s: filled in %.0fs; %d deferred, %d new messages" % (
            mta.kind, res["fill_seconds"], N, NEW))
        mta.start(fresh=False)
        res["loaded"] = new_mail_run(mta, live_port)
        say("  %s: postqueue -p" % mta.kind)
        mta.start(fresh=False)
        res["list"] = [list_once(mta) for _ in range(2)]
    except (RuntimeError, OSError, subprocess.SubprocessError) as e:
        say("bench-scale: %s failed: %s" % (mta.kind, e))
        res["error"] = str(e)[:2000]
    finally:
        mta.stop()
        if LOGS:
            os.makedirs(LOGS, exist_ok=True)
            shutil.copyfile(mta.maillog, os.path.join(LOGS, "scale-%s.log" % mta.kind))
    return res


# ---- report -----------------------------------------------------------------

def ratio(res, key):
    a, b = res.get("loaded", {}).get(key), res.get("empty", {}).get(key)
    return a / b if a is not None and b else None


def best_list(res, key, pick=min):
    vals = [r.get(key) for r in res.get("list", []) if r.get(key) is not None]
    return pick(vals) if vals else None


ROWS = [
    ("new mail acceptance, empty queue, msg/s", lambda r: r.get("empty", {}).get("accept_rate")),
    ("new mail acceptance, N deferred, msg/s", lambda r: r.get("loaded", {}).get("accept_rate")),
    ("  loaded/empty (goal >= 0.80)", lambda r: ratio(r, "accept_rate"), 2),
    ("new mail delivery, empty queue, msg/s", lambda r: r.get("empty", {}).get("delivery_rate")),
    ("new mail delivery, N deferred, msg/s", lambda r: r.get("loaded", {}).get("delivery_rate")),
    ("  loaded/empty (goal >= 0.80)", lambda r: ratio(r, "delivery_rate"), 2),
    ("deferred retried during the run", lambda r: r.get("loaded", {}).get("deferred_retried"), 0),
    ("files in active/, peak (loaded)", lambda r: r.get("loaded", {}).get("active_peak"), 0),
    ("qmgr peak RSS, empty queue, MiB", lambda r: r.get("empty", {}).get("qmgr_hwm_mib")),
    ("qmgr peak RSS, N deferred, MiB", lambda r: r.get("loaded", {}).get("qmgr_hwm_mib")),
    ("qmgr peak PSS, N deferred, MiB", lambda r: r.get("loaded", {}).get("qmgr_peak_pss_mib")),
    ("MTA peak PSS, N deferred, MiB", lambda r: r.get("loaded", {}).get("tree_peak_pss_mib")),
    ("postqueue -p wall time, s", lambda r: best_list(r, "wall_s"), 2),
    ("postqueue -p first byte, s", lambda r: best_list(r, "first_byte_s"), 3),
    ("postqueue -p peak RSS, MiB", lambda r: best_list(r, "postqueue_maxrss_mib", max)),
    ("showq peak RSS, MiB", lambda r: best_list(r, "showq_hwm_mib", max)),
    ("fill: N accepted and deferred, s", lambda r: r.get("fill_seconds"), 0),
]


def print_table(results, meta):
    say("")
    say("bench-scale: %d deferred (dead next-hop), %d new messages of %d bytes, %d sessions"
        % (N, NEW, B.SIZE, B.SESSIONS))
    say("posthorn %s, Postfix %s" % (meta.get("posthorn_version"), meta.get("postfix_version")))
    kinds = [k for k in KINDS if k in results]
    say("%-42s" % "metric" + "".join("%12s" % k for k in kinds))
    for row in ROWS:
        label, get = row[0], row[1]
        digits = row[2] if len(row) > 2 else 1
        say("%-42s" % label + "".join("%12s" % B.fmt(get(results[k]), digits) for k in kinds))
    say("load average at start/end: %s / %s" % (meta["loadavg_start"], meta.get("loadavg_end")))


def write_results(record):
    os.makedirs(B.RESULTS, exist_ok=True)
    path = os.path.join(B.RESULTS, "scale-%s.json" % time.strftime("%Y%m%d-%H%M%S"))
    with open(path, "w") as f:
        json.dump(record, f, indent=1, sort_keys=True)
        f.write("\n")
    return path


@B.guarded("bench-scale")
def scale():
    if os.geteuid() != 0:
        say("bench-scale: needs root (installs postfix, starts two MTAs)")
        return 1
    if N < 1 or NEW < 1 or not KINDS or set(KINDS) - {"posthorn", "postfix"}:
        say("bench-scale: BENCH_SCALE_N and BENCH_SCALE_NEW must be positive,"
            " BENCH_SCALE_MTAS posthorn and/or postfix")
        return 1
    signal.signal(signal.SIGTERM, B.on_signal)
    signal.signal(signal.SIGHUP, B.on_signal)
    installed = B.ensure_postfix_package()
    B.ensure_system_accounts()
    top = B.make_top()
    mtas, results = [], {}
    meta = {"time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "n": N, "new": NEW,
            "sessions": B.SESSIONS, "size": B.SIZE, "cpus": os.cpu_count(),
            "loadavg_start": B.loadavg(), "postfix_installed_by_bench": installed}
    record = {"type": "scale", "meta": meta, "results": results}
    try:
        root = os.path.join(top, "root")
        B.install_posthorn(root)
        dead_port, live_port = B.free_port(), B.free_port()
        for kind in KINDS:
            mta = B.Mta(kind, top, root, dead_port)
            configure(mta, live_port)
            mtas.append(mta)
            meta[kind + "_version"] = mta.version()
        for mta in mtas:
            results[mta.kind] = measure(mta, live_port)
        meta["loadavg_end"] = B.loadavg()
        print_table(results, meta)
        return 1 if any("error" in r for r in results.values()) else 0
    finally:
        B.teardown(mtas, False, top, "bench-scale")
        say("bench-scale: results in %s" % write_results(record))


if __name__ == "__main__":
    sys.exit(scale())
