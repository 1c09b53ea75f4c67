"""
test_scache.py - the connection cache server scache(8) and the smtp
client's use of it: a session one smtp process handed over after a
delivery is reused by another smtp process for the next message to the
same destination (one connection, two transactions, "conn_use=2" in the
log); without scache in master.cf each delivery connects anew; scache
closes a cached session when its time is up and logs its "statistics:"
lines.

Each smtp process here delivers one message and exits (-o max_use=1),
so that reuse can only go through scache -- except in the last two
tests: an smtp process that gets the next request for the destination on
the same qmgr connection keeps its session for it, and offers it to
scache only when that connection ends (with QUIT when scache refuses).
"""
import os
import re
import socket
import threading
import time

from posthorn import Instance, free_port, wait_for
from smtp_sink import SmtpSink
from test_agent_pipeline import Reader, write_list
from test_smtp import submit

BODY = b"Subject: cache\r\n\r\nhello\r\n"
SMTP_LINE = r"^(smtp\s+unix\s.*\ssmtp)$"


def cache_instance(name, srv, port=None, one_use=True, **main):
    """An instance relaying to the sink (or port), caching connections to
    it by smtp_connection_cache_destinations unless main says otherwise;
    each smtp process delivers one message unless one_use is false."""
    port = port or srv.port
    params = {"relayhost": "[127.0.0.1]:%d" % port,
              "smtp_connection_cache_on_demand": "no",
              "smtp_connection_cache_destinations": "[127.0.0.1]:%d" % port}
    params.update(main)
    inst = Instance(name, main=params)
    if one_use:
        inst.edit_master_cf(SMTP_LINE, r"\1 -o max_use=1")
    return inst


def deliver(inst, rcpt):
    """Submit one message; the smtp log line of its delivery."""
    qid = submit(inst, [rcpt], BODY)
    pattern = r"postfix/smtp\[(\d+)\]: %s: to=<%s>, relay=([^ ]*)( conn_use=\d+)?.*status=sent" % (
        qid, re.escape(rcpt))
    inst.wait_log(pattern)
    return re.search(pattern, inst.log())


def test_two_smtp_processes_share_one_connection():
    with SmtpSink(ehlo=("sink.test", "PIPELINING")) as srv, \
            cache_instance("scache-share", srv, smtp_connection_cache_time_limit="30s",
                           connection_cache_ttl_limit="30s") as inst:
        inst.start()
        first = deliver(inst, "one@remote.example")
        time.sleep(2)
        second = deliver(inst, "two@remote.example")
        assert first.group(1) != second.group(1), "one smtp process did both"
        assert "conn_use" not in first.group(0)
        assert ", conn_use=2, " in second.group(0), second.group(0)
        srv.wait(2)
        with srv.lock:
            assert len(srv.conns) == 1, srv.conns
            assert srv.conns[0][:6] == ["EHLO", "MAIL", "RCPT", "DATA", "RSET", "MAIL"], srv.conns
            assert len(srv.transactions) == 2


def test_without_scache_each_delivery_connects():
    with SmtpSink() as srv, \
            cache_instance("scache-none", srv, smtp_connection_cache_time_limit="30s",
                           connection_cache_ttl_limit="30s") as inst:
        inst.edit_master_cf(r"^scache\s.*$", "")
        inst.start()
        deliver(inst, "one@remote.example")
        time.sleep(2)
        second = deliver(inst, "two@remote.example")
        assert "conn_use" not in second.group(0)
        srv.wait(2)
        with srv.lock:
            assert len(srv.conns) == 2 and srv.conns[1][0] == "EHLO", srv.conns
        # each smtp process says once that it cannot reach the cache
        warn = re.findall(r"postfix/smtp\[\d+\]: warning: cannot connect to the connection "
                          r"cache private/scache: No such file or directory", inst.log())
        assert len(warn) == 2, inst.log()


def test_cached_connection_closed_after_time_limit():
    with SmtpSink() as srv, \
            cache_instance("scache-ttl", srv, smtp_connection_cache_time_limit="2s",
                           connection_cache_status_update_time="1s") as inst:
        inst.start()
        deliver(inst, "one@remote.example")
        # scache holds the session, then closes it (no QUIT: scache does
        # not speak SMTP)
        wait_for(lambda: srv.conns and srv.conns[0][-1] == "<closed>", 15,
                 "the cached session to be closed")
        assert srv.conns[0][-2] == "DATA", srv.conns
        inst.wait_log(r"postfix/scache\[\d+\]: statistics: domain lookup hits=0 miss=1 "
                      r"success=0%")
        inst.wait_log(r"postfix/scache\[\d+\]: statistics: start interval \w{3} [ \d]\d "
                      r"\d\d:\d\d:\d\d$")
        inst.wait_log(r"postfix/scache\[\d+\]: statistics: max simultaneous domains=1 "
                      r"addresses=1 connection=1")
        second = deliver(inst, "two@remote.example")
        assert "conn_use" not in second.group(0)
        with srv.lock:
            assert len(srv.conns) == 2 and srv.conns[1][0] == "EHLO", srv.conns


ON_DEMAND = {"smtp_connection_cache_on_demand": "yes", "smtp_connection_cache_destinations": ""}


def test_on_demand_no_backlog_no_cache():
    """smtp_connection_cache_on_demand alone: a lone message is no backlog,
    so its session ends with QUIT at once."""
    with SmtpSink() as srv, cache_instance("scache-lone", srv, **ON_DEMAND) as inst:
        inst.start()
        first = deliver(inst, "one@remote.example")
        assert "conn_use" not in first.group(0)
        wait_for(lambda: srv.conns and srv.conns[0][-1] == "<closed>", 10, "QUIT")
        assert srv.conns[0][-2] == "QUIT", srv.conns


def test_on_demand_backlog_reuses_connection():
    """Three messages wait for a destination that was down; after the flush
    qmgr hands them out one at a time with its backlog hint, and the smtp
    processes (one message each) pass the session on through scache."""
    port = free_port()
    with cache_instance("scache-backlog", None, port=port,
                        initial_destination_concurrency="1", **ON_DEMAND) as inst:
        inst.start()
        qids = []
        for rcpt in ("a@remote.example", "b@remote.example", "c@remote.example"):
            qids.append(submit(inst, [rcpt], BODY))
            inst.wait_log(r"postfix/\w+\[\d+\]: %s: to=<%s>, .*status=deferred"
                          % (qids[-1], rcpt))
        # all three back in deferred/: qmgr is done with them (and with
        # marking the destination dead), so the flush below forgets that
        wait_for(lambda: sorted(inst.queue_files("deferred")) == sorted(qids), 20,
                 "three messages in deferred/")
        with SmtpSink(port=port) as srv:
            inst.cmd("postqueue", "-f", check=True)
            srv.wait(3)
            inst.wait_log(r"postfix/smtp\[\d+\]: \w+: to=<\w@remote\.example>, "
                          r"relay=\S+, conn_use=2, .*status=sent")
            with srv.lock:
                assert len(srv.conns) < 3, srv.conns


def test_endpoint_shared_by_two_destinations():
    """Two next hops that reach the same address and port: the second
    misses by destination, finds the session by endpoint after its host
    lookup."""
    with SmtpSink() as srv:
        hops = "[127.0.0.1]:%d, [localhost]:%d" % (srv.port, srv.port)
        with cache_instance("scache-endp", srv, smtp_connection_cache_destinations=hops,
                            smtp_host_lookup="native", inet_protocols="ipv4",
                            smtp_connection_cache_time_limit="30s",
                            connection_cache_ttl_limit="30s") as inst:
            path = inst.write_table("transport", "b.example smtp:[localhost]:%d\n" % srv.port,
                                    postmap=True)
            inst.params["transport_maps"] = "hash:" + path
            inst.write_main()
            inst.start()
            deliver(inst, "one@a.example")
            second = deliver(inst, "two@b.example")
            assert ", conn_use=2, " in second.group(0), second.group(0)
            srv.wait(2)
            with srv.lock:
                assert len(srv.conns) == 1, srv.conns


def test_reuse_count_limit():
    """smtp_connection_reuse_count_limit = 1: a session is reused once,
    then closed with QUIT; the third message connects anew."""
    with SmtpSink() as srv, \
            cache_instance("scache-count", srv, smtp_connection_cache_time_limit="30s",
                           connection_cache_ttl_limit="30s",
                           smtp_connection_reuse_count_limit="1") as inst:
        inst.start()
        deliver(inst, "one@remote.example")
        second = deliver(inst, "two@remote.example")
        assert ", conn_use=2, " in second.group(0), second.group(0)
        wait_for(lambda: srv.conns[0][-1] == "<closed>", 10, "the session to end")
        assert srv.conns[0][-2] == "QUIT", srv.conns
        third = deliver(inst, "three@remote.example")
        assert "conn_use" not in third.group(0)
        with srv.lock:
            assert len(srv.conns) == 2, srv.conns


def test_one_smtp_process_keeps_its_session_for_the_next_request():
    """Without max_use=1: three held messages for one destination,
    released at once, reach one smtp process over one qmgr connection
    (destination concurrency 1); the second and third reuse the session
    the process kept for them (conn_use=2, 3: one connection to the next
    hop), without asking scache, which sees the session only when qmgr's
    connection has ended: no domain lookup hit in its statistics."""
    with SmtpSink() as srv:
        with cache_instance("scache-keep", srv, one_use=False,
                            smtp_destination_concurrency_limit="1") as inst:
            with open(inst.conf + "/header_checks", "w") as f:
                f.write("/^Subject: cache/ HOLD\n")
            inst.params["header_checks"] = "regexp:%s/header_checks" % inst.conf
            inst.write_main()
            inst.start()
            for rcpt in ("a@remote.example", "b@remote.example", "c@remote.example"):
                submit(inst, [rcpt], BODY)
            wait_for(lambda: len(inst.queue_files("hold")) == 3, 20, "three held messages")
            inst.cmd("postsuper", "-H", "ALL", check=True)
            srv.wait(3)
            inst.wait_log(r"postfix/smtp\[\d+\]: \w+: to=<\w@remote\.example>, "
                          r"relay=\S+, conn_use=3, .*status=sent")
            with srv.lock:
                assert len(srv.conns) == 1, srv.conns
            inst.cmd("postfix", "stop", check=True)
            inst.wait_log(r"postfix/scache\[\d+\]: statistics: domain lookup hits=0 ")


def test_session_scache_refuses_ends_with_quit():
    """A connection cache service that takes nothing (every request
    answered with status -1): the session an smtp process kept for a next
    request that never came is offered to it when qmgr's connection ends,
    refused, and ended with QUIT rather than just closed."""
    with SmtpSink() as srv:
        with cache_instance("scache-refuse", srv, one_use=False,
                            connection_cache_service_name="refusecache") as inst:
            inst.start()
            path = os.path.join(inst.queue, "private", "refusecache")
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            listener.bind(path)
            os.chmod(path, 0o666)
            listener.listen(5)
            threading.Thread(target=refuse_everything, args=(listener,), daemon=True).start()
            try:
                deliver(inst, "one@remote.example")
                wait_for(lambda: srv.conns and srv.conns[0][-1] == "<closed>", 10, "the close")
                with srv.lock:
                    assert srv.conns[0][-2] == "QUIT", srv.conns
            finally:
                listener.close()


def refuse_everything(listener):
    """The connection cache that answers every request with status -1."""
    while True:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        conn.sendall(b"protocol\0scache\0\0")
        reader = Reader(conn)
        try:
            while reader.attrs(30) is not None:
                write_list(conn, {"status": -1})
        except (TimeoutError, OSError):
            pass
        conn.close()
