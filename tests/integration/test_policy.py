"""
test_policy.py - check_policy_service and the spawn service, through real
instances.

- spawn: master.cf "policy unix - n n - - spawn user=nobody argv=python3
  policy_server.py ..." runs the policy server (policy_server.py) per
  connection as nobody with a clean environment; smtpd asks it with
  check_policy_service unix:private/policy. The replies are access table
  actions (REJECT text, DEFER_IF_PERMIT, PREPEND, 5xx text, OK, DUNNO).
- inet: a policy server thread in this test process on 127.0.0.1.
- failures: an unreachable server gives smtpd_policy_service_default_action;
  spawn refuses user=root; a command's exit status is logged.
"""
import json
import os
import re
import shutil
import socket
import threading

from posthorn import Instance, free_port, wait_for
import policy_server

HERE = os.path.dirname(os.path.abspath(__file__))
# the reply when the policy service fails (smtpd_policy_service_default_action)
SERVER_PROBLEM = ["451 4.3.5 <phedison@example.test>: Recipient address rejected: "
                  "Server configuration problem"]
SPAWNED_POLICY = ("check_policy_service unix:private/policy, permit_mynetworks, "
                  "reject_unauth_destination")


def spawn_instance(name, restrictions, exit_status=None, user="nobody", service="policy"):
    """An instance whose spawn service "policy" runs policy_server.py."""
    inst = Instance(name, main={"smtpd_recipient_restrictions": restrictions})
    script = os.path.join(inst.dir, "policy_server.py")
    shutil.copy(os.path.join(HERE, "policy_server.py"), script)
    os.chmod(script, 0o644)
    inst.policy_log = os.path.join(inst.dir, "policylog")
    os.makedirs(inst.policy_log)
    os.chmod(inst.policy_log, 0o777)
    args = "/usr/bin/python3 %s %s" % (script, inst.policy_log)
    if exit_status is not None:
        args += " %d" % exit_status
    inst.append_master_cf("\n%s unix - n n - - spawn\n  user=%s argv=%s\n" % (service, user, args))
    return inst


def requests(inst):
    try:
        with open(os.path.join(inst.policy_log, "requests.log")) as f:
            return [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        return []


def session(inst, sender, helo="EHLO client.example"):
    return inst.session(helo=helo, sender=sender)


def send_data(s, body="Subject: policy test\r\n\r\nbody text\r\n"):
    return s.data(body)


def test_policy_spawn_reject_and_accept():
    with spawn_instance("pspawn", SPAWNED_POLICY) as inst:
        inst.start()
        s = session(inst, "bad@example.com")
        assert s.rcpt_quit("phedison@example.test") == [
            "554 5.7.1 <phedison@example.test>: Recipient address rejected: Sender is bad"]
        inst.wait_log(re.escape(
            "NOQUEUE: reject: RCPT from unknown[127.0.0.1]: 554 5.7.1 <phedison@example.test>: "
            "Recipient address rejected: Sender is bad; from=<bad@example.com> "
            "to=<phedison@example.test> proto=ESMTP helo=<client.example>"))

        # DUNNO: the rest of the list decides; two recipients, one message
        s = session(inst, "good@example.com")
        assert s.cmd("RCPT TO:<phedison@example.test>") == ["250 2.1.5 Ok"]
        assert s.cmd("RCPT TO:<phjonas@example.test>") == ["250 2.1.5 Ok"]
        assert send_data(s)[0].startswith("250 2.0.0 Ok: queued as ")
        assert s.cmd("MAIL FROM:<good@example.com>") == ["250 2.1.0 Ok"]
        assert s.cmd("RCPT TO:<phalice@example.test>") == ["250 2.1.5 Ok"]
        s.cmd("QUIT")
        inst.wait_mbox("phjonas", "Subject: policy test")

        reqs = requests(inst)
        assert len(reqs) == 4, reqs
        first, r1, r2, r3 = reqs
        assert first["attrs"]["sender"] == "bad@example.com"
        a1 = r1["attrs"]
        assert a1["request"] == "smtpd_access_policy"
        assert a1["protocol_state"] == "RCPT"
        assert a1["protocol_name"] == "ESMTP"
        assert a1["helo_name"] == "client.example"
        assert a1["sender"] == "good@example.com"
        assert a1["recipient"] == "phedison@example.test"
        assert a1["recipient_count"] == "0"
        assert a1["client_address"] == "127.0.0.1"
        assert a1["client_name"] == "unknown"
        assert a1["server_address"] == "127.0.0.1"
        assert a1["server_port"] == str(inst.port)
        assert r2["attrs"]["recipient"] == "phjonas@example.test"
        assert r2["attrs"]["recipient_count"] == "1"
        # one instance per message, a new one for the next message
        assert a1["instance"] and a1["instance"] == r2["attrs"]["instance"]
        assert r3["attrs"]["instance"] != a1["instance"]
        # the connection is kept: one policy process for the session
        assert r1["pid"] == r2["pid"] == r3["pid"]
        # run as nobody, with a clean environment
        nobody = __import__("pwd").getpwnam("nobody").pw_uid
        assert all(r["uid"] == nobody for r in reqs)
        allowed = {"TZ", "MAIL_CONFIG", "LANG", "LC_CTYPE"}
        assert set(r1["env"]) <= allowed, r1["env"]


def test_policy_spawn_actions():
    with spawn_instance("pact", SPAWNED_POLICY) as inst:
        inst.start()
        s = session(inst, "defer@example.com")
        assert s.rcpt_quit("phedison@example.test") == [
            "450 4.7.1 <phedison@example.test>: Recipient address rejected: Try again later"]
        s = session(inst, "code@example.com")
        assert s.rcpt_quit("phedison@example.test") == [
            "550 5.7.0 <phedison@example.test>: Recipient address rejected: Policy says no"]
        s = session(inst, "prepend@example.com")
        assert s.cmd("RCPT TO:<phalice@example.test>") == ["250 2.1.5 Ok"]
        assert send_data(s)[0].startswith("250 2.0.0 Ok: queued as ")
        s.cmd("QUIT")
        box = inst.wait_mbox("phalice", "Subject: policy test")
        assert "\nX-Policy: checked by policy_server\n" in box, box


class InetPolicyServer(threading.Thread):
    """A policy server on 127.0.0.1 for the inet: form; records requests."""

    def __init__(self):
        super().__init__(daemon=True)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.port = self.sock.getsockname()[1]
        self.requests = []
        self.connections = 0

    def run(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def serve(self, conn):
        f = conn.makefile("rw", newline="\n")
        attrs = {}
        try:
            for line in f:
                line = line.rstrip("\n")
                if line:
                    name, _, value = line.partition("=")
                    attrs[name] = value
                    continue
                self.requests.append(attrs)
                f.write("action=%s\n\n" % policy_server.decide(attrs))
                f.flush()
                attrs = {}
        except OSError:
            pass
        conn.close()

    def stop(self):
        self.sock.close()


def test_policy_inet():
    server = InetPolicyServer()
    server.start()
    try:
        restrictions = ("permit_mynetworks, reject_unauth_destination, "
                        "check_policy_service inet:127.0.0.1:%d" % server.port)
        with Instance("pinet", main={"smtpd_sender_restrictions": restrictions,
                                     "smtpd_policy_service_policy_context": "inbound"}) as inst:
            inst.start()
            # in smtpd_sender_restrictions the reply names the sender
            s = session(inst, "bad@example.com")
            assert s.cmd("RCPT TO:<phedison@example.test>") == ["250 2.1.5 Ok"]  # mynetworks
            s.cmd("QUIT")
            inst.params["mynetworks"] = "192.0.2.0/24"
            inst.write_main()
            inst.cmd("postfix", "reload")
            wait_for(lambda: _sender_rejected(inst), 20, "policy reject after reload")
            req = server.requests[-1]
            assert req["protocol_state"] == "RCPT"
            assert req["policy_context"] == "inbound"
            assert req["recipient"] == "phedison@example.test"
            s = session(inst, "ok@example.com")
            assert s.rcpt_quit("phedison@example.test") == ["250 2.1.5 Ok"]
    finally:
        server.stop()


def _sender_rejected(inst):
    return session(inst, "bad@example.com").rcpt_quit("phedison@example.test") == [
        "554 5.7.1 <bad@example.com>: Sender address rejected: Sender is bad"]


def test_policy_unreachable_default_action():
    with Instance("pdown", main={
            "smtpd_recipient_restrictions":
            "check_policy_service unix:private/nosuchpolicy, permit_mynetworks, "
            "reject_unauth_destination",
            "smtpd_policy_service_retry_delay": "0s"}) as inst:
        inst.start()
        s = session(inst, "good@example.com")
        assert s.rcpt_quit("phedison@example.test") == SERVER_PROBLEM
        inst.wait_log(r"warning: connect to private/nosuchpolicy: No such file or directory")
        inst.wait_log(r"warning: problem talking to server private/nosuchpolicy: "
                      r"No such file or directory")
        # the administrator's own default action
        inst.params["smtpd_policy_service_default_action"] = "DUNNO"
        inst.write_main()
        inst.cmd("postfix", "reload")
        wait_for(lambda: _accepted(inst), 20, "default action DUNNO after reload")


def _accepted(inst):
    return session(inst, "good@example.com").rcpt_quit("phedison@example.test") == ["250 2.1.5 Ok"]


def test_spawn_refuses_root_and_logs_exit_status():
    with spawn_instance("proot", "check_policy_service unix:private/policy, "
                        "check_policy_service unix:private/rootpolicy, permit_mynetworks, "
                        "reject_unauth_destination", exit_status=3) as inst:
        inst.append_master_cf("\nrootpolicy unix - n n - - spawn\n  user=root argv=/bin/cat\n")
        inst.params["smtpd_policy_service_retry_delay"] = "0s"
        # master holds the socket of the throttled service: the request times out
        inst.params["smtpd_policy_service_timeout"] = "2s"
        inst.params["smtpd_policy_service_try_limit"] = "1"
        inst.params["max_idle"] = "2s"      # smtpd exits soon, closing the policy connection
        inst.write_main()
        inst.start()
        s = session(inst, "good@example.com")
        assert s.rcpt_quit("phedison@example.test") == SERVER_PROBLEM
        inst.wait_log(r"fatal: user= command-line attribute specifies root privileges")
        inst.wait_log(r"warning: problem talking to server private/rootpolicy: "
                      r"Connection timed out")
        # the policy command ends when the idle smtpd exits and closes the connection
        inst.wait_log(r"spawn\[\d+\]: warning: command /usr/bin/python3 exit status 3")


def test_spawn_bad_time_limit_is_fatal_with_name_and_value():
    with spawn_instance("pbadtime", SPAWNED_POLICY) as inst:
        inst.params["policy_time_limit"] = "0"
        inst.params["smtpd_policy_service_timeout"] = "2s"
        inst.params["smtpd_policy_service_try_limit"] = "1"
        inst.write_main()
        inst.start()
        s = session(inst, "good@example.com")
        s.cmd("RCPT TO:<phedison@example.test>")
        s.cmd("QUIT")
        inst.wait_log(r"spawn\[\d+\]: fatal: invalid policy_time_limit parameter value 0 < 1")


def test_spawn_time_limit():
    with spawn_instance("ptime", SPAWNED_POLICY) as inst:
        inst.params["policy_time_limit"] = "2s"
        inst.write_main()
        inst.start()
        s = session(inst, "good@example.com")
        assert s.cmd("RCPT TO:<phedison@example.test>") == ["250 2.1.5 Ok"]
        # smtpd keeps the connection, so the command runs until killed
        inst.wait_log(r"spawn\[\d+\]: warning: /usr/bin/python3: process id \d+: "
                      r"command time limit exceeded")
        inst.wait_log(r"spawn\[\d+\]: warning: command /usr/bin/python3 killed by signal 9")
        # the next request notices the closed connection and reconnects quietly
        s.cmd("RSET")
        assert s.cmd("MAIL FROM:<bad@example.com>") == ["250 2.1.0 Ok"]
        assert s.cmd("RCPT TO:<phedison@example.test>") == [
            "554 5.7.1 <phedison@example.test>: Recipient address rejected: Sender is bad"]
        s.cmd("QUIT")
        assert "problem talking to server" not in inst.log()
        assert len(requests(inst)) == 2
