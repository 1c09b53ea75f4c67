"""
test_tlsmgr.py - TLS session resumption across processes through the
tlsmgr service: smtpd's session cache (smtpd_tls_session_cache_database)
and the session ticket keys tlsmgr hands out, the smtp client's cache
(smtp_tls_session_cache_database), and what happens without them.

Two connections are served by two different smtpd processes: the service
under test runs with "-o max_use=1", so each process serves one client
and exits; the tests check the two sessions' "disconnect from ...
starttls=1" lines have different process ids. openssl s_client saves the first session (-sess_out) and
offers it on the second connection (-sess_in): "Reused" or "New".
"""
import os
import pwd
import re

from posthorn import Instance, free_port, port_open, wait_for
from smtp_sink import SmtpSink
from test_chroot import append_main, debian_instance
from test_smtp import submit
from test_smtp_tls import BODY, relay_params, sent, server_ctx
from test_tls import Certs, s_client, tls_params

SCACHE = "btree:${data_directory}/smtpd_scache"
TLSMGR_LINE = r"^tlsmgr\s+unix\s.*$"


def one_client_service(port):
    """An smtpd service whose processes each serve one client."""
    return "127.0.0.1:%d inet n - n - 2 smtpd\n  -o max_use=1\n" % port


def tls_session_pids(inst, n):
    """The process ids of the first n sessions that used STARTTLS (probes
    that only test the port do not count)."""
    rx = re.compile(r"postfix/smtpd\[(\d+)\]: disconnect from \S+\[127\.0\.0\.1\] "
                    r"ehlo=1 starttls=1 ")
    wait_for(lambda: len(_service_pids(inst, rx)) >= n, 20, "%d TLS sessions" % n)
    return _service_pids(inst, rx)[:n]


def _service_pids(inst, rx):
    return [m.group(1) for m in rx.finditer(inst.log())]


def resume_twice(name, certs, main, *proto, no_tlsmgr=False):
    """Two s_client sessions through two smtpd processes; (first, second)
    output and the log."""
    port = free_port()
    params = tls_params(certs, smtpd_peername_lookup="no", **main)
    with Instance(name, main=params, master_extra=one_client_service(port)) as inst:
        # the main port's smtpd must not take the service's log lines: keep it off
        inst.edit_master_cf(r"^%d\s+inet\s.*$" % inst.port, "")
        if no_tlsmgr:
            inst.edit_master_cf(TLSMGR_LINE, "")
        inst.smtp_ready = lambda: port_open(port)
        inst.start()
        sess = os.path.join(certs.dir, "%s.pem" % name)
        first = s_client(port, "-starttls", "smtp", "-sess_out", sess, *proto)
        assert "New, TLS" in first and os.path.getsize(sess) > 0, first
        second = s_client(port, "-starttls", "smtp", "-sess_in", sess, *proto)
        pids = tls_session_pids(inst, 2)
        assert pids[0] != pids[1], pids
        if no_tlsmgr:
            assert "tlsmgr" not in " ".join(re.findall(r"postfix/(\w+)\[", inst.log()))
        return first, second, inst.log()


def test_cache_resumes_in_another_smtpd_process():
    """Tickets off, smtpd_tls_session_cache_database set: the session made
    with one smtpd process is resumed by another, TLS 1.3 and TLS 1.2.
    Without the cache database each process has only its own sessions,
    and the second process starts a new one."""
    with Certs() as certs:
        main = {"smtpd_tls_session_cache_database": SCACHE, "tls_session_ticket_cipher": "",
                "smtpd_tls_loglevel": "2"}
        _, second, log = resume_twice("tlscache13", certs, main)
        assert "Reused, TLSv1.3" in second, second
        reuse = re.findall(r"postfix/smtpd\[\d+\]: \S+\[127\.0\.0\.1\]: Reusing old session$",
                           log, re.M)
        assert len(reuse) == 1, log
        assert re.search(r"postfix/tlsmgr\[\d+\]: open smtpd TLS cache btree:\S+/smtpd_scache$",
                         log, re.M), log
        assert re.search(r"postfix/smtpd\[\d+\]: \S+: reloaded session [0-9A-F]+ from smtpd cache",
                         log), log
        _, second, _ = resume_twice("tlscache12", certs, main, "-tls1_2")
        assert "Reused, TLSv1.2" in second, second
        _, second, _ = resume_twice("tlsnocache", certs, {"tls_session_ticket_cipher": ""})
        assert "New, TLSv1.3" in second, second


def test_tickets_from_tlsmgr_resume_in_another_process():
    """Session tickets (the default): the keys come from tlsmgr, so a ticket
    issued by one smtpd process is accepted by another. Without a tlsmgr
    service each process makes its own key, and the second process cannot
    decrypt the first one's ticket."""
    with Certs() as certs:
        _, second, log = resume_twice("tlstkt13", certs, {"smtpd_tls_loglevel": "2"})
        assert "Reused, TLSv1.3" in second, second
        assert re.search(r"postfix/smtpd\[\d+\]: \S+: Issuing session ticket, "
                         r"key expiration: \d+", log), log
        reuse = re.findall(r"postfix/smtpd\[\d+\]: \S+\[127\.0\.0\.1\]: "
                           r"Reusing old session \(RFC 5077 session ticket\)", log)
        assert len(reuse) == 1, log
        _, second, _ = resume_twice("tlstkt12", certs, {}, "-tls1_2")
        assert "Reused, TLSv1.2" in second, second
        _, second, _ = resume_twice("tlsnomgr", certs, {}, no_tlsmgr=True)
        assert "New, TLSv1.3" in second, second


def test_cache_timeout_zero_turns_resumption_off():
    """smtpd_tls_session_cache_timeout = 0: no cache and no tickets, so not
    even the same smtpd process resumes a session."""
    with Certs() as certs:
        port = free_port()
        extra = "127.0.0.1:%d inet n - n - 1 smtpd\n" % port
        params = tls_params(certs, smtpd_tls_session_cache_timeout="0",
                            smtpd_tls_session_cache_database=SCACHE)
        with Instance("tlsnoresume", main=params, master_extra=extra) as inst:
            inst.start()
            wait_for(lambda: port_open(port), 20)
            # no ticket (TLS 1.3 and 1.2) and no session id (TLS 1.2): the
            # client is given nothing it could offer again
            for proto in ("-tls1_3", "-tls1_2"):
                sess = os.path.join(certs.dir, "noresume%s.pem" % proto)
                out = s_client(port, "-starttls", "smtp", "-sess_out", sess, proto)
                assert "New, TLSv1." in out and not os.path.exists(sess), out
            # the same process (maxproc 1) would have resumed its own ticket
            pids = tls_session_pids(inst, 2)
            assert len(set(pids)) == 1, pids


def test_cache_does_not_survive_restart_and_stop_leaves_nothing():
    """As Postfix's tlsmgr: the cache file is emptied when tlsmgr starts
    and the ticket keys live in its memory, so after "postfix stop" and
    "start" an old session is not resumed; stop leaves no tlsmgr process
    and no temporary cache file behind. The PRNG exchange file
    (tls_random_exchange_name, 1024 bytes, 0600 mail_owner) is rewritten
    by each tlsmgr start."""
    with Certs() as certs:
        params = tls_params(certs, smtpd_tls_session_cache_database=SCACHE,
                            tls_session_ticket_cipher="", tls_random_source="dev:/dev/urandom")
        with Instance("tlsrestart", main=params) as inst:
            inst.start()
            sess = os.path.join(certs.dir, "restart.pem")
            s_client(inst.port, "-starttls", "smtp", "-sess_out", sess)
            out = s_client(inst.port, "-starttls", "smtp", "-sess_in", sess)
            assert "Reused, TLSv1.3" in out, out
            assert tlsmgr_pids(inst), "no tlsmgr process"
            data = inst.params["data_directory"]
            assert os.path.exists(os.path.join(data, "smtpd_scache.db"))
            exch = os.path.join(data, "prng_exch")
            with open(exch, "rb") as f:
                before = f.read()
            st = os.stat(exch)
            assert len(before) == 1024 and st.st_mode & 0o777 == 0o600, st
            assert pwd.getpwuid(st.st_uid).pw_name == "postfix"
            inst.stop()
            wait_for(lambda: not tlsmgr_pids(inst), 20, "tlsmgr gone")
            assert [f for f in os.listdir(data) if ".tmp." in f] == []
            inst.start()
            out = s_client(inst.port, "-starttls", "smtp", "-sess_in", sess)
            assert "New, TLSv1.3" in out, out
            # the PRNG exchange file is read and rewritten when tlsmgr starts
            with open(exch, "rb") as f:
                after = f.read()
            assert len(after) == 1024 and after != before
            assert "not implemented" not in inst.log(), inst.log()


def tlsmgr_pids(inst):
    """The tlsmgr processes of inst: "tlsmgr" runs (under valgrind too),
    and their working directory is its queue."""
    pids = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                args = f.read().split(b"\0")
            cwd = os.readlink("/proc/%s/cwd" % pid)
        except OSError:
            continue
        if cwd == inst.queue and any(os.path.basename(a) == b"tlsmgr" for a in args):
            pids.append(pid)
    return pids


def deliver_twice(name, main):
    """Two messages to a TLS sink, each by its own smtp process; the sink's
    two transactions."""
    with Certs() as certs, SmtpSink(tls=server_ctx(certs)) as sink:
        params = relay_params(sink, smtp_tls_security_level="may", **main)
        with Instance(name, main=params) as inst:
            inst.edit_master_cf(r"^(smtp\s+unix\s.*)$", r"\1\n  -o max_use=1")
            inst.start()
            for n in (1, 2):
                sent(inst, submit(inst, ["someone@remote.example"], BODY))
                sink.wait(n)
            rx = r"postfix/smtp\[(\d+)\]: \w+: to=<someone@remote\.example>"
            pids = re.findall(rx, inst.log())
            assert len(pids) == 2 and pids[0] != pids[1], pids
            return sink.transactions, inst.log()


def test_smtp_client_reuses_session_across_processes():
    """smtp_tls_session_cache_database: the second delivery, by another smtp
    process, resumes the session the first one made with the server;
    without the cache it starts a new one."""
    t, log = deliver_twice("smtpscache", {"smtp_tls_session_cache_database":
                                          "btree:${data_directory}/smtp_scache",
                                          "smtp_tls_loglevel": "2"})
    assert t[0]["tls"] and not t[0]["tls_reused"], t
    assert t[1]["tls"] and t[1]["tls_reused"], t
    reuse = re.findall(r"postfix/smtp\[\d+\]: 127\.0\.0\.1\[127\.0\.0\.1\]:\d+: "
                       r"Reusing old session", log)
    assert len(reuse) == 1, log
    t, _ = deliver_twice("smtpnoscache", {"smtp_tls_loglevel": "2"})
    assert t[1]["tls"] and not t[1]["tls_reused"], t


def test_debian_master_cf_tlsmgr_in_chroot():
    """Debian's master.cf runs tlsmgr (and smtpd) chrooted: no warning about
    a missing tlsmgr any more; tlsmgr opens Debian's smtp_scache (and the
    smtpd cache asked for here) in data_directory, outside the jail, and a
    session made with one chrooted smtpd process is resumed by another."""
    with Certs() as certs, debian_instance("tlsmgrdeb") as inst:
        append_main(inst, "smtpd_tls_session_cache_database = %s\n"
                          "tls_session_ticket_cipher =\n"
                          "smtpd_tls_cert_file = %s\nsmtpd_tls_key_file = %s\n"
                    % (SCACHE, certs.rsa_cert, certs.rsa_key))
        inst.edit_master_cf(r"^(%d\s+inet\s.*)$" % inst.port, r"\1\n  -o max_use=1")
        inst.start()
        sess = os.path.join(certs.dir, "debian-session.pem")
        first = s_client(inst.port, "-starttls", "smtp", "-sess_out", sess)
        assert "New, TLSv1.3" in first, first
        second = s_client(inst.port, "-starttls", "smtp", "-sess_in", sess)
        assert "Reused, TLSv1.3" in second, second
        pids = tls_session_pids(inst, 2)
        assert pids[0] != pids[1], pids
        data = inst.params["data_directory"]
        for db in ("smtpd_scache.db", "smtp_scache.db", "prng_exch"):
            st = os.stat(os.path.join(data, db))
            assert pwd.getpwuid(st.st_uid).pw_name == "postfix", db
        log = inst.log()
        assert not re.search(r"service tlsmgr/unix: cannot execute", log), log
        mine = [l for l in log.splitlines() if re.search(r"postfix/tlsmgr\[|tlsmgr/unix|/tlsmgr:", l)]
        assert not any("warning" in l for l in mine), mine
