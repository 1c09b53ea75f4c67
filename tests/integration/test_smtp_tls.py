"""
test_smtp_tls.py - TLS in the smtp client: smtp_tls_security_level none /
may / encrypt / verify / secure, smtp_tls_policy_maps per destination,
smtp_tls_wrappermode, and Postfix's log lines and deferral reasons.

A message enters through smtpd and goes to a capturing server
(smtp_sink.py) that offers STARTTLS (or speaks TLS at once in wrapper
mode) with a throw-away self-signed certificate (test_tls.Certs: CN
rsa.example.test, names rsa.example.test and mail.example.test); that
certificate is its own CA for smtp_tls_CAfile, the ECDSA one is a wrong CA.
"""
import ssl

from posthorn import Instance
from smtp_sink import SmtpSink
from test_smtp import submit
from test_tls import Certs

BODY = b"From: jonas@example.test\r\nSubject: tls\r\n\r\nover TLS\r\n"
ESTABLISHED = r"%s TLS connection established to 127\.0\.0\.1\[127\.0\.0\.1\]:%d: " \
              r"TLSv1\.[23] with cipher \S+ \(\d+/\d+ bits\)"


def server_ctx(certs, **kw):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(certs.rsa_cert, certs.rsa_key)
    for k, v in kw.items():
        setattr(ctx, k, v)
    return ctx


def relay_params(sink, **extra):
    p = {"relayhost": "[127.0.0.1]:%d" % sink.port, "smtp_tls_loglevel": "1"}
    p.update(extra)
    return p


def sent(inst, qid):
    inst.wait_log(r"postfix/smtp\[\d+\]: %s: to=<someone@remote\.example>, .*status=sent" % qid)


def sent_verified(inst, sink):
    """One message through a started instance to sink: delivered over TLS,
    logged as a Verified connection."""
    qid = submit(inst, ["someone@remote.example"], BODY)
    assert sink.wait()["tls"]
    sent(inst, qid)
    inst.wait_log(r"postfix/smtp\[\d+\]: " + ESTABLISHED % ("Verified", sink.port))


def deferred(inst, qid, reason, dsn):
    inst.wait_log(r"postfix/smtp\[\d+\]: %s: to=<someone@remote\.example>, .*dsn=%s, "
                  r"status=deferred \(%s\)" % (qid, dsn.replace(".", r"\."), reason))


def test_may_uses_starttls_when_offered():
    with Certs() as certs, SmtpSink(tls=server_ctx(certs)) as sink, \
            Instance("smtp-tls-may", main=relay_params(
                sink, smtp_tls_security_level="may", smtp_tls_CAfile=certs.rsa_cert)) as inst:
        inst.start()
        qid = submit(inst, ["someone@remote.example"], BODY)
        t = sink.wait()
        assert t["tls"] and t["tls"].startswith("TLSv1"), t
        assert "STAR" in sink.conns[0]
        assert b"over TLS" in t["body"]
        sent(inst, qid)
        inst.wait_log(r"postfix/smtp\[\d+\]: " + ESTABLISHED % ("Trusted", sink.port))


def test_debian_main_cf_tls_settings():
    """Debian's main.cf: may, CApath /etc/ssl/certs, a session cache
    database (kept by tlsmgr: test_tlsmgr.py); mail goes over TLS."""
    with Certs() as certs, SmtpSink(tls=server_ctx(certs)) as sink, \
            Instance("smtp-tls-debian", main=relay_params(
                sink, smtp_tls_security_level="may", smtp_tls_CApath="/etc/ssl/certs",
                smtp_tls_session_cache_database="btree:${data_directory}/smtp_scache")) as inst:
        inst.start()
        qid = submit(inst, ["someone@remote.example"], BODY)
        t = sink.wait()
        assert t["tls"], t
        sent(inst, qid)
        inst.wait_log(r"postfix/smtp\[\d+\]: " + ESTABLISHED % ("Untrusted", sink.port))
        assert "refus" not in inst.log()


def test_may_plain_text_when_not_offered():
    with SmtpSink() as sink, \
            Instance("smtp-tls-plain", main=relay_params(
                sink, smtp_tls_security_level="may")) as inst:
        inst.start()
        qid = submit(inst, ["someone@remote.example"], BODY)
        t = sink.wait()
        assert t["tls"] is None
        assert "STAR" not in sink.conns[0]
        sent(inst, qid)
        assert "TLS connection established" not in inst.log()


def test_may_handshake_failure_retries_in_plain_text():
    """Opportunistic TLS whose handshake fails: the same server again,
    without STARTTLS (TLS_README, opportunistic TLS)."""
    with Certs() as certs, \
            SmtpSink(tls=server_ctx(certs, minimum_version=ssl.TLSVersion.TLSv1_3)) as sink, \
            Instance("smtp-tls-fallback", main=relay_params(
                sink, smtp_tls_security_level="may",
                smtp_tls_protocols="!SSLv2, !SSLv3, !TLSv1.3")) as inst:
        inst.start()
        qid = submit(inst, ["someone@remote.example"], BODY)
        t = sink.wait()
        assert t["tls"] is None
        assert "STAR" in sink.conns[0] and "STAR" not in sink.conns[1], sink.conns
        sent(inst, qid)
        inst.wait_log(r"postfix/smtp\[\d+\]: SSL_connect error to 127\.0\.0\.1\[127\.0\.0\.1\]:%d"
                      % sink.port)


def test_encrypt_defers_when_not_offered():
    with SmtpSink() as sink, \
            Instance("smtp-tls-encrypt", main=relay_params(
                sink, smtp_tls_security_level="encrypt")) as inst:
        inst.start()
        qid = submit(inst, ["someone@remote.example"], BODY)
        deferred(inst, qid, r"TLS is required, but was not offered by host "
                 r"127\.0\.0\.1\[127\.0\.0\.1\]", "4.7.4")
        assert sink.transactions == []
        assert "MAIL" not in sink.conns[0]


def test_legacy_smtp_enforce_tls():
    """smtp_enforce_tls = yes with smtp_tls_enforce_peername = no: encrypt."""
    with SmtpSink() as sink, \
            Instance("smtp-tls-enforce", main=relay_params(
                sink, smtp_enforce_tls="yes", smtp_tls_enforce_peername="no")) as inst:
        inst.start()
        qid = submit(inst, ["someone@remote.example"], BODY)
        deferred(inst, qid, r"TLS is required, but was not offered by host "
                 r"127\.0\.0\.1\[127\.0\.0\.1\]", "4.7.4")


def verify_instance(name, sink, cafile):
    return Instance(name, main=relay_params(sink, smtp_tls_security_level="verify",
                                            smtp_tls_CAfile=cafile,
                                            smtp_tls_verify_cert_match="mail.example.test"))


def test_verify_with_the_ca_file():
    with Certs() as certs, SmtpSink(tls=server_ctx(certs)) as sink, \
            verify_instance("smtp-tls-verify", sink, certs.rsa_cert) as inst:
        inst.start()
        sent_verified(inst, sink)


def test_verify_with_a_wrong_ca_defers():
    with Certs() as certs, SmtpSink(tls=server_ctx(certs)) as sink, \
            verify_instance("smtp-tls-wrongca", sink, certs.ec_cert) as inst:
        inst.start()
        qid = submit(inst, ["someone@remote.example"], BODY)
        deferred(inst, qid, r"Server certificate not verified", "4.7.5")
        inst.wait_log(r"postfix/smtp\[\d+\]: certificate verification failed for "
                      r"127\.0\.0\.1\[127\.0\.0\.1\]:%d: self-signed certificate" % sink.port)
        assert sink.transactions == []
        assert "MAIL" not in sink.conns[0]


def test_policy_maps_per_destination():
    """Three destinations, three policies; the default (none) for the rest."""
    with Certs() as certs, SmtpSink(tls=server_ctx(certs)) as good, \
            SmtpSink(tls=server_ctx(certs)) as badname, SmtpSink() as plain, \
            SmtpSink(tls=server_ctx(certs)) as other, \
            Instance("smtp-tls-policy", main={"smtp_tls_CAfile": certs.rsa_cert,
                                               "smtp_tls_loglevel": "1"}) as inst:
        inst.params["transport_maps"] = "hash:" + inst.write_table("transport", "".join(
            "%s smtp:[127.0.0.1]:%d\n" % (d, s.port) for d, s in
            (("good.example", good), ("badname.example", badname),
             ("plain.example", plain), ("other.example", other))), postmap=True)
        inst.params["smtp_tls_policy_maps"] = "hash:" + inst.write_table("tls_policy", (
            "[127.0.0.1]:%d verify match=nomatch.example.test:mail.example.test\n"
            "[127.0.0.1]:%d secure match=nomatch.example.test\n"
            "[127.0.0.1]:%d encrypt\n") % (good.port, badname.port, plain.port), postmap=True)
        inst.write_main()
        inst.start()
        q_good = submit(inst, ["a@good.example"], BODY)
        q_bad = submit(inst, ["b@badname.example"], BODY)
        q_plain = submit(inst, ["c@plain.example"], BODY)
        q_other = submit(inst, ["d@other.example"], BODY)
        assert good.wait()["tls"]
        assert other.wait()["tls"] is None
        assert "STAR" not in other.conns[0]
        inst.wait_log(r"%s: to=<a@good\.example>, .*status=sent" % q_good)
        inst.wait_log(r"%s: to=<d@other\.example>, .*status=sent" % q_other)
        inst.wait_log(r"%s: to=<b@badname\.example>, .*dsn=4\.7\.5, status=deferred "
                      r"\(Server certificate not verified\)" % q_bad)
        inst.wait_log(r"%s: to=<c@plain\.example>, .*dsn=4\.7\.4, status=deferred \(TLS is "
                      r"required, but was not offered by host 127\.0\.0\.1\[127\.0\.0\.1\]\)"
                      % q_plain)
        inst.wait_log(ESTABLISHED % ("Verified", good.port))
        inst.wait_log(ESTABLISHED % ("Untrusted", badname.port))
        inst.wait_log(r"server certificate verification failed for "
                      r"127\.0\.0\.1\[127\.0\.0\.1\]:%d: num=62:hostname mismatch" % badname.port)
        assert badname.transactions == [] and plain.transactions == []


def test_wrappermode_to_a_tls_port():
    with Certs() as certs, SmtpSink(tls=server_ctx(certs), wrapper=True) as sink, \
            Instance("smtp-tls-wrapper", main=relay_params(
                sink, smtp_tls_security_level="encrypt", smtp_tls_wrappermode="yes")) as inst:
        inst.start()
        qid = submit(inst, ["someone@remote.example"], BODY)
        t = sink.wait()
        assert t["tls"], t
        assert "STAR" not in sink.conns[0]
        sent(inst, qid)
        inst.wait_log(ESTABLISHED % ("Untrusted", sink.port))


# ---- SASL in the smtp client (smtp_sasl_auth_enable, Cyrus SASL) -----------------

def sasl_instance(name, sink, passwd, **extra):
    """An instance relaying to sink with smtp_sasl_password_maps = passwd."""
    inst = Instance(name, main=relay_params(sink, smtp_sasl_auth_enable="yes", **extra))
    inst.params["smtp_sasl_password_maps"] = "hash:" + inst.write_table(
        "sasl_passwd", passwd, postmap=True)
    inst.write_main()
    return inst


def test_sasl_relayhost_credentials_after_starttls():
    """The course setup: relayhost with credentials, AUTH offered only
    inside TLS; the defaults (noplaintext) allow PLAIN only there."""
    with Certs() as certs, \
            SmtpSink(tls=server_ctx(certs), auth=("PLAIN", "LOGIN"), auth_tls_only=True,
                     users={"alice@isp.example": "s3cret pass"}) as sink, \
            sasl_instance("smtp-sasl", sink, "[127.0.0.1]:%d alice@isp.example:s3cret pass\n"
                          % sink.port, smtp_tls_security_level="may",
                          smtp_sasl_tls_security_options="noanonymous") as inst:
        inst.start()
        qid = submit(inst, ["someone@remote.example"], BODY)
        t = sink.wait()
        sent(inst, qid)
        assert len(sink.auths) == 1, sink.auths
        a = sink.auths[0]
        assert (a["user"], a["password"], a["ok"]) == ("alice@isp.example", "s3cret pass", True)
        assert a["tls"] and t["tls"]
        assert sink.conns[0].index("STAR") < sink.conns[0].index("AUTH") \
            < sink.conns[0].index("MAIL"), sink.conns


def test_sasl_no_plaintext_auth_without_tls():
    """Default smtp_sasl_security_options = noplaintext, noanonymous: no
    PLAIN or LOGIN over a plain-text connection; the mail waits."""
    with SmtpSink(auth=("PLAIN", "LOGIN")) as sink, \
            sasl_instance("smtp-sasl-plain", sink, "[127.0.0.1]:%d alice:secret\n"
                          % sink.port) as inst:
        inst.start()
        qid = submit(inst, ["someone@remote.example"], BODY)
        deferred(inst, qid, r"SASL authentication failed; cannot authenticate to server "
                 r"127\.0\.0\.1\[127\.0\.0\.1\]: no mechanism available", "4.7.0")
        inst.wait_log(r"postfix/smtp\[\d+\]: warning: SASL authentication failure: "
                      r"No worthy mechs found")
        assert sink.auths == [] and "AUTH" not in sink.conns[0] and "MAIL" not in sink.conns[0]


def test_sasl_wrong_password_defers():
    with SmtpSink(auth=("PLAIN",), users={"alice": "right"}) as sink, \
            sasl_instance("smtp-sasl-bad", sink, "[127.0.0.1]:%d alice:wrong\n" % sink.port,
                          smtp_sasl_security_options="noanonymous") as inst:
        inst.start()
        qid = submit(inst, ["someone@remote.example"], BODY)
        deferred(inst, qid, r"SASL authentication failed; server 127\.0\.0\.1\[127\.0\.0\.1\] "
                 r"said: 535 5\.7\.8 Error: authentication failed: authentication failure",
                 "4.7.8")
        assert sink.auths[0]["password"] == "wrong" and sink.transactions == []
        assert "wrong" not in inst.log()


def test_sasl_sender_dependent_and_mechanism_filter():
    with SmtpSink(auth=("PLAIN", "LOGIN")) as sink, \
            sasl_instance("smtp-sasl-sender", sink,
                          "jonas@example.test jonas:pw-jonas\n"
                          "[127.0.0.1]:%d relay:pw-relay\n" % sink.port,
                          smtp_sasl_security_options="noanonymous",
                          smtp_sender_dependent_authentication="yes",
                          smtp_sasl_mechanism_filter="login") as inst:
        inst.start()
        q1 = submit(inst, ["someone@remote.example"], BODY, sender="jonas@example.test")
        q2 = submit(inst, ["someone@remote.example"], BODY, sender="other@example.test")
        sink.wait(2)
        sent(inst, q1)
        sent(inst, q2)
        got = sorted((a["mech"], a["user"], a["password"]) for a in sink.auths)
        assert got == [("LOGIN", "jonas", "pw-jonas"), ("LOGIN", "relay", "pw-relay")], got


def test_fingerprint_level_main_cf():
    """fingerprint: no CA at all; the certificate fingerprint in
    smtp_tls_fingerprint_cert_match is the check (colons optional)."""
    from test_tls_ccert import fingerprint
    with Certs() as certs, SmtpSink(tls=server_ctx(certs)) as sink, \
            Instance("smtp-tls-fpt", main=relay_params(
                sink, smtp_tls_security_level="fingerprint",
                smtp_tls_fingerprint_cert_match="11:22:33 , %s"
                % fingerprint(certs.rsa_cert).replace(":", "").lower())) as inst:
        inst.start()
        sent_verified(inst, sink)


def test_fingerprint_level_wrong_fingerprint_defers():
    from test_tls_ccert import fingerprint
    with Certs() as certs, SmtpSink(tls=server_ctx(certs)) as sink, \
            Instance("smtp-tls-fptbad", main=relay_params(
                sink, smtp_tls_security_level="fingerprint", smtp_tls_CAfile=certs.rsa_cert,
                smtp_tls_fingerprint_cert_match=fingerprint(certs.ec_cert))) as inst:
        inst.start()
        qid = submit(inst, ["someone@remote.example"], BODY)
        deferred(inst, qid, r"Server certificate not verified", "4.7.5")
        inst.wait_log(r"postfix/smtp\[\d+\]: " + ESTABLISHED % ("Untrusted", sink.port))
        inst.wait_log(r"postfix/smtp\[\d+\]: server certificate verification failed for "
                      r"127\.0\.0\.1\[127\.0\.0\.1\]:%d: num=65:no matching DANE TLSA records"
                      % sink.port)
        assert sink.transactions == []
        assert "MAIL" not in sink.conns[0]


def test_fingerprint_policy_match_attribute():
    """smtp_tls_policy_maps "fingerprint match=A|B": the public-key
    fingerprint with the md5 digest (smtp_tls_fingerprint_digest) matches;
    a second match= attribute adds to the list."""
    from test_tls_ccert import fingerprint, pkey_fingerprint
    with Certs() as certs, SmtpSink(tls=server_ctx(certs)) as sink, \
            Instance("smtp-tls-fptpol", main=relay_params(
                sink, smtp_tls_fingerprint_digest="md5")) as inst:
        inst.params["smtp_tls_policy_maps"] = "hash:" + inst.write_table("tls_policy", (
            "[127.0.0.1]:%d fingerprint match=%s|AA:BB match=%s\n" % (
                sink.port, fingerprint(certs.ec_cert, "md5"),
                pkey_fingerprint(certs.rsa_cert, "md5"))), postmap=True)
        inst.write_main()
        inst.start()
        sent_verified(inst, sink)
