"""
test_tls_ccert.py - TLS client certificates in smtpd: smtpd_tls_ask_ccert,
smtpd_tls_req_ccert, smtpd_tls_CAfile, smtpd_tls_ccert_verifydepth,
smtpd_tls_fingerprint_digest, the "Trusted/Untrusted/Anonymous TLS
connection established" lines and the Received: certificate comment, and
the restrictions permit_tls_clientcerts (relay_clientcerts),
permit_tls_all_clientcerts and check_ccert_access, with real clients
(Python's ssl, openssl s_client -cert/-key, swaks --tls-cert).

Certificates: a throw-away CA ("Posthorn Test CA") signs the client
certificate "client.example.test"; a self-signed client certificate
("rogue.example.test") is not trusted; the server uses test_tls.Certs.
"""
import contextlib
import hashlib
import os
import re
import socket
import ssl
import subprocess
import time

from posthorn import Instance, free_port, port_open, run, wait_for
from test_tls import Certs, s_client, tls_params

HOST = "mail.example.test"
RELAY_DENIED = b"5.7.1 <someone@remote.example>: Relay access denied"


class ClientCerts(Certs):
    """Certs, plus a CA, a client certificate it signed and a self-signed one."""

    def __init__(self):
        super().__init__()
        d = self.dir
        self.ca_cert, self.ca_key = os.path.join(d, "ca-cert.pem"), os.path.join(d, "ca-key.pem")
        run(["openssl", "req", "-x509", "-nodes", "-days", "30", "-newkey", "rsa:2048",
             "-subj", "/O=Posthorn Test/CN=Posthorn Test CA", "-keyout", self.ca_key,
             "-out", self.ca_cert], check=True)
        self.client_key = os.path.join(d, "client-key.pem")
        self.client_cert = os.path.join(d, "client-cert.pem")
        csr = os.path.join(d, "client.csr")
        run(["openssl", "req", "-new", "-nodes", "-newkey", "rsa:2048", "-subj",
             "/CN=client.example.test", "-keyout", self.client_key, "-out", csr], check=True)
        run(["openssl", "x509", "-req", "-in", csr, "-CA", self.ca_cert, "-CAkey", self.ca_key,
             "-CAcreateserial", "-days", "30", "-out", self.client_cert], check=True)
        self.rogue_cert, self.rogue_key = self.make("rogue", "-newkey", "rsa:2048",
                                                    cn="rogue.example.test")


def fingerprint(cert, digest="sha256"):
    """The certificate's fingerprint, "AB:CD:...", as openssl prints it."""
    out = run(["openssl", "x509", "-noout", "-fingerprint", "-" + digest, "-in", cert],
              check=True).stdout
    out = out.decode() if isinstance(out, bytes) else out
    return out.strip().split("=", 1)[1]


def pkey_fingerprint(cert, digest="sha256"):
    """The digest of the DER public key (SubjectPublicKeyInfo), "AB:CD:..."."""
    pub = subprocess.run(["openssl", "x509", "-noout", "-pubkey", "-in", cert],
                         capture_output=True, check=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pub,
                         capture_output=True, check=True).stdout
    h = hashlib.new(digest, der).hexdigest().upper()
    return ":".join(h[i:i + 2] for i in range(0, len(h), 2))


def ccert_params(certs, **extra):
    p = tls_params(certs, smtpd_tls_ask_ccert="yes", smtpd_tls_CAfile=certs.ca_cert,
                   smtpd_tls_loglevel="1", smtpd_tls_received_header="yes")
    p.update(extra)
    return p


def cert_ctx(cert=None, key=None):
    """A client context presenting cert (or none), not checking the server."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if cert:
        ctx.load_cert_chain(cert, key)
    return ctx


def tls_smtp(inst, cert=None, key=None):
    """smtplib after STARTTLS, presenting cert (or none)."""
    s = inst.smtp()
    s.ehlo("client.example")
    s.starttls(context=cert_ctx(cert, key))
    s.ehlo("client.example")
    return s


def reply_after_starttls(inst, cert=None, key=None):
    """The server's first words inside TLS, the client sending nothing (a
    client that pipelines could lose them to the TCP reset of the close)."""
    s = inst.smtp()
    try:
        s.ehlo("client.example")
        s.starttls(context=cert_ctx(cert, key))
        return s.getreply()
    finally:
        s.close()


def send_local(inst, s, subject):
    s.sendmail("a@example.test", ["phedison@%s" % HOST], "Subject: %s\r\n\r\nx\r\n" % subject)
    s.quit()
    return inst.wait_mbox("phedison", "Subject: %s" % subject)


def send_with_cert(inst, certs, subject):
    """A message to phedison over TLS with the trusted client certificate."""
    return send_local(inst, tls_smtp(inst, certs.client_cert, certs.client_key), subject)


@contextlib.contextmanager
def ccert_instance(name, **params):
    """Client certificates and a started instance with ccert_params(certs, **params)."""
    with ClientCerts() as certs, Instance(name, main=ccert_params(certs, **params)) as inst:
        inst.start()
        yield certs, inst


def established(kind):
    return (r"smtpd\[\d+\]: %s TLS connection established from unknown\[127\.0\.0\.1\]: "
            r"TLSv1\.3 with cipher " % kind)


def test_ccert_ask_trusted_untrusted_anonymous():
    with ccert_instance("ccert-ask") as (certs, inst):
        box = send_with_cert(inst, certs, "trusted")
        assert re.search(r'\t\(Client CN "client\.example\.test", Issuer "Posthorn Test CA" '
                         r'\(verified OK\)\)\n\tby mail\.example\.test', box), box
        # as Postfix (compared with tests/posttls-finger.sh): how the client signed
        inst.wait_log(established("Trusted") + r"\S+ \(256/256 bits\) key-exchange X25519 "
                      r"server-signature RSA-PSS \(2048 bits\) server-digest SHA256 "
                      r"client-signature RSA-PSS \(2048 bits\) client-digest SHA256$")
        box = send_local(inst, tls_smtp(inst, certs.rogue_cert, certs.rogue_key), "rogue")
        assert re.search(r'\t\(Client CN "rogue\.example\.test", Issuer "rogue\.example\.test" '
                         r'\(not verified\)\)\n', box), box
        inst.wait_log(established("Untrusted"))
        box = send_local(inst, tls_smtp(inst), "anon")
        msg = box[box.index("Subject: rogue"):]
        assert "\t(Client did not present a certificate)\n" in msg, msg
        inst.wait_log(established("Anonymous"))


def test_ccert_not_asked_by_default():
    """Without smtpd_tls_ask_ccert a client's certificate is not even asked for."""
    with ccert_instance("ccert-no", smtpd_tls_ask_ccert="no") as (certs, inst):
        box = send_with_cert(inst, certs, "noask")
        assert "\t(No client certificate requested)\n" in box, box
        inst.wait_log(established("Anonymous"))


def test_ccert_loglevel_2_subject_and_fingerprints():
    with ccert_instance("ccert-log2", smtpd_tls_loglevel="2") as (certs, inst):
        send_with_cert(inst, certs, "log2")
        # each certificate of the chain, as Postfix's verify callback logs it
        inst.wait_log(r"smtpd\[\d+\]: unknown\[127\.0\.0\.1\]: depth=1 verify=1 "
                      r"subject=/O=Posthorn Test/CN=Posthorn Test CA$")
        inst.wait_log(r"smtpd\[\d+\]: unknown\[127\.0\.0\.1\]: depth=0 verify=1 "
                      r"subject=/CN=client\.example\.test$")
        inst.wait_log(r"smtpd\[\d+\]: unknown\[127\.0\.0\.1\]: subject_CN=client\.example\.test, "
                      r"issuer=Posthorn Test CA, fingerprint=%s, pkey_fingerprint=%s$"
                      % (fingerprint(certs.client_cert), pkey_fingerprint(certs.client_cert)))


def test_ccert_required():
    """smtpd_tls_req_ccert under encrypt: no trusted certificate, Postfix's 421."""
    with ccert_instance("ccert-req", smtpd_tls_security_level="encrypt",
                        smtpd_tls_ask_ccert="no", smtpd_tls_req_ccert="yes") as (certs, inst):
        assert reply_after_starttls(inst) == \
            (421, ("4.7.1 %s Error: No client certificate presented" % HOST).encode())
        inst.wait_log(r"smtpd\[\d+\]: NOQUEUE: abort: TLS from unknown\[127\.0\.0\.1\]: "
                      r"No client certificate presented")
        assert reply_after_starttls(inst, certs.rogue_cert, certs.rogue_key) == \
            (421, ("4.7.1 %s Error: Client certificate not trusted" % HOST).encode())
        inst.wait_log(r"certificate verification failed for unknown\[127\.0\.0\.1\]: "
                      r"self-signed certificate")
        inst.wait_log(r"NOQUEUE: abort: TLS from unknown\[127\.0\.0\.1\]: "
                      r"Client certificate not trusted")
        out = s_client(inst.port, "-starttls", "smtp", "-cert", certs.client_cert,
                       "-key", certs.client_key, data=b"EHLO x\r\nQUIT\r\n")
        assert "250-%s" % HOST in out and "221 2.0.0 Bye" in out, out
        box = send_with_cert(inst, certs, "req")
        assert "(verified OK)" in box
        assert "not implement" not in inst.log()


def test_ccert_required_needs_encrypt():
    """Under "may" smtpd_tls_req_ccert is ignored with Postfix's warning."""
    with ccert_instance("ccert-reqmay", smtpd_tls_ask_ccert="no",
                        smtpd_tls_req_ccert="yes") as (certs, inst):
        send_local(inst, tls_smtp(inst), "reqmay")
        inst.wait_log(r"warning: Can't require client certs unless TLS is required")


def test_ccert_verifydepth():
    """smtpd_tls_ccert_verifydepth = 0: the CA one level up is too far."""
    with ClientCerts() as certs, \
            Instance("ccert-depth", main=ccert_params(
                certs, smtpd_tls_security_level="encrypt", smtpd_tls_req_ccert="yes",
                smtpd_tls_ccert_verifydepth="0")) as inst:
        inst.start()
        assert reply_after_starttls(inst, certs.client_cert, certs.client_key) == \
            (421, ("4.7.1 %s Error: Client certificate not trusted" % HOST).encode())
        inst.wait_log(r"certificate verification failed for unknown\[127\.0\.0\.1\]: "
                      r"certificate chain longer than limit\(0\)")


def relay_params(certs, restrictions, **extra):
    return ccert_params(certs, mynetworks="192.0.2.1/32",
                        smtpd_relay_restrictions=restrictions + " reject_unauth_destination",
                        **extra)


def relay_reply(inst, cert=None, key=None):
    s = tls_smtp(inst, cert, key)
    try:
        s.mail("a@example.test")
        return s.rcpt("someone@remote.example")
    finally:
        s.close()


@contextlib.contextmanager
def relay_ccert_instance(name, certs, fp, **params):
    """A started instance whose relay_clientcerts table lists fp
    (permit_tls_clientcerts in the relay restrictions)."""
    with Instance(name, main=relay_params(certs, "permit_tls_clientcerts", **params)) as inst:
        table = inst.write_table("relay_ccerts", "%s client\n" % fp, postmap=True)
        inst.params["relay_clientcerts"] = "hash:" + table
        inst.write_main()
        inst.start()
        yield inst


def test_permit_tls_clientcerts_relay_clientcerts():
    """A listed certificate fingerprint (or public-key fingerprint) relays;
    no certificate, or an unlisted one, gets Relay access denied."""
    with ClientCerts() as certs:
        with relay_ccert_instance("ccert-relay", certs, fingerprint(certs.client_cert)) as inst:
            assert relay_reply(inst, certs.client_cert, certs.client_key)[0] == 250
            assert relay_reply(inst) == (554, RELAY_DENIED)
            assert relay_reply(inst, certs.rogue_cert, certs.rogue_key) == (554, RELAY_DENIED)
            # swaks with --tls-cert/--tls-key relays, without them it is refused
            swaks = ["swaks", "--tls", "--server", "127.0.0.1", "--port", str(inst.port),
                     "--from", "a@example.test", "--to", "someone@remote.example",
                     "--quit-after", "RCPT"]
            out = run(swaks + ["--tls-cert", certs.client_cert, "--tls-key", certs.client_key])
            assert out.returncode == 0 and "<~  250 2.1.5 Ok" in out.stdout, out.stdout
            out = run(swaks)
            assert "<~* 554 5.7.1 <someone@remote.example>: Relay access denied" in out.stdout, \
                out.stdout
            # the public-key fingerprint; the chain need not be trusted
            inst.write_table("relay_ccerts", "%s rogue\n" % pkey_fingerprint(certs.rogue_cert),
                             postmap=True)
            time.sleep(1.1)
            inst.cmd("postfix", "reload", check=True)
            time.sleep(1)
            assert relay_reply(inst, certs.rogue_cert, certs.rogue_key)[0] == 250
            assert relay_reply(inst, certs.client_cert, certs.client_key) == (554, RELAY_DENIED)


def test_fingerprint_digest_md5():
    with ClientCerts() as certs:
        md5 = fingerprint(certs.client_cert, "md5")
        with relay_ccert_instance("ccert-md5", certs, md5,
                                  smtpd_tls_fingerprint_digest="md5") as inst:
            assert relay_reply(inst, certs.client_cert, certs.client_key)[0] == 250
        # compatibility_level below 3.6: md5 by default, with Postfix's notice
        with relay_ccert_instance("ccert-md5c", certs, md5, compatibility_level="2") as inst:
            assert relay_reply(inst, certs.client_cert, certs.client_key)[0] == 250
            inst.wait_log(r"using backwards-compatible default setting "
                          r"smtpd_tls_fingerprint_digest=md5 to compute certificate fingerprints")


def test_permit_tls_all_clientcerts():
    with ClientCerts() as certs, \
            Instance("ccert-all", main=relay_params(certs, "permit_tls_all_clientcerts")) as inst:
        inst.start()
        assert relay_reply(inst, certs.client_cert, certs.client_key)[0] == 250
        assert relay_reply(inst, certs.rogue_cert, certs.rogue_key) == (554, RELAY_DENIED)
        assert relay_reply(inst) == (554, RELAY_DENIED)


def test_check_ccert_access():
    with ClientCerts() as certs:
        with Instance("ccert-access", main=relay_params(certs, "")) as inst:
            fp = fingerprint(certs.rogue_cert)
            table = inst.write_table("ccert_access", "%s REJECT go away\n%s OK\n"
                                     % (fp, pkey_fingerprint(certs.client_cert)), postmap=True)
            inst.params["smtpd_relay_restrictions"] = ("check_ccert_access hash:%s "
                                                       "reject_unauth_destination" % table)
            inst.write_main()
            inst.start()
            assert relay_reply(inst, certs.client_cert, certs.client_key)[0] == 250
            assert relay_reply(inst, certs.rogue_cert, certs.rogue_key) == \
                (554, ("5.7.1 <%s>: Client certificate rejected: go away" % fp).encode())
            assert relay_reply(inst) == (554, RELAY_DENIED)


def test_ccert_policy_attributes():
    """check_policy_service gets ccert_* and encryption_* as Postfix 3.7
    sends them (checked with Debian's postfix): subject and issuer CN,
    xtext-encoded, only for a trusted certificate; the fingerprints for
    any certificate; the session's protocol, cipher and bits."""
    from test_policy import InetPolicyServer
    server = InetPolicyServer()
    server.start()
    try:
        rcpt = "check_policy_service inet:127.0.0.1:%d, permit" % server.port
        with ClientCerts() as certs, \
                Instance("ccert-policy", main=ccert_params(
                    certs, smtpd_recipient_restrictions=rcpt)) as inst:
            inst.start()
            want = [(certs.client_cert, certs.client_key, "client.example.test",
                     "Posthorn+20Test+20CA"),
                    (certs.rogue_cert, certs.rogue_key, "", ""), (None, None, "", "")]
            for cert, key, subject, issuer in want:
                s = tls_smtp(inst, cert, key)
                s.mail("a@example.test")
                assert s.rcpt("phedison@%s" % HOST)[0] == 250
                s.quit()
                req = server.requests[-1]
                assert (req["ccert_subject"], req["ccert_issuer"]) == (subject, issuer), req
                assert req["ccert_fingerprint"] == (fingerprint(cert) if cert else ""), req
                assert req["ccert_pubkey_fingerprint"] == \
                    (pkey_fingerprint(cert) if cert else ""), req
                assert (req["encryption_protocol"], req["encryption_cipher"],
                        req["encryption_keysize"]) == ("TLSv1.3", "TLS_AES_256_GCM_SHA384",
                                                       "256"), req
    finally:
        server.stop()


def test_ccert_required_in_wrapper_mode():
    """The submissions-style service (smtpd_tls_wrappermode) with
    smtpd_tls_req_ccert: the 421 instead of the greeting, inside TLS."""
    port = free_port()
    extra = ("%d inet n - n - - smtpd -o smtpd_tls_wrappermode=yes "
             "-o smtpd_tls_security_level=encrypt -o smtpd_tls_req_ccert=yes\n" % port)
    with ClientCerts() as certs, \
            Instance("ccert-wrap", main=ccert_params(certs), master_extra=extra) as inst:
        inst.start()
        wait_for(lambda: port_open(port), 20, "the wrapper-mode port")
        for cert, key, want in ((None, None, "421 4.7.1 %s Error: No client certificate "
                                 "presented" % HOST),
                                (certs.client_cert, certs.client_key, "220 %s ESMTP" % HOST)):
            with socket.create_connection(("127.0.0.1", port), timeout=20) as raw, \
                    cert_ctx(cert, key).wrap_socket(raw) as tls:
                first = tls.makefile("rb").readline().decode()
            assert first.startswith(want), (want, first)
