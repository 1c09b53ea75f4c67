"""
test_param_guard.py - nothing is ignored silently: parameters posthorn does
not implement draw warnings, and those whose absence would leave mail
less protected make the service that needs them refuse work.
"""
import os
import time

from posthorn import Instance, Session, free_port, run, sbin, wait_for
from smtp_sink import SmtpSink
from test_smtp import submit


def test_unimplemented_parameter_warns_at_start_and_check():
    extra = "2526 inet n - n - - smtpd -o smtpd_client_port_logging=yes\n"
    with Instance("unimpl", main={"smtp_body_checks": "regexp:/nonexistent/body_checks",
                                  "smtp_tls_note_starttls_offer": "yes"},
                  master_extra=extra) as inst:
        main_cf = "%s/main.cf" % inst.conf
        want = ["warning: %s: parameter smtp_body_checks is not implemented by posthorn; "
                "ignored" % main_cf,
                "warning: %s: parameter smtp_tls_note_starttls_offer is not implemented by "
                "posthorn; ignored" % main_cf]
        p = inst.cmd("postfix", "check")
        assert p.returncode == 0, p
        for w in want:
            assert w in p.stderr, p.stderr
        assert "master.cf, line " in p.stderr and \
            "parameter smtpd_client_port_logging is not implemented" in p.stderr, p.stderr
        # implemented ones say nothing
        assert "myhostname" not in p.stderr and "alias_maps" not in p.stderr, p.stderr
        p = inst.start()
        for w in want:
            assert w in p.stderr, p.stderr
        # "may" is not enforced: mail still flows in plain text
        s = Session(inst.port)
        assert s.reply()[0].startswith("220 "), "no greeting"
        s.cmd("QUIT")


# A refusing smtpd answers one client and exits (fatal), and master then
# throttles the service: start without Instance.start()'s probe
# connection, keep the throttle short, and take the first client's reply.
QUICK = {"service_throttle_time": "1s"}


def start_refusing(inst):
    p = inst.cmd("postfix", "start")
    assert p.returncode == 0, p.stdout + p.stderr
    inst.started = True
    return p


def first_reply(port):
    def connect():
        try:
            return Session(port)
        except ConnectionRefusedError:    # master not listening yet
            return None
    s = wait_for(connect, 20, "a listener on port %d" % port)
    try:
        return s.reply()
    finally:
        s.close()


def test_submission_port_with_required_sasl_refuses_only_itself():
    port = free_port()
    extra = ("%d inet n - n - - smtpd -o smtpd_tls_security_level=encrypt "
             "-o smtpd_sasl_auth_enable=yes -o smtpd_sasl_type=bogus\n" % port)
    with Instance("guard-sub", main=QUICK, master_extra=extra) as inst:
        inst.start()                    # probes port 25 only
        assert first_reply(port) == ["421 4.3.5 Server configuration problem"]
        # an smtpd_sasl_type posthorn does not have (smtpd_sasl.c)
        inst.wait_log(r"fatal: unsupported SASL server implementation: bogus")
        # port 25's smtpd is not affected
        s = Session(inst.port)
        assert s.reply()[0].startswith("220 ")
        assert s.cmd("MAIL FROM:<a@example.test>")[0].startswith("250")
        s.cmd("QUIT")


def test_proxy_filter_refuses():
    for name, value in (("smtpd_proxy_filter", "127.0.0.1:10024"),):
        with Instance("guard-m", main=dict(QUICK, **{name: value})) as inst:
            start_refusing(inst)
            assert first_reply(inst.port) == ["421 4.3.5 Server configuration problem"], name
            inst.wait_log(r"fatal: parameter %s = %s needs " % (name, value.replace(".", r"\.")))


def test_required_client_tls_defers_and_never_connects():
    with SmtpSink() as srv, \
            Instance("guard-smtp", main={"relayhost": "[127.0.0.1]:%d" % srv.port,
                                         "smtp_tls_per_site": "hash:/etc/postfix/tls_per_site"}) as inst:
        inst.start()
        qid = submit(inst, ["someone@remote.example"], b"Subject: x\r\n\r\nhello\r\n")
        inst.wait_log(r"postfix/smtp\[\d+\]: %s: to=<someone@remote\.example>, relay=none, "
                      r".*dsn=4\.3\.5, status=deferred \(server configuration problem: "
                      r"parameter smtp_tls_per_site = hash:/etc/postfix/tls_per_site needs TLS"
                      % qid)
        time.sleep(0.5)
        assert srv.transactions == [], srv.transactions
        assert inst.queue_files("deferred"), "the message must stay queued"
