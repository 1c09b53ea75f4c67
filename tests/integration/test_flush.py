"""
test_flush.py - the fast flush service: ETRN, postqueue -s and
sendmail -qR deliver only the named site's deferred mail.

Two relay domains go to two next hops (transport_maps) that are down at
first, so each message is deferred and qmgr logs it with the flush
service; then both next hops come up, and a flush for one site delivers
that site's mail only while the other's stays in the queue.
"""
import os
import socket

from posthorn import Instance, free_port, run, sbin, wait_for
from smtp_sink import SmtpSink

SITES = ("one.example", "two.example")


def flush_instance(name, ports):
    inst = Instance(name, main={
        "relay_domains": " ".join(SITES),
        "transport_maps": "hash:" + "/dev/null",     # replaced below
        "smtp_connect_timeout": "2s",
        "queue_run_delay": "1h", "minimal_backoff_time": "1h", "maximal_backoff_time": "2h",
    })
    table = inst.write_table("transport", "".join(
        "%s smtp:[127.0.0.1]:%d\n" % (site, port) for site, port in zip(SITES, ports)),
        postmap=True)
    inst.params["transport_maps"] = "hash:" + table
    inst.write_main()
    return inst


def deferred_pair(inst):
    """One message per site, both deferred (connection refused); their ids."""
    ids = {}
    for site in SITES:
        s = inst.session(helo="EHLO client.example")
        ids[site] = s.message("sender@example.test", ["user@" + site],
                              "Subject: to %s\r\n\r\nbody\r\n" % site)
        s.cmd("QUIT")
        inst.wait_log(r"%s: to=<user@%s>, .*status=deferred" % (ids[site], site))
    return ids


def queued(inst, qid):
    p = inst.cmd("postqueue", "-p")
    return qid in p.stdout


def check_one_site_flushed(inst, srv_one, ids, flush):
    flush()
    srv_one.wait()
    inst.wait_log(r"%s: to=<user@one.example>, .*status=sent" % ids["one.example"])
    wait_for(lambda: not queued(inst, ids["one.example"]), 10, "one.example's mail gone")
    assert queued(inst, ids["two.example"])
    assert "to=<user@two.example>, relay=127" not in inst.log()


def run_case(name, flush_fn):
    ports = [free_port(), free_port()]
    with flush_instance(name, ports) as inst:
        inst.start()
        ids = deferred_pair(inst)
        with SmtpSink(port=ports[0]) as one, SmtpSink(port=ports[1]) as two:
            check_one_site_flushed(inst, one, ids, lambda: flush_fn(inst))
            assert two.transactions == []
        log = inst.log()
        assert not [l for l in log.splitlines() if "postfix/flush" in l and
                    ("warning" in l or "fatal" in l or "panic" in l)], log


def test_etrn_flushes_only_that_site():
    def etrn(inst):
        s = inst.session(helo="EHLO client.example")
        assert s.cmd("ETRN one.example") == ["250 Queuing started"]
        assert s.cmd("ETRN other.example") == ["459 <other.example>: service unavailable"]
        s.cmd("QUIT")
    run_case("flush-etrn", etrn)


def wakeup(inst):
    """What master sends every $wakeup seconds: one byte, then close."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(os.path.join(inst.queue, "public", "flush"))
    sock.sendall(b"W")
    sock.close()


def test_postqueue_s_flushes_only_that_site():
    def pq(inst):
        wakeup(inst)                    # a refresh: the logs are still there
        p = inst.cmd("postqueue", "-s", "one.example")
        assert p.returncode == 0, p.stderr
        p = inst.cmd("postqueue", "-s", "other.example")
        assert p.returncode != 0
        assert 'Flush service is not configured for destination "other.example"' in p.stderr
    run_case("flush-pq", pq)


def test_chrooted_flush_with_debian_master_cf():
    """Debian's master.cf runs flush chrooted ("flush unix n - y 1000? 0 flush")."""
    from test_chroot import debian_instance
    ports = [free_port(), free_port()]
    table_text = "".join("%s smtp:[127.0.0.1]:%d\n" % (site, port)
                         for site, port in zip(SITES, ports))
    inst = debian_instance("flush-chroot", main={
        "relay_domains": " ".join(SITES), "smtp_connect_timeout": "2s",
        "queue_run_delay": "1h", "minimal_backoff_time": "1h", "maximal_backoff_time": "2h"})
    with inst:
        table = inst.write_table("transport", table_text, postmap=True)
        with open(os.path.join(inst.conf, "main.cf"), "a") as f:
            f.write("transport_maps = hash:%s\n" % table)
        inst.start()
        ids = deferred_pair(inst)
        with SmtpSink(port=ports[0]) as one, SmtpSink(port=ports[1]) as two:
            p = inst.cmd("postqueue", "-s", "one.example")
            assert p.returncode == 0, p.stderr
            one.wait()
            wait_for(lambda: not queued(inst, ids["one.example"]), 10, "one.example's mail gone")
            assert queued(inst, ids["two.example"]) and two.transactions == []
        assert "fatal" not in inst.log() and "panic" not in inst.log()


def test_sendmail_qR_flushes_only_that_site():
    def qr(inst):
        p = run([sbin("sendmail"), "-c", inst.conf, "-qRone.example"])
        assert p.returncode == 0, p.stderr
    run_case("flush-qr", qr)


def test_etrn_restrictions_apply():
    with Instance("flush-etrn-acl", main={"relay_domains": "one.example",
                                          "smtpd_etrn_restrictions": "reject"}) as inst:
        inst.start()
        s = inst.session(helo="EHLO client.example")
        assert s.cmd("ETRN one.example") == [
            "554 5.7.1 <one.example>: Etrn command rejected: Access denied"]
        s.cmd("QUIT")
