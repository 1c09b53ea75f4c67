"""
test_outbound.py - outbound delivery scheduling: the smtp client's
connection reuse (through scache: RSET probe, "conn_use=N" in the log,
closed by scache after smtp_connection_cache_time_limit) and qmgr's dead-destination
handling (a failed cohort suspends the destination: later recipients are
deferred by qmgr with "delivery temporarily suspended: <reason>" until a
flush).

The capturing SMTP server (smtp_sink.py) records each connection's commands.
"""
import re
import time

from posthorn import Instance, free_port, wait_for
from smtp_sink import SmtpSink
from test_smtp import submit

BODY = b"Subject: reuse\r\n\r\nhello\r\n"


def ConnServer(port=0):
    """The capturing SMTP server; srv.conns lists each connection's commands."""
    return SmtpSink(port=port, ehlo=("sink.test", "PIPELINING"))


def test_connection_reuse_and_idle_close():
    with ConnServer() as srv, \
            Instance("out-reuse", main={"relayhost": "[127.0.0.1]:%d" % srv.port,
                                        "smtp_connection_cache_destinations":
                                        "[127.0.0.1]:%d" % srv.port,
                                        "smtp_connection_cache_time_limit": "3s"}) as inst:
        # one smtp process, so that the second request finds the session
        inst.start()
        inst.cmd("postconf", "-P", "smtp/unix/process_limit=1")
        inst.cmd("postfix", "reload")
        relay = r"relay=127\.0\.0\.1\[127\.0\.0\.1\]:%d" % srv.port
        q1 = submit(inst, ["one@remote.example"], BODY)
        inst.wait_log(r"postfix/smtp\[\d+\]: %s: to=<one@remote\.example>, %s, delay=.*"
                      r"status=sent" % (q1, relay))
        q2 = submit(inst, ["two@remote.example"], BODY)
        inst.wait_log(r"postfix/smtp\[\d+\]: %s: to=<two@remote\.example>, %s, conn_use=2, "
                      r"delay=.*status=sent \(250 2\.0\.0 Ok: queued as SINK\d+\)" % (q2, relay))
        with srv.lock:
            assert len(srv.conns) == 1, srv.conns
            assert srv.conns[0][:5] == ["EHLO", "MAIL", "RCPT", "DATA", "RSET"], srv.conns
        # idle for longer than the cache time limit: scache closes it
        wait_for(lambda: srv.conns[0][-1] == "<closed>", 15, "the idle session to be closed")
        assert srv.conns[0][-2:] == ["DATA", "<closed>"], srv.conns
        q3 = submit(inst, ["three@remote.example"], BODY)
        inst.wait_log(r"postfix/smtp\[\d+\]: %s: to=<three@remote\.example>, %s, delay=.*"
                      r"status=sent" % (q3, relay))
        with srv.lock:
            assert len(srv.conns) == 2 and srv.conns[1][0] == "EHLO", srv.conns


def test_stale_cached_session_is_replaced_silently():
    with ConnServer() as srv, \
            Instance("out-stale", main={"relayhost": "[127.0.0.1]:%d" % srv.port,
                                        "smtp_connection_cache_destinations":
                                        "[127.0.0.1]:%d" % srv.port}) as inst:
        inst.start()
        inst.cmd("postconf", "-P", "smtp/unix/process_limit=1")
        inst.cmd("postfix", "reload")
        q1 = submit(inst, ["one@remote.example"], BODY)
        inst.wait_log(r"%s: to=<one@remote\.example>, .*status=sent" % q1)
        srv.drop_connections()              # the cached session dies
        wait_for(lambda: srv.conns[0][-1] == "<closed>", 10, "the server side to close")
        q2 = submit(inst, ["two@remote.example"], BODY)
        inst.wait_log(r"postfix/smtp\[\d+\]: %s: to=<two@remote\.example>, "
                      r"relay=127\.0\.0\.1\[127\.0\.0\.1\]:%d, delay=.*status=sent"
                      % (q2, srv.port))
        with srv.lock:
            assert len(srv.conns) == 2 and srv.conns[1][0] == "EHLO", srv.conns
        assert "warning" not in "".join(l for l in inst.log().splitlines() if "smtp[" in l)


def test_dead_destination_suspended_until_flush():
    port = free_port()
    with Instance("out-dead", main={"relayhost": "[127.0.0.1]:%d" % port,
                                    "initial_destination_concurrency": "1"}) as inst:
        inst.start()
        reason = r"connect to 127\.0\.0\.1\[127\.0\.0\.1\]:%d: Connection refused" % port
        q1 = submit(inst, ["first@remote.example"], BODY)
        inst.wait_log(r"postfix/smtp\[\d+\]: %s: to=<first@remote\.example>, relay=none, .*"
                      r"dsn=4\.4\.1, status=deferred \(%s\)" % (q1, reason))
        # the destination is dead now: qmgr defers the next one itself
        q2 = submit(inst, ["second@remote.example"], BODY)
        inst.wait_log(r"postfix/qmgr\[\d+\]: %s: to=<second@remote\.example>, relay=none, "
                      r"delay=.*dsn=4\.4\.1, status=deferred \(delivery temporarily "
                      r"suspended: %s\)" % (q2, reason))
        assert not re.search(r"smtp\[\d+\]: %s:" % q2, inst.log())
        with ConnServer(port) as srv:
            p = inst.cmd("postfix", "flush")
            assert p.returncode == 0, p.stderr
            wait_for(lambda: srv.messages() >= 2, 20, "both messages")
            for q in (q1, q2):
                inst.wait_log(r"postfix/qmgr\[\d+\]: %s: removed" % q)
