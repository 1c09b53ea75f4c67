"""
test_spf.py - the SPF policy service (policy-spf, libspf2) through real
instances, with SPF records served by dnsmasq on 127.0.0.157 (the records
are in tests/data/policy-spf/records; the instance runs in a private mount
namespace whose /etc/resolv.conf points there). Each test runs in a child
process with network and mount namespaces of its own (in_own_network), so
the SMTP client can be 192.0.2.1: libspf2 passes loopback clients
without looking at DNS.

- master.cf runs it as the observatory does ("policy unix - n n - - spawn
  user=nobody argv=.../policy-spf"), smtpd asks it with
  check_policy_service unix:private/policy.
- Results: pass, fail, softfail, neutral, none, permerror, temperror,
  include and redirect; the HELO identity with a null sender; the reply
  texts and the Received-SPF header in the delivered mailbox, once per
  message for two recipients; -f softfail and -n (header only).
- The answers to tests/data/policy-spf/requests are compared with what
  Debian's policyd-spf answered (policyd-spf.out, make-reference.sh).
"""
import contextlib
import ctypes
import os
import re
import sys
import tempfile
import threading
import traceback

from posthorn import Instance, ROOT, dns_server, private_dev, run, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data", "policy-spf")
DNS = "127.0.0.157"             # other DNS tests use .153, .154; .159 stays silent
CLIENT = "192.0.2.1"            # the SMTP client, on lo in the test's own network
CLONE_NEWNS, CLONE_NEWNET = 0x00020000, 0x40000000
RESTRICTIONS = "reject_unauth_destination, check_policy_service unix:private/policy"
BODY = "Subject: spf test\r\n\r\nbody text\r\n"
RCPT_REJECTED = "<phedison@example.test>: Recipient address rejected: "


class Syslog:
    """The /dev/log of the test's namespace (policy-spf logs with
    syslog(3)): a thread keeps reading it, as a syslog daemon would."""
    lines = []

    @classmethod
    def listen(cls, sock):
        def drain():
            while True:
                cls.lines.append(sock.recv(65536).decode(errors="replace"))
        threading.Thread(target=drain, daemon=True).start()

    @classmethod
    def wait(cls, pattern, timeout=20):
        rx = re.compile(pattern)
        return wait_for(lambda: any(rx.search(line) for line in list(cls.lines)), timeout,
                        "syslog line /%s/" % pattern)


def in_own_network(body):
    """Run body in a child process with network and mount namespaces of
    its own, where lo also has CLIENT (libspf2 passes any loopback client
    without a DNS query, so the SMTP client must come from elsewhere) and
    /dev is private_dev()."""
    top = tempfile.mkdtemp(prefix="posthorn-spfdev-", dir="/tmp")
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.unshare(CLONE_NEWNS | CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "unshare")
            run(["mount", "--make-rprivate", "/"], check=True)
            run(["ip", "link", "set", "lo", "up"], check=True)
            run(["ip", "addr", "add", CLIENT + "/32", "dev", "lo"], check=True)
            Syslog.listen(private_dev(top))
            body()
            status = 0
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(status)
    _, status = os.waitpid(pid, 0)
    os.rmdir(top)               # the tmpfs on it was the child's only
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, \
        "the test failed in its own namespaces (see above)"


@contextlib.contextmanager
def resolver():
    """dnsmasq with the records on DNS, and /etc/resolv.conf (of this
    mount namespace) pointing to it."""
    with Instance("spfdns") as holder, dns_server(holder, *records(), addr=DNS) as resolv:
        run(["mount", "--bind", resolv, "/etc/resolv.conf"], check=True)
        try:
            yield
        finally:
            run(["umount", "/etc/resolv.conf"])


def records():
    with open(os.path.join(DATA, "records")) as f:
        return [line.rstrip("\n") for line in f if line.strip() and not line.startswith("#")]


def policy_spf():
    return os.path.join(ROOT, "usr/libexec/posthorn/policy-spf")


def spf_instance(name, args=""):
    inst = Instance(name, main={"smtpd_recipient_restrictions": RESTRICTIONS})
    inst.append_master_cf("\npolicy unix - n n - - spawn\n  user=nobody argv=%s %s\n"
                          % (policy_spf(), args))
    return inst


def why_url(scope, ident, rcpt_domain="example.test", ip=CLIENT):
    return "Please see http://www.openspf.net/Why?s=%s;id=%s;ip=%s;r=%s" % (
        scope, ident, ip, rcpt_domain)


def rcpt_reply(inst, sender, helo="EHLO client.test"):
    s = inst.session(source=CLIENT, helo=helo, sender=sender)
    return s.rcpt_quit("phedison@example.test")


def send(inst, sender, rcpts, helo="EHLO client.test", source=CLIENT):
    s = inst.session(source=source, helo=helo)
    s.message(sender, rcpts, BODY)
    s.cmd("QUIT")
    s.close()


def spf_headers(text):
    return re.findall(r"(?m)^(?:Received-SPF|X-Comment): .*$", text)


def received_spf(result, comment, identity, sender, helo="client.test"):
    return ("Received-SPF: %s (%s) identity=%s; client-ip=%s; helo=%s; "
            "envelope-from=%s; receiver=example.test " % (result, comment, identity, CLIENT,
                                                          helo, sender))


FAIL = "550 5.7.23 " + RCPT_REJECTED + "Message rejected due to: SPF fail - not authorized. "


def _results_in_replies():
    with resolver(), spf_instance("spfres") as inst:
        inst.start()
        assert rcpt_reply(inst, "user@fail.test") == [FAIL + why_url("mfrom", "user@fail.test")]
        # redirect= to fail.test: the same fail
        assert rcpt_reply(inst, "user@redirect.test") == [
            FAIL + why_url("mfrom", "user@redirect.test")]
        # the name server of dead.example does not answer: 4xx
        r = rcpt_reply(inst, "user@temperror.test")
        assert len(r) == 1 and r[0].startswith(
            "450 4.7.24 " + RCPT_REJECTED + "Message deferred due to: SPF Temporary Error: "), r
        assert r[0].endswith(why_url("mfrom", "user@temperror.test")), r
        for sender in ("user@pass.test", "user@include.test", "user@softfail.test",
                       "user@neutral.test", "user@none.test", "user@permerror.test"):
            assert rcpt_reply(inst, sender) == ["250 2.1.5 Ok"], sender
        # the HELO identity fails: rejected whatever the sender
        assert rcpt_reply(inst, "", helo="EHLO helo-fail.test") == [
            FAIL + why_url("helo", "helo-fail.test")]
        assert rcpt_reply(inst, "user@pass.test", helo="HELO helo-fail.test") == [
            FAIL + why_url("helo", "helo-fail.test")]
        Syslog.wait(re.escape("postfix/policy-spf[") + r"\d+\]: [0-9a-f.]+: 550 5\.7\.23 "
                    + re.escape("Message rejected due to: SPF fail"))
        inst.wait_log(re.escape("NOQUEUE: reject: RCPT from unknown[%s]: 550 5.7.23 " % CLIENT
                                + RCPT_REJECTED))


def test_spf_results_in_replies():
    """Each SPF result: the reply to RCPT, with policyd-spf's texts."""
    in_own_network(_results_in_replies)


def _headers_in_mailbox():
    with resolver(), spf_instance("spfhdr") as inst:
        inst.start()
        send(inst, "user@pass.test", ["phedison@example.test", "phjonas@example.test"])
        want = received_spf("Pass", "mailfrom", "mailfrom", "user@pass.test")
        for user in ("phedison", "phjonas"):
            text = inst.wait_mbox(user, "body text")
            assert spf_headers(text) == [want], text
        send(inst, "", ["phalice@example.test"], helo="EHLO helo-pass.test")
        text = inst.wait_mbox("phalice", "body text")
        assert spf_headers(text) == [received_spf(
            "Pass", "sender SPF authorized", "helo", "<>", helo="helo-pass.test")], text
        for n, result in enumerate(("include", "softfail", "neutral", "none", "permerror")):
            send(inst, "user@%s.test" % result, ["phalice@example.test"])
            inst.wait_mbox("phalice", r"(?s)(body text.*){%d}" % (n + 2))
        got = spf_headers(inst.mbox("phalice"))[1:]
        assert got == [
            received_spf("Pass", "mailfrom", "mailfrom", "user@include.test"),
            received_spf("Softfail", "mailfrom", "mailfrom", "user@softfail.test"),
            received_spf("Neutral", "mailfrom", "mailfrom", "user@neutral.test"),
            received_spf("None", "mailfrom", "mailfrom", "user@none.test"),
            received_spf("Permerror", "mailfrom", "mailfrom", "user@permerror.test"),
        ], got


def test_spf_headers_in_mailbox():
    """Received-SPF in the delivered message: one header for two
    recipients (the answer is kept per message); the HELO identity for a
    null sender; each result's name."""
    in_own_network(_headers_in_mailbox)


def _modes_and_skip():
    with resolver():
        with spf_instance("spfsoft", "-f softfail") as inst:
            inst.start()
            assert rcpt_reply(inst, "user@softfail.test") == [
                "550 5.7.23 " + RCPT_REJECTED + "Message rejected due to: domain owner "
                "discourages use of this host. " + why_url("mfrom", "user@softfail.test")]
            assert rcpt_reply(inst, "user@neutral.test") == ["250 2.1.5 Ok"]
        with spf_instance("spfhdronly", "-n") as inst:
            inst.start()
            send(inst, "user@fail.test", ["phedison@example.test"])
            text = inst.wait_mbox("phedison", "body text")
            assert spf_headers(text) == [
                received_spf("Fail", "mailfrom", "mailfrom", "user@fail.test")], text
        with spf_instance("spfskip", "-s 192.0.2.0/24") as inst:
            inst.start()
            send(inst, "user@fail.test", ["phedison@example.test"])
            send(inst, "user@fail.test", ["phjonas@example.test"], source="127.0.0.1")
            for user, ip in (("phedison", CLIENT), ("phjonas", "127.0.0.1")):
                text = inst.wait_mbox(user, "body text")
                assert spf_headers(text) == [
                    "X-Comment: SPF check N/A for local connections - client-ip=%s; "
                    "helo=client.test; envelope-from=user@fail.test; receiver=example.test "
                    % ip], text


def test_spf_modes_and_skip():
    """-f softfail rejects softfail too; -n only adds headers; clients in
    the default skip networks (127.0.0.0/8) and in -s ones are not checked
    (policyd-spf's X-Comment header)."""
    in_own_network(_modes_and_skip)


def _same_answers_as_policyd_spf():
    with open(os.path.join(DATA, "policyd-spf.out")) as f:
        want = f.read().split("\n\n")
    with resolver(), Instance("spfref") as inst:
        with open(os.path.join(DATA, "requests")) as f:
            p = run([policy_spf(), "-c", inst.conf], input=f.read())
    assert p.returncode == 0, p.stderr
    got = p.stdout.split("\n\n")
    assert len(got) == len(want), p.stdout
    cause = re.compile(r"(SPF Temporary Error: )[^.]*(\. Please see)")
    for g, w in zip(got, want):
        assert cause.sub(r"\1...\2", g) == cause.sub(r"\1...\2", w), (g, w)


def test_spf_same_answers_as_policyd_spf():
    """policy-spf answers the reference requests as Debian's policyd-spf
    did (policyd-spf.out); the one difference is libspf2's wording of
    the temperror cause."""
    in_own_network(_same_answers_as_policyd_spf)
