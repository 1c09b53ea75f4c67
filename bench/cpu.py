#!/usr/bin/env python3
"""
cpu.py - make bench-cpu: where the machine's CPU goes per message, for
posthorn and Postfix, on the paths of make bench.

For each MTA (a bench.py instance, same main.cf and master.cf as make bench)
and each path (relay: smtp-source -> MTA -> smtp-sink; local: smtp-source ->
MTA -> ~phbench/Maildir/new), one warm-up run and then one run of BENCH_N
messages under `perf record -a -e cpu-clock -F 1000` (every CPU sampled
1,000 times a second, whatever runs on it, the idle task included). The
samples are split by command name and by kernel or user space, and reported
as milliseconds of CPU per message:

  MTA user    the MTA's processes (master and everything it runs), user space
  MTA kernel  the same processes in the kernel: system calls, and the
              network stack and block layer work done in their context
              (on loopback, a sender also runs the receiver's TCP input)
  load        smtp-source and smtp-sink, user and kernel
  bench       this script, perf itself
  kernel      kernel threads (kworker: block I/O completions, writeback;
              ksoftirqd, rcu)
  idle        the idle task

and the rate the run reached, next to the rate the machine's CPUs would
allow if nothing were idle (CPUs * 1000 / busy ms per message). When the
busy part is close to all of it, the path is bound by CPU; when it is not,
by waiting (disk, the protocol's round trips, concurrency limits).

Environment: BENCH_N (2000), BENCH_CPU_PATHS ("relay local"),
BENCH_CPU_MTAS ("posthorn postfix"), BENCH_BIN, BENCH_OBJ. Installs Debian's
postfix and linux-perf packages when missing (only here). Writes
bench/results/cpu-<time>.md and cpu-latest.md.

SECURITY: runs as root, like make bench (same user, same temporary
directory rules); perf records the whole machine for the length of one run.
"""
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench as B  # noqa: E402 - the instances, load generators and helpers

N = B.N
PATHS = os.environ.get("BENCH_CPU_PATHS", "relay local").split()
KINDS = os.environ.get("BENCH_CPU_MTAS", "posthorn postfix").split()
FREQ = 1000
say = B.say

LOAD = {"smtp-source", "smtp-sink"}
BENCH = {"python3", "perf", "perf-exec"}
KERNEL_THREADS = ("kworker", "ksoftirqd", "rcu_", "kthreadd", "migration", "kcompactd",
                  "kswapd", "jbd2", "kdamond", "khugepaged", "watchdog", "cpuhp")
CATEGORIES = ["MTA user", "MTA kernel", "load", "bench", "kernel", "other", "idle"]


def category(comm, kernel_dso, mta_comms):
    if comm == "swapper":
        return "idle"
    if comm in mta_comms:
        return "MTA kernel" if kernel_dso else "MTA user"
    if comm in LOAD:
        return "load"
    if comm in BENCH or comm.startswith("python"):
        return "bench"
    if comm.startswith(KERNEL_THREADS):
        return "kernel"
    return "other"


def mta_comms(mta):
    """Command names of the MTA's processes: every program of its daemon
    directory (master.cf runs nothing else in the bench), cut to the 15
    characters of a command name."""
    daemons = B.PF_DAEMON_DIR if mta.kind == "postfix" else \
        os.path.join(os.path.dirname(mta.sbin), "libexec", "posthorn")
    return {n[:15] for n in os.listdir(daemons)}


def samples(data, t0, t1):
    """[(comm, kernel?, count)] from a perf.data file, between the
    CLOCK_MONOTONIC times t0 and t1."""
    p = subprocess.run(["perf", "report", "-i", data, "--stdio", "-n", "-g", "none",
                        "--time", "%.6f,%.6f" % (t0, t1),
                        "--sort", "comm,dso", "-F", "sample,comm,dso"],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, timeout=600)
    out = []
    for line in p.stdout.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split()
        if len(parts) < 3 or not parts[0].isdigit():
            continue
        count, dso = int(parts[0]), parts[-1]
        comm = " ".join(parts[1:-1])
        out.append((comm, dso.startswith("[kernel"), count))
    return out


def one_run(mta, path, sink_port, home):
    """One measured run of N messages; returns (rate msg/s, seconds)."""
    if path == "relay":
        r = B.relay_run(mta, sink_port)
        return r.get("e2e_rate"), r
    r = B.local_run(mta, home)
    return r.get("local_rate"), r


def measure(mta, path, sink_port, home, top):
    one_run(mta, path, sink_port, home)                 # warm-up: processes, caches
    data = os.path.join(top, "cpu-%s-%s.data" % (mta.kind, path))
    perf = subprocess.Popen(["perf", "record", "-q", "-a", "-e", "cpu-clock", "-F", str(FREQ),
                             "-k", "CLOCK_MONOTONIC", "-o", data],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)                                     # perf needs a moment to start
    t0 = time.clock_gettime(time.CLOCK_MONOTONIC)
    rate, r = one_run(mta, path, sink_port, home)
    t1 = time.clock_gettime(time.CLOCK_MONOTONIC)
    B.interrupt(perf, 120)
    # the run ends when the last message has arrived (smtp-sink -M N exits,
    # or the Maildir holds N): the measured span is the rate's own
    t1 = min(t1, t0 + N / rate) if rate else t1
    comms = mta_comms(mta)
    per_cat = {c: 0 for c in CATEGORIES}
    per_comm = {}
    total = 0
    for comm, kernel, count in samples(data, t0, t1):
        c = category(comm, kernel, comms)
        per_cat[c] += count
        if c.startswith("MTA"):
            per_comm[comm] = per_comm.get(comm, 0) + count
        total += count
    ms = 1000.0 / FREQ
    res = {"rate": rate, "elapsed_s": t1 - t0, "samples": total,
           "ms_per_msg": {c: per_cat[c] * ms / N for c in CATEGORIES},
           "mta_ms_per_msg_by_process": {k: v * ms / N for k, v in
                                         sorted(per_comm.items(), key=lambda kv: -kv[1])},
           "accept_rate": r.get("accept_rate") if path == "relay" else r.get("local_accept_rate")}
    os.unlink(data)
    return res


def report(results, meta):
    cpus = os.cpu_count()
    out = ["# make bench-cpu: machine CPU per message (ms), %s" % meta["time"], "",
           "posthorn %s, Postfix %s; N=%d, %d sessions, %d CPUs; perf cpu-clock at %d Hz "
           "on every CPU, samples from the run's start to its last message." % (
               meta["posthorn_version"], meta["postfix_version"], N, B.SESSIONS, cpus, FREQ), ""]
    out.append("| path | MTA | rate msg/s | " + " | ".join(CATEGORIES) +
               " | busy | CPU-bound rate msg/s |")
    out.append("|---|---|---:|" + "---:|" * len(CATEGORIES) + "---:|---:|")
    for path in PATHS:
        for kind in KINDS:
            r = results.get(kind, {}).get(path)
            if not r or "error" in r:
                out.append("| %s | %s | failed |%s" % (path, kind, " |" * (len(CATEGORIES) + 2)))
                continue
            m = r["ms_per_msg"]
            busy = sum(v for c, v in m.items() if c != "idle")
            out.append("| %s | %s | %s | %s | %.3f | %s |" % (
                path, kind, B.fmt(r["rate"]), " | ".join("%.3f" % m[c] for c in CATEGORIES),
                busy, B.fmt(cpus * 1000.0 / busy if busy else None)))
    out += ["", "MTA processes, ms per message (user + kernel):", ""]
    for path in PATHS:
        for kind in KINDS:
            r = results.get(kind, {}).get(path)
            if r and "error" not in r:
                out.append("- %s %s: %s" % (path, kind, ", ".join(
                    "%s %.3f" % kv for kv in list(r["mta_ms_per_msg_by_process"].items())[:10])))
    out += ["", "busy = every category but idle; CPU-bound rate = CPUs * 1000 / busy: "
            "what the run could reach if the CPUs were never idle."]
    return "\n".join(out) + "\n"


def ensure_perf():
    if not (shutil.which("perf") and subprocess.run(["perf", "--version"], stdout=subprocess.DEVNULL,
                                                   stderr=subprocess.DEVNULL).returncode == 0):
        B.apt_install("linux-perf", "bench-cpu")


@B.guarded("bench-cpu")
def main():
    top = B.side_start("bench-cpu", ensure_perf)
    if top is None:
        return 1
    mtas, made, results, failed = [], {}, {}, False
    meta = {"time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "n": N}
    try:
        home, sink_port, mtas = B.side_instances(top, KINDS, meta, made)
        for path in PATHS:
            for mta in mtas:
                say("bench-cpu: %s %s" % (mta.kind, path))
                try:
                    mta.start()
                    results.setdefault(mta.kind, {})[path] = measure(mta, path, sink_port, home, top)
                except (RuntimeError, OSError, subprocess.SubprocessError) as e:
                    say("bench-cpu: %s %s failed: %s" % (mta.kind, path, e))
                    results.setdefault(mta.kind, {})[path] = {"error": str(e)[:2000]}
                    failed = True
                finally:
                    mta.stop()
        B.write_report("cpu", report(results, meta), meta, results, "bench-cpu")
        return 1 if failed else 0
    finally:
        B.teardown(mtas, made.get("user"), top, "bench-cpu")


if __name__ == "__main__":
    sys.exit(main())
