"""
test_anvil.py - the anvil service and smtpd's client limits
(smtpd_client_connection_count_limit, _connection_rate_limit,
_message_rate_limit, _recipient_rate_limit, smtpd_client_event_limit_exceptions):
the replies and warnings a client and an admin see, and anvil's
statistics lines.

Clients connect from 127.0.0.2, outside mynetworks = 127.0.0.1/32 (the
default exceptions list is $mynetworks).
"""
import os
import re
import time

from posthorn import Instance, Session, wait_for

OUTSIDE = "127.0.0.2"
LIMITS = {"mynetworks": "127.0.0.1/32"}


def limits(**kw):
    d = dict(LIMITS)
    d.update({"smtpd_client_" + k: str(v) for k, v in kw.items()})
    return d


def greet(inst, source=OUTSIDE):
    s = Session(inst.port, source=source)
    return s, s.reply()


def count_log(inst, rx):
    return len(re.findall(rx, inst.log(), re.M))


def test_connection_count_limit():
    with Instance("anvilcount", main=limits(connection_count_limit=2)) as inst:
        inst.start()
        s1, r1 = greet(inst)
        s2, r2 = greet(inst)
        assert r1 == ["220 mail.example.test ESMTP Postfix"], r1
        assert r2 == ["220 mail.example.test ESMTP Postfix"], r2
        s3, r3 = greet(inst)
        assert r3 == ["421 4.7.0 mail.example.test Error: too many connections from 127.0.0.2"], r3
        try:
            s3.line()
            assert False, "connection stayed open after 421"
        except (EOFError, ConnectionResetError):
            pass
        inst.wait_log(r"postfix/smtpd\[\d+\]: warning: Connection concurrency limit exceeded: "
                      r"3 from unknown\[127\.0\.0\.2\] for service %d$" % inst.port)
        # a client in the exceptions ($mynetworks) is not counted
        s4, r4 = greet(inst, "127.0.0.1")
        assert r4 == ["220 mail.example.test ESMTP Postfix"], r4
        assert s4.cmd("QUIT") == ["221 2.0.0 Bye"]
        # one session ends: the next one from 127.0.0.2 is welcome again
        assert s1.cmd("QUIT") == ["221 2.0.0 Bye"]
        s1.close()
        s3.close()

        def welcome():
            s, r = greet(inst)
            s.close()
            return r == ["220 mail.example.test ESMTP Postfix"]
        wait_for(welcome, 10, "a free connection slot after QUIT")
        s2.close()


def test_connection_rate_limit():
    with Instance("anvilrate", main=limits(connection_rate_limit=2)) as inst:
        inst.start()
        for _ in range(2):
            s, r = greet(inst)
            assert r == ["220 mail.example.test ESMTP Postfix"], r
            assert s.cmd("QUIT") == ["221 2.0.0 Bye"]
            s.close()
        s, r = greet(inst)
        assert r == ["421 4.7.0 mail.example.test Error: too many connections from 127.0.0.2"], r
        s.close()
        inst.wait_log(r"warning: Connection rate limit exceeded: 3 from unknown\[127\.0\.0\.2\] "
                      r"for service %d$" % inst.port)
        # the exceptions are not rate limited either
        for _ in range(3):
            s, r = greet(inst, "127.0.0.1")
            assert r == ["220 mail.example.test ESMTP Postfix"], r
            s.close()


def test_message_rate_limit():
    with Instance("anvilmsg", main=limits(message_rate_limit=2)) as inst:
        inst.start()
        s, r = greet(inst)
        assert s.cmd("EHLO client.example")[0].startswith("250-")
        for _ in range(2):
            assert s.cmd("MAIL FROM:<a@example.org>") == ["250 2.1.0 Ok"]
            assert s.cmd("RSET") == ["250 2.0.0 Ok"]
        assert s.cmd("MAIL FROM:<a@example.org>") == \
            ["450 4.7.1 Error: too much mail from 127.0.0.2"]
        # the rate is per client, not per session
        s.cmd("QUIT")
        s.close()
        s, r = greet(inst)
        assert s.cmd("HELO client.example") == ["250 mail.example.test"]
        assert s.cmd("MAIL FROM:<a@example.org>") == \
            ["450 4.7.1 Error: too much mail from 127.0.0.2"]
        s.close()
        inst.wait_log(r"postfix/smtpd\[\d+\]: warning: Message delivery request rate limit "
                      r"exceeded: 3 from unknown\[127\.0\.0\.2\] for service %d$" % inst.port)
        inst.wait_log(r"warning: Message delivery request rate limit exceeded: 4 from ")
        # exempt client
        s, r = greet(inst, "127.0.0.1")
        s.cmd("HELO client.example")
        for _ in range(4):
            assert s.cmd("MAIL FROM:<a@example.org>") == ["250 2.1.0 Ok"]
            assert s.cmd("RSET") == ["250 2.0.0 Ok"]
        s.close()


def test_recipient_rate_limit():
    with Instance("anvilrcpt", main=limits(recipient_rate_limit=2)) as inst:
        inst.start()
        s, r = greet(inst)
        s.cmd("HELO client.example")
        assert s.cmd("MAIL FROM:<a@example.org>") == ["250 2.1.0 Ok"]
        assert s.cmd("RCPT TO:<phedison@example.test>") == ["250 2.1.5 Ok"]
        assert s.cmd("RCPT TO:<phjonas@example.test>") == ["250 2.1.5 Ok"]
        assert s.cmd("RCPT TO:<phalice@example.test>") == \
            ["450 4.7.1 Error: too many recipients from 127.0.0.2"]
        # the accepted ones still make a message
        assert s.cmd("DATA")[0].startswith("354")
        s.send("Subject: rate\r\n\r\nrecipient rate body\r\n.\r\n")
        assert s.reply()[0].startswith("250 2.0.0 Ok: queued as ")
        s.cmd("QUIT")
        s.close()
        inst.wait_log(r"postfix/smtpd\[\d+\]: warning: Recipient address rate limit exceeded: "
                      r"3 from unknown\[127\.0\.0\.2\] for service %d$" % inst.port)
        inst.wait_mbox("phjonas", "recipient rate body")
        assert "recipient rate body" not in inst.mbox("phalice")


def test_explicit_exceptions():
    main = limits(connection_rate_limit=1, message_rate_limit=1,
                  event_limit_exceptions="127.0.0.3")
    main["mynetworks"] = "127.0.0.0/29"
    with Instance("anvilexc", main=main) as inst:
        inst.start()
        for _ in range(3):
            s, r = greet(inst, "127.0.0.3")
            assert r == ["220 mail.example.test ESMTP Postfix"], r
            s.cmd("HELO client.example")
            assert s.cmd("MAIL FROM:<a@example.org>") == ["250 2.1.0 Ok"]
            s.close()
        # mynetworks is not in the list now: its 127.0.0.4 is limited
        s, r = greet(inst, "127.0.0.4")
        assert r[0].startswith("220 "), r
        s.close()
        s, r = greet(inst, "127.0.0.4")
        assert r == ["421 4.7.0 mail.example.test Error: too many connections from 127.0.0.4"], r
        s.close()
        inst.wait_log(r"warning: Connection rate limit exceeded: 2 from unknown\[127\.0\.0\.4\]")
        assert "127.0.0.3" not in "".join(re.findall(r"limit exceeded.*", inst.log()))


def test_statistics_periodic():
    main = limits(connection_rate_limit=10)
    main["anvil_status_update_time"] = "2s"
    with Instance("anvilstat", main=main) as inst:
        inst.start()
        s, r = greet(inst)
        s.cmd("QUIT")
        s.close()
        stamp = r"at \w{3} [ \d]\d \d\d:\d\d:\d\d$"
        ident = r"\(%d:127\.0\.0\.2\)" % inst.port
        inst.wait_log(r"postfix/anvil\[\d+\]: statistics: max connection rate 1/60s for %s %s"
                      % (ident, stamp), timeout=15)
        inst.wait_log(r"postfix/anvil\[\d+\]: statistics: max connection count 1 for %s %s"
                      % (ident, stamp))
        inst.wait_log(r"postfix/anvil\[\d+\]: statistics: max cache size 1 %s" % stamp)
        # the maxima are reset after each report: no new lines without traffic
        n = count_log(inst, r"statistics: max connection rate")
        time.sleep(3)
        assert count_log(inst, r"statistics: max connection rate") == n


def test_statistics_on_stop():
    """anvil logs its statistics when "postfix stop" ends it. Both
    sessions are open at once, so the counts do not depend on how soon
    smtpd tells anvil that the first one ended; master stops postlogd
    only after anvil is gone, so anvil's last lines are in the log when
    "postfix stop" returns (no waiting for them)."""
    with Instance("anvilstop", main=limits(connection_rate_limit=10)) as inst:
        inst.start()
        s1, r1 = greet(inst, "127.0.0.4")
        s2, r2 = greet(inst, "127.0.0.4")
        assert r1[0].startswith("220 ") and r2[0].startswith("220 "), (r1, r2)
        s1.close()
        s2.close()
        inst.wait_log(r"disconnect from unknown\[127\.0\.0\.4\](.|\n)*"
                      r"disconnect from unknown\[127\.0\.0\.4\]")
        assert "statistics:" not in inst.log()      # anvil_status_update_time is 600s
        inst.stop()
        log = inst.log()
        for rx in (r"postfix/anvil\[\d+\]: statistics: max connection rate 2/60s for "
                   r"\(%d:127\.0\.0\.4\) at " % inst.port,
                   r"postfix/anvil\[\d+\]: statistics: max connection count 2 for "
                   r"\(%d:127\.0\.0\.4\) at " % inst.port,
                   r"postfix/anvil\[\d+\]: statistics: max cache size 1 at "):
            assert re.search(rx, log), "no /%s/ in:\n%s" % (rx, log)


def test_fail_open_without_anvil():
    with Instance("anvilnone", main=limits(connection_count_limit=1,
                                          message_rate_limit=1)) as inst:
        inst.edit_master_cf(r"^anvil\s.*$", "")
        inst.start()
        t0 = time.time()
        s1, r1 = greet(inst)
        s2, r2 = greet(inst)
        assert r1 == r2 == ["220 mail.example.test ESMTP Postfix"], (r1, r2)
        s2.cmd("HELO client.example")
        assert s2.cmd("MAIL FROM:<a@example.org>") == ["250 2.1.0 Ok"]
        assert s2.cmd("RSET") == ["250 2.0.0 Ok"]
        assert s2.cmd("MAIL FROM:<a@example.org>") == ["250 2.1.0 Ok"]
        assert time.time() - t0 < 5, "sessions waited for anvil"
        s1.close()
        s2.close()
        inst.wait_log(r"postfix/smtpd\[\d+\]: warning: problem talking to service private/anvil")
        assert "limit exceeded" not in inst.log()


def test_reload_logs_statistics_and_limits_go_on():
    with Instance("anvilreload", main=limits(connection_rate_limit=2)) as inst:
        inst.start()
        s, r = greet(inst)
        assert r[0].startswith("220 "), r
        s.cmd("QUIT")
        s.close()
        inst.wait_log(r"disconnect from unknown\[127\.0\.0\.2\]")
        inst.cmd("postfix", "reload", check=True)
        inst.wait_log(r"postfix/anvil\[\d+\]: statistics: max connection rate 1/60s for "
                      r"\(%d:127\.0\.0\.2\)" % inst.port)
        # a new anvil counts from zero; the limit still applies
        t0 = time.time()
        replies = []
        for _ in range(3):
            s, r = greet(inst)
            replies.append(r[0])
            s.close()
        assert time.time() - t0 < 5, "sessions waited for anvil after reload"
        assert replies[:2] == ["220 mail.example.test ESMTP Postfix"] * 2, replies
        assert replies[2] == "421 4.7.0 mail.example.test Error: too many connections from 127.0.0.2"
