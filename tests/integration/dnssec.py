"""
dnssec.py - a DNSSEC-signed test domain with a validating resolver, on
loopback, for the DANE tests (test_smtp_dane.py).

    with signed_dns(zone_text, children={"insec": text}, addr=...) as resolv:
        ... mount --bind resolv /etc/resolv.conf ...

At the start: ldns-keygen makes a key for the zone, ldns-signzone signs
it (inception a day back, expiry 30 days on: made now, so no test depends
on the date); nsd serves the signed zone and the unsigned child zones
(delegated from it without a DS record: provably insecure) on AUTH_ADDR;
unbound, with the zone's DS record as its only trust anchor, validates
on addr and sets the AD bit on what it validated. The resolv.conf yielded
points to unbound with "options trust-ad" (without it glibc clears the
AD bit). Both servers run in the foreground with config files of their
own in a temporary directory (never the system's nsd or unbound), as
root, and are killed at the end; run it inside a private network
namespace (port 53 on loopback). Needs the Debian packages nsd, unbound
and ldnsutils (tests/deps.sh).
"""
import contextlib
import os
import shutil
import subprocess
import tempfile
import time

from posthorn import run, wait_for

ZONE = "dane.test"
AUTH_ADDR = "127.0.0.2"         # nsd; unbound is on the address the caller gives
SOA = ("@ 300 IN SOA ns.%s. hostmaster.%s. 1 3600 600 86400 300\n"
       "@ 300 IN NS ns.%s.\n")


def _write(path, text):
    with open(path, "w") as f:
        f.write(text)


def _sign(top, text):
    """Key and signed zone file; returns the DS record text."""
    _write(os.path.join(top, ZONE + ".zone"), text)
    base = subprocess.run(["ldns-keygen", "-a", "ECDSAP256SHA256", "-k", ZONE], cwd=top,
                          check=True, capture_output=True, text=True).stdout.strip()
    now = int(time.time())
    run(["ldns-signzone", "-i", str(now - 86400), "-e", str(now + 30 * 86400),
         "-f", os.path.join(top, ZONE + ".signed"), os.path.join(top, ZONE + ".zone"),
         os.path.join(top, base)], check=True)
    with open(os.path.join(top, base + ".ds")) as f:
        return f.read().strip()


def _nsd_conf(top, children):
    zones = "zone:\n    name: \"%s\"\n    zonefile: \"%s.signed\"\n" % (ZONE, ZONE)
    for label in children:
        zones += "zone:\n    name: \"%s.%s\"\n    zonefile: \"%s.zone\"\n" % (label, ZONE, label)
    return ("server:\n    ip-address: %s\n    port: 53\n    username: \"\"\n"
            "    chroot: \"\"\n    database: \"\"\n    zonesdir: \"%s\"\n"
            "    zonelistfile: \"%s/zone.list\"\n    xfrdfile: \"%s/xfrd.state\"\n"
            "    xfrdir: \"%s\"\n    pidfile: \"\"\n    logfile: \"%s/nsd.log\"\n"
            "    server-count: 1\n    verbosity: 1\nremote-control:\n"
            "    control-enable: no\n%s" % (AUTH_ADDR, top, top, top, top, top, zones))


def _unbound_conf(top, addr, ds):
    _write(os.path.join(top, "anchor"), ds + "\n")
    return ("server:\n    interface: %s\n    port: 53\n    username: \"\"\n"
            "    chroot: \"\"\n    directory: \"%s\"\n    pidfile: \"\"\n"
            "    use-syslog: no\n    logfile: \"%s/unbound.log\"\n    verbosity: 1\n"
            "    val-log-level: 2\n    do-not-query-localhost: no\n"
            "    qname-minimisation: no\n    module-config: \"validator iterator\"\n"
            "    trust-anchor-file: \"%s/anchor\"\n    access-control: 127.0.0.0/8 allow\n"
            "    local-zone: \"test.\" nodefault\n    outgoing-interface: 127.0.0.1\n"
            "stub-zone:\n    name: \"%s\"\n    stub-addr: %s\n"
            % (addr, top, top, top, ZONE, AUTH_ADDR))


def _answers(addr, name):
    """Does the resolver on addr answer (anything) for name yet?"""
    q = subprocess.run(["python3", "-c", _PROBE, addr, name], capture_output=True, timeout=10)
    return q.returncode == 0


# A tiny DNS query (A, RD) over UDP: exit 0 on any reply.
_PROBE = r"""
import socket, struct, sys
addr, name = sys.argv[1], sys.argv[2]
q = struct.pack(">HHHHHH", 7, 0x0100, 1, 0, 0, 0)
q += b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0"
q += struct.pack(">HH", 1, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1)
s.sendto(q, (addr, 53))
s.recv(4096)
"""


def _start(argv, top, name):
    log = open(os.path.join(top, name + ".out"), "w")
    return subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def _stop(p):
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


@contextlib.contextmanager
def signed_dns(zone, children=None, addr="127.0.0.3"):
    """Sign zone (the records of ZONE, without SOA/NS) and serve it with
    the unsigned children (label -> records); yields a resolv.conf."""
    children = children or {}
    top = tempfile.mkdtemp(prefix="posthorn-dnssec-", dir="/tmp")
    procs = []
    try:
        text = "$ORIGIN %s.\n" % ZONE + SOA % (ZONE, ZONE, ZONE)
        text += "ns 300 IN A %s\n" % AUTH_ADDR + zone
        for label in children:
            text += "%s 300 IN NS ns.%s.\n" % (label, ZONE)
        ds = _sign(top, text)
        for label, records in children.items():
            origin = "%s.%s" % (label, ZONE)
            _write(os.path.join(top, label + ".zone"), "$ORIGIN %s.\n" % origin
                   + SOA % (origin, origin, ZONE) + records)
        _write(os.path.join(top, "nsd.conf"), _nsd_conf(top, children))
        _write(os.path.join(top, "unbound.conf"), _unbound_conf(top, addr, ds))
        procs.append(_start(["nsd", "-d", "-c", os.path.join(top, "nsd.conf")], top, "nsd"))
        procs.append(_start(["unbound", "-d", "-c", os.path.join(top, "unbound.conf")],
                            top, "unbound"))
        resolv = os.path.join(top, "resolv.conf")
        _write(resolv, "nameserver %s\noptions trust-ad timeout:2 attempts:1\n" % addr)
        wait_for(lambda: _answers(addr, "ns." + ZONE) or any(p.poll() is not None for p in procs),
                 20, "nsd and unbound on %s, %s" % (AUTH_ADDR, addr))
        for p, name in zip(procs, ("nsd", "unbound")):
            if p.poll() is not None:
                with open(os.path.join(top, name + ".out")) as f:
                    raise AssertionError("%s did not start: %s" % (name, f.read()))
        yield resolv
    finally:
        for p in reversed(procs):
            _stop(p)
        shutil.rmtree(top, ignore_errors=True)
