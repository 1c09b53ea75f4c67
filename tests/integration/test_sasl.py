"""
test_sasl.py - SMTP AUTH in smtpd with a real Dovecot auth server
(smtpd_sasl_type = dovecot, smtpd_sasl_path = private/auth), set up as a
Debian admin does: Dovecot's "service auth" puts a unix_listener into the
queue directory's private/ for user postfix. Clients are real ones:
Python's smtplib (starttls() + login()) and swaks --tls --auth.

Each test starts a private Dovecot (dovecot.DovecotRun, the one starter
the LMTP tests use too: dovecot -F -c <temp config>, no IMAP/POP3
listeners: protocols =) with a passwd-file holding one user.
"""
import os
import re
import shutil
import smtplib
import tempfile

from dovecot import DovecotRun
from posthorn import Instance, Session, run, wait_for
from test_tls import Certs, HOST, USER, client_context, tls_params, use_submission_master_cf

SASL_USER = "alice@example.test"
SASL_PASS = "s3cret-Pass"
OUTSIDER = "127.0.0.2"          # not in mynetworks (127.0.0.1/32)

DOVECOT_CONF = """\
protocols =
ssl = no
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
info_log_path = {d}/dovecot.log
auth_mechanisms = plain login cram-md5
auth_failure_delay = 0
disable_plaintext_auth = {dpa}
passdb {{
  driver = passwd-file
  args = {d}/users
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home=/nonexistent
}}
service auth {{
  unix_listener {queue}/private/auth {{
    mode = 0660
    user = postfix
    group = postfix
  }}
}}
"""


class Dovecot:
    """A private Dovecot whose auth socket is inst's private/auth."""

    def __init__(self, inst, disable_plaintext_auth="no"):
        self.run = DovecotRun()
        self.socket = os.path.join(inst.queue, "private", "auth")
        private = os.path.dirname(self.socket)
        os.makedirs(private, exist_ok=True)
        shutil.chown(private, "postfix")
        os.chmod(private, 0o700)
        with open(os.path.join(self.run.dir, "users"), "w") as f:
            f.write("%s:{PLAIN}%s::::::\n" % (SASL_USER, SASL_PASS))
        self.run.start(DOVECOT_CONF.format(d=self.run.dir, queue=inst.queue,
                                           dpa=disable_plaintext_auth),
                       lambda: os.path.exists(self.socket), "dovecot auth socket")

    def close(self):
        self.run.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def sasl_params(certs=None, **extra):
    p = tls_params(certs) if certs else {}
    p.update({"mynetworks": "127.0.0.1/32", "smtpd_sasl_auth_enable": "yes",
              "smtpd_sasl_type": "dovecot", "smtpd_sasl_path": "private/auth"})
    p.update(extra)
    return p


class Setup:
    """Certificates, an instance with SASL through Dovecot, started."""

    def __init__(self, name, dpa="no", **extra):
        self.certs = Certs()
        self.inst = Instance(name, main=sasl_params(self.certs, **extra))
        self.dovecot = Dovecot(self.inst, dpa)
        self.inst.start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.inst.__exit__(*exc)
        self.dovecot.close()
        self.certs.__exit__(*exc)
        return False

    def smtp_tls(self, source=OUTSIDER):
        s = self.inst.smtp(source)
        s.ehlo("mua.example")
        s.starttls(context=client_context(self.certs.rsa_cert))
        s.ehlo("mua.example")
        return s


def test_sasl_mechanism_filter():
    """smtpd_sasl_mechanism_filter (a Postfix string list: names, !name,
    type:table) limits what EHLO offers and what AUTH accepts."""
    with Setup("saslmf", smtpd_sasl_mechanism_filter="!cram-md5, static:rest") as st:
        s = st.smtp_tls()
        offered = s.esmtp_features.get("auth", "").upper().split()
        assert "PLAIN" in offered and "LOGIN" in offered, offered
        assert "CRAM-MD5" not in offered, offered
        code, text = s.docmd("AUTH CRAM-MD5")
        assert code == 535 and b"Invalid authentication mechanism" in text, (code, text)
        assert s.login(SASL_USER, SASL_PASS) == (235, b"2.7.0 Authentication successful")
        s.quit()


def test_sasl_relay_only_after_login():
    """An outside client relays only after AUTH; the client= line names the
    login and Received: says ESMTPSA."""
    with Setup("sasl1", smtpd_sasl_authenticated_header="yes") as st:
        inst = st.inst
        s = st.smtp_tls()
        assert "PLAIN" in s.esmtp_features.get("auth", ""), s.esmtp_features
        assert s.docmd("MAIL FROM:<%s>" % SASL_USER)[0] == 250
        code, text = s.docmd("RCPT TO:<someone@remote.example>")
        assert (code, text) == (454, b"4.7.1 <someone@remote.example>: Relay access denied")
        s.docmd("RSET")
        assert s.login(SASL_USER, SASL_PASS) == (235, b"2.7.0 Authentication successful")
        assert s.docmd("MAIL FROM:<%s>" % SASL_USER)[0] == 250
        assert s.docmd("RCPT TO:<someone@remote.example>")[0] == 250
        assert s.docmd("RCPT TO:<%s@%s>" % (USER, HOST))[0] == 250
        code, text = s.data(b"Subject: sasl\r\n\r\nhello\r\n")
        assert code == 250, text
        s.quit()
        inst.wait_log(r"postfix/smtpd\[\d+\]: \w+: client=unknown\[127\.0\.0\.2\], "
                      r"sasl_method=CRAM-MD5, sasl_username=alice@example\.test$")
        msg = inst.wait_mbox(USER, r"hello")
        assert re.search(r"\(Authenticated sender: alice@example\.test\)\n\s+by %s "
                         r"\(\w+\) with ESMTPSA id " % re.escape(HOST), msg), msg


def test_sasl_wrong_password():
    with Setup("sasl2") as st:
        s = st.smtp_tls()
        s.user, s.password = SASL_USER, "wrong"
        try:
            s.auth("PLAIN", s.auth_plain)       # one try (Dovecot delays the next)
            raise AssertionError("login with a wrong password worked")
        except smtplib.SMTPAuthenticationError as e:
            assert e.smtp_code == 535, e
            assert e.smtp_error.startswith(b"5.7.8 Error: authentication failed: "), e
        assert s.docmd("MAIL FROM:<x@example.test>")[0] == 250
        assert s.docmd("RCPT TO:<someone@remote.example>")[0] == 454
        s.close()
        st.inst.wait_log(r"warning: unknown\[127\.0\.0\.2\]: SASL PLAIN authentication "
                         r"failed: \(reason unavailable\), sasl_username=alice@example\.test")


def test_sasl_tls_auth_only():
    """smtpd_tls_auth_only: no AUTH in plain text (504), AUTH after STARTTLS."""
    with Setup("sasl3", smtpd_tls_auth_only="yes") as st:
        s = st.inst.smtp(OUTSIDER)
        s.ehlo("mua.example")
        assert not s.has_extn("auth"), s.esmtp_features
        assert s.docmd("AUTH PLAIN AGFsaWNlAHg=") == \
            (504, b"5.5.4 Encryption required for requested authentication mechanism")
        s.quit()
        s = st.smtp_tls()
        assert s.has_extn("auth")
        assert s.login(SASL_USER, SASL_PASS)[0] == 235
        assert s.docmd("AUTH PLAIN AGFsaWNlAHg=") == (503, b"5.5.1 Error: already authenticated")
        s.quit()


def test_sasl_protocol_details():
    """LOGIN with 334 challenges, "*" aborts, unknown mechanism, AUTH=
    for broken clients, noplaintext filtering, STARTTLS forgets nothing
    it should keep."""
    with Setup("sasl4", broken_sasl_auth_clients="yes",
               smtpd_sasl_security_options="noanonymous, noplaintext",
               smtpd_sasl_tls_security_options="noanonymous") as st:
        inst = st.inst
        s = inst.smtp(OUTSIDER)
        code, text = s.ehlo("mua.example")
        lines = text.decode().splitlines()
        assert "AUTH CRAM-MD5" in lines and "AUTH=CRAM-MD5" in lines, lines
        assert s.docmd("AUTH PLAIN AGFsaWNlAHg=") == \
            (535, b"5.7.8 Error: authentication failed: Invalid authentication mechanism")
        s.quit()
        s = st.smtp_tls()
        code, text = s.ehlo("mua.example")
        lines = text.decode().splitlines()
        assert "AUTH PLAIN LOGIN CRAM-MD5" in lines and "AUTH=PLAIN LOGIN CRAM-MD5" in lines, \
            lines
        assert s.docmd("AUTH LOGIN") == (334, b"VXNlcm5hbWU6")
        assert s.docmd("*") == (501, b"5.7.0 Authentication aborted")
        assert s.docmd("AUTH PLAIN !!!") == \
            (535, b"5.7.8 Error: authentication failed: Invalid base64 data in initial response")
        assert s.docmd("AUTH") == (501, b"5.5.4 Syntax: AUTH mechanism")
        s.user, s.password = SASL_USER, SASL_PASS
        assert s.auth("LOGIN", s.auth_login, initial_response_ok=False)[0] == 235
        s.quit()
        inst.wait_log(r"warning: unknown\[127\.0\.0\.2\]: SASL LOGIN authentication aborted")
        # MAIL before AUTH in a session: 503
        s = st.smtp_tls()
        assert s.docmd("MAIL FROM:<a@example.test>")[0] == 250
        assert s.docmd("AUTH PLAIN") == (503, b"5.5.1 Error: MAIL transaction in progress")
        s.quit()


def test_sasl_swaks():
    with Setup("sasl5") as st:
        base = ["swaks", "--server", "127.0.0.1:%d" % st.inst.port, "--local-interface",
                OUTSIDER, "--from", SASL_USER, "--to", "someone@remote.example",
                "--tls", "--tls-ca-path", st.certs.rsa_cert]
        p = run(base + ["--auth", "PLAIN", "--auth-user", SASL_USER, "--auth-password",
                        SASL_PASS], timeout=60)
        assert "235 2.7.0 Authentication successful" in p.stdout, p.stdout
        assert re.search(r"<~  250 2\.0\.0 Ok: queued as", p.stdout), p.stdout
        p = run(base + ["--auth", "LOGIN", "--auth-user", SASL_USER, "--auth-password",
                        "nope"], timeout=60)
        assert "535 5.7.8 Error: authentication failed" in p.stdout, p.stdout
        p = run(base, timeout=60)
        assert "454 4.7.1 <someone@remote.example>: Relay access denied" in p.stdout, p.stdout


def test_sasl_submission_block_with_dovecot():
    """conf/master.cf's submission blocks, uncommented as shipped, with
    Debian's main.cf lines for Dovecot: 587 needs STARTTLS then AUTH, 465
    needs AUTH; mail from an authenticated user goes through."""
    with Certs() as certs:
        with Instance("saslsub", main=sasl_params(certs, smtpd_sasl_auth_enable="no")) as inst:
            with Dovecot(inst):
                ports = use_submission_master_cf(inst, drop_sasl=False)
                s = smtplib.SMTP("127.0.0.1", ports["submission"], timeout=30,
                                 source_address=(OUTSIDER, 0))
                s.ehlo("mua.example")
                assert not s.has_extn("auth")
                s.starttls(context=client_context(certs.rsa_cert))
                s.ehlo("mua.example")
                assert s.docmd("MAIL FROM:<%s>" % SASL_USER)[0] == 250
                assert s.docmd("RCPT TO:<%s@%s>" % (USER, HOST))[0] == 554
                s.docmd("RSET")
                assert s.login(SASL_USER, SASL_PASS)[0] == 235
                s.sendmail(SASL_USER, ["%s@%s" % (USER, HOST)], b"Subject: sub\r\n\r\nvia 587\r\n")
                s.quit()
                s = smtplib.SMTP_SSL("127.0.0.1", ports["submissions"], timeout=30,
                                     source_address=(OUTSIDER, 0),
                                     context=client_context(certs.rsa_cert))
                s.ehlo("mua.example")
                assert s.login(SASL_USER, SASL_PASS)[0] == 235
                s.sendmail(SASL_USER, ["%s@%s" % (USER, HOST)], b"Subject: sub\r\n\r\nvia 465\r\n")
                s.quit()
                inst.wait_mbox(USER, r"via 587")
                inst.wait_mbox(USER, r"via 465")
                inst.wait_log(r"postfix/submissions/smtpd\[\d+\]: \w+: client=unknown"
                              r"\[127\.0\.0\.2\], sasl_method=CRAM-MD5, sasl_username=alice")


def test_sasl_unknown_type_refused():
    """An smtpd_sasl_type posthorn does not have: fail closed."""
    with Instance("sasltype", main={"smtpd_sasl_auth_enable": "yes",
                                    "smtpd_sasl_type": "bogus"}) as inst:
        inst.start()
        sess = Session(inst.port)
        assert sess.line() == "421 4.3.5 Server configuration problem"
        inst.wait_log(r"fatal: unsupported SASL server implementation: bogus")


class CyrusSasl:
    """A Cyrus SASL configuration directory (smtpd.conf) with a sasldb made
    by saslpasswd2, readable by postfix."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="posthorn-cyrus-", dir="/tmp")
        os.chmod(self.dir, 0o755)
        self.db = os.path.join(self.dir, "sasldb2")
        user, realm = SASL_USER.split("@")
        run(["saslpasswd2", "-f", self.db, "-c", "-p", "-u", realm, user],
            input=SASL_PASS, check=True)
        shutil.chown(self.db, "postfix")
        os.chmod(self.db, 0o600)
        with open(os.path.join(self.dir, "smtpd.conf"), "w") as f:
            f.write("pwcheck_method: auxprop\nauxprop_plugin: sasldb\nsasldb_path: %s\n"
                    "mech_list: PLAIN LOGIN CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-256\n" % self.db)

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def test_sasl_cyrus_sasldb():
    """smtpd_sasl_type = cyrus with a sasldb (saslpasswd2): PLAIN, LOGIN,
    CRAM-MD5 from real clients; SCRAM offered; noplaintext honoured."""
    cyrus = CyrusSasl()
    try:
        with Certs() as certs:
            main = sasl_params(certs, smtpd_sasl_type="cyrus", smtpd_sasl_path="smtpd",
                               cyrus_sasl_config_path=cyrus.dir,
                               smtpd_sasl_security_options="noanonymous, noplaintext",
                               smtpd_sasl_tls_security_options="noanonymous")
            with Instance("saslcyrus", main=main) as inst:
                inst.start()
                s = inst.smtp(OUTSIDER)
                s.ehlo("mua.example")
                plain_text = s.esmtp_features["auth"].split()
                assert "PLAIN" not in plain_text and "CRAM-MD5" in plain_text, plain_text
                s.starttls(context=client_context(certs.rsa_cert))
                s.ehlo("mua.example")
                mechs = s.esmtp_features["auth"].split()
                for m in ("PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-256"):
                    assert m in mechs, mechs
                s.user, s.password = SASL_USER, "wrong"
                try:
                    s.auth("PLAIN", s.auth_plain)
                    raise AssertionError("wrong password accepted")
                except smtplib.SMTPAuthenticationError as e:
                    assert (e.smtp_code, e.smtp_error) == \
                        (535, b"5.7.8 Error: authentication failed: authentication failure"), e
                s.password = SASL_PASS
                assert s.auth("LOGIN", s.auth_login, initial_response_ok=False)[0] == 235
                assert s.docmd("MAIL FROM:<%s>" % SASL_USER)[0] == 250
                assert s.docmd("RCPT TO:<someone@remote.example>")[0] == 250
                s.quit()
                for mech in ("CRAM-MD5", "PLAIN"):
                    s = inst.smtp(OUTSIDER)
                    s.starttls(context=client_context(certs.rsa_cert))
                    s.ehlo("mua.example")
                    s.user, s.password = SASL_USER, SASL_PASS
                    fn = s.auth_cram_md5 if mech == "CRAM-MD5" else s.auth_plain
                    assert s.auth(mech, fn)[0] == 235, mech
                    s.sendmail(SASL_USER, ["%s@%s" % (USER, HOST)],
                               b"Subject: cyrus\r\n\r\nvia %s\r\n" % mech.encode())
                    s.quit()
                inst.wait_mbox(USER, r"via PLAIN")
                inst.wait_log(r"warning: unknown\[127\.0\.0\.2\]: SASL PLAIN authentication "
                              r"failed: authentication failure, sasl_username=alice@example\.test")
                inst.wait_log(r"client=unknown\[127\.0\.0\.2\], sasl_method=CRAM-MD5, "
                              r"sasl_username=alice@example\.test")
    finally:
        cyrus.close()


def test_sasl_no_auth_server():
    """The auth socket missing: Postfix's warning and fatal."""
    with Instance("saslnone", main=sasl_params()) as inst:
        inst.start()
        Session(inst.port)
        inst.wait_log(r"warning: SASL: Connect to Dovecot auth socket 'private/auth' failed: "
                      r"No such file or directory")
        inst.wait_log(r"fatal: no SASL authentication mechanisms")


def login_maps_session(st, login, sender):
    """RCPT's reply after MAIL FROM:<sender>, logged in as login (or not)."""
    s = st.smtp_tls(source="127.0.0.1" if login is None else OUTSIDER)
    if login:
        assert s.login(login, SASL_PASS)[0] == 235
    assert s.docmd("MAIL FROM:<%s>" % sender)[0] == 250
    reply = s.docmd("RCPT TO:<%s@%s>" % (USER, HOST))
    s.quit()
    return reply


def expect_553(reply, rejected, text, why):
    if rejected:
        assert reply == (553, b"5.7.1 " + text), (why, reply)
    else:
        assert reply[0] == 250, (why, reply)


def test_sasl_sender_login_maps():
    """smtpd_sender_login_maps with each reject_*_sender_login_mismatch."""
    for restriction, unknown_ok, unauth_checked in (
            ("reject_sender_login_mismatch", False, True),
            ("reject_authenticated_sender_login_mismatch", False, False),
            ("reject_known_sender_login_mismatch", True, True),
            ("reject_unauthenticated_sender_login_mismatch", True, True)):
        with Setup("sasllogin", smtpd_sender_restrictions=restriction) as st:
            maps = st.inst.write_table("login", "%s %s\nboss@example.test bob@example.test, "
                                       "%s\n@owned.example bob@example.test\n"
                                       % (SASL_USER, SASL_USER, "carol"), postmap=True)
            st.inst.params["smtpd_sender_login_maps"] = "hash:" + maps
            st.inst.write_main()
            st.inst.cmd("postfix", "reload", check=True)
            wait_for(lambda: "reload" in st.inst.log(), 20, "reload")
            auth_checked = restriction != "reject_unauthenticated_sender_login_mismatch"
            assert login_maps_session(st, SASL_USER, SASL_USER)[0] == 250, restriction
            expect_553(login_maps_session(st, SASL_USER, "boss@example.test"), auth_checked,
                       b"<boss@example.test>: Sender address rejected: "
                       b"not owned by user alice@example.test", restriction)
            r = login_maps_session(st, SASL_USER, "nobody@elsewhere.example")
            assert (r[0] == 250) == (unknown_ok or not auth_checked), (restriction, r)
            expect_553(login_maps_session(st, None, "x@owned.example"), unauth_checked,
                       b"<x@owned.example>: Sender address rejected: not logged in", restriction)
            assert login_maps_session(st, None, "nobody@elsewhere.example")[0] == 250
            st.inst.wait_log(r"NOQUEUE: reject: RCPT from unknown\[127\.0\.0\.\d\]: 553 5\.7\.1 <")


def test_sasl_auth_rate_limit():
    """smtpd_client_auth_rate_limit through anvil: Postfix's 450 and warning."""
    with Setup("saslrate", smtpd_client_auth_rate_limit="2") as st:
        s = st.smtp_tls()
        for _ in range(2):
            assert s.docmd("AUTH PLAIN AGFsaWNlAHg=")[0] == 535
        assert s.docmd("AUTH PLAIN AGFsaWNlAHg=") == \
            (450, b"4.7.1 Error: too many AUTH commands from 127.0.0.2")
        s.quit()
        st.inst.wait_log(r"warning: AUTH command rate limit exceeded: 3 from "
                         r"unknown\[127\.0\.0\.2\] for service \d+")


def test_sasl_policy_service_sees_login():
    """check_policy_service gets sasl_method and sasl_username, as Postfix's."""
    from test_policy import InetPolicyServer
    server = InetPolicyServer()
    server.start()
    try:
        rcpt = ("check_policy_service inet:127.0.0.1:%d, reject_unauth_destination"
                % server.port)
        with Setup("saslpolicy", smtpd_recipient_restrictions=rcpt) as st:
            s = st.smtp_tls()
            assert s.login(SASL_USER, SASL_PASS)[0] == 235
            assert s.docmd("MAIL FROM:<%s>" % SASL_USER)[0] == 250
            assert s.docmd("RCPT TO:<%s@%s>" % (USER, HOST))[0] == 250
            s.quit()
            req = server.requests[-1]
            assert (req["sasl_method"], req["sasl_username"]) == ("CRAM-MD5", SASL_USER), req
    finally:
        server.stop()


def test_sasl_exceptions_networks():
    """smtpd_sasl_exceptions_networks: those clients are not offered AUTH."""
    with Setup("saslexc", smtpd_sasl_exceptions_networks="127.0.0.2/32") as st:
        s = st.smtp_tls()
        assert not s.has_extn("auth"), s.esmtp_features
        assert s.docmd("AUTH PLAIN AGFsaWNlAHg=") == \
            (503, b"5.5.1 Error: authentication not enabled")
        s.quit()
        s = st.smtp_tls(source="127.0.0.1")
        assert s.has_extn("auth")
        assert s.login(SASL_USER, SASL_PASS)[0] == 235
        s.quit()


def test_sasl_attributes_in_queue_file():
    """After AUTH, smtpd hands sasl_method, sasl_username and the MAIL FROM
    AUTH= value (sasl_sender, kept as sent) to cleanup, which stores them as
    Postfix's named attributes (as tests/data/postfix-sasl-queue, Postfix
    3.7's file, has them); the client= line names sasl_sender too."""
    with Setup("saslattrs", relayhost="[127.0.0.1]:1") as st:
        inst = st.inst
        s = st.smtp_tls()
        assert s.login(SASL_USER, SASL_PASS)[0] == 235
        assert s.docmd("MAIL FROM:<%s> AUTH=<%s> AUTH=<>" % (SASL_USER, SASL_USER)) == \
            (503, b"5.5.4 Error: multiple AUTH= options")
        assert s.docmd("MAIL FROM:<%s> AUTH=<%s>" % (SASL_USER, SASL_USER))[0] == 250
        assert s.docmd("RCPT TO:<someone@remote.example>")[0] == 250
        code, text = s.data(b"Subject: sasl attrs\r\n\r\nhello\r\n")
        assert code == 250, text
        qid = re.search(r"queued as (\w+)", text.decode()).group(1)
        # AUTH=<> (a relay that knows no sender) is not stored
        assert s.docmd("MAIL FROM:<%s> AUTH=<>" % SASL_USER)[0] == 250
        assert s.docmd("RCPT TO:<someone@remote.example>")[0] == 250
        code, text = s.data(b"Subject: no sasl sender\r\n\r\nhello\r\n")
        qid2 = re.search(r"queued as (\w+)", text.decode()).group(1)
        s.quit()
        inst.wait_log(r"postfix/smtpd\[\d+\]: %s: client=unknown\[127\.0\.0\.2\], "
                      r"sasl_method=CRAM-MD5, sasl_username=alice@example\.test, "
                      r"sasl_sender=<alice@example\.test>$" % qid)
        inst.wait_log(r"%s: to=<someone@remote\.example>, .*status=deferred" % qid)
        out = inst.cmd("postcat", "-q", qid).stdout.splitlines()
        for line in ("named_attribute: sasl_method=CRAM-MD5",
                     "named_attribute: sasl_username=alice@example.test",
                     "named_attribute: sasl_sender=<alice@example.test>"):
            assert line in out, out
        assert out.index("named_attribute: sasl_sender=<alice@example.test>") \
            < out.index("sender: alice@example.test"), out
        inst.wait_log(r"postfix/smtpd\[\d+\]: %s: client=unknown\[127\.0\.0\.2\], "
                      r"sasl_method=CRAM-MD5, sasl_username=alice@example\.test$" % qid2)
        out = inst.cmd("postcat", "-q", qid2).stdout
        assert "sasl_sender" not in out and "sasl_username=alice" in out, out
