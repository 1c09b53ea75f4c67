"""
test_smtp_dane.py - DANE in the smtp client: smtp_tls_security_level =
dane / dane-only with smtp_dns_support_level = dnssec, TLSA records
looked up through a real validating resolver, smtp_tls_policy_maps per
destination, and Postfix's log lines and deferral reasons.

Each test runs in network and mount namespaces of its own (test_spf's
in_own_network): dnssec.py signs dane.test (keys made at test time) and
serves it with nsd on 127.0.0.2, unbound validates on 127.0.0.3 with the
zone's DS as trust anchor, and /etc/resolv.conf of the namespace points
there with "options trust-ad". The MX hosts are capturing servers
(smtp_sink.py) on port 25 of their own loopback addresses, offering
STARTTLS with a throw-away self-signed certificate (test_tls.Certs),
whose key's SHA-256 is published as "3 1 1" (DANE-EE); mx-ta has a
certificate for its name issued by a throw-away CA, whose certificate's
SHA-256 is published as "2 0 1" (DANE-TA).

    good.dane.test     MX mx-good      TLSA 3 1 1 (the right key)
    ta.dane.test       MX mx-ta        TLSA 2 0 1 (the issuing CA)
    wrong.dane.test    MX mx-wrong     TLSA 3 1 1 (another key)
    notlsa.dane.test   MX mx-notlsa    no TLSA
    pkix.dane.test     MX mx-pkix      TLSA 1 1 1 only (PKIX-EE: unusable)
    fail.dane.test     MX mx-fail      its _25._tcp name delegated to a
                                       name server that never answers
    insec.dane.test    an unsigned child zone: MX mx.insec (a wrong TLSA
                       there, ignored as insecure), and fwd.insec.dane.test
                       MX mx-good.dane.test (insecure MX, secure host)
"""
import hashlib
import os
import re
import ssl
import subprocess

from posthorn import Instance, run, wait_for
from dnssec import signed_dns
from smtp_sink import SmtpSink
from test_smtp import submit
from test_smtp_tls import BODY, server_ctx
from test_spf import in_own_network
from test_tls import Certs

HOSTS = {"good": "127.0.0.11", "wrong": "127.0.0.12", "notlsa": "127.0.0.13",
         "ta": "127.0.0.15", "pkix": "127.0.0.16", "fail": "127.0.0.17"}
INSEC_MX = "127.0.0.14"
DEAD_NS = "127.0.0.9"           # nothing listens there
ESTABLISHED = (r"postfix/smtp\[\d+\]: %s TLS connection established to %s\[%s\]:25: "
               r"TLSv1\.[23] with cipher \S+ \(\d+/\d+ bits\)")


def spki_sha256(cert):
    pub = run(["openssl", "x509", "-in", cert, "-noout", "-pubkey"], check=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pub.encode(),
                         capture_output=True, check=True).stdout
    return hashlib.sha256(der).hexdigest()


def cert_sha256(cert):
    der = subprocess.run(["openssl", "x509", "-in", cert, "-outform", "DER"],
                         capture_output=True, check=True).stdout
    return hashlib.sha256(der).hexdigest()


def ta_chain(certs):
    """A CA and a certificate for mx-ta.dane.test issued by it, in the
    Certs directory: (server context, CA certificate file)."""
    d = certs.dir
    ca, ca_key = os.path.join(d, "ca.pem"), os.path.join(d, "ca-key.pem")
    leaf, key, csr = (os.path.join(d, n) for n in ("ta.pem", "ta-key.pem", "ta.csr"))
    run(["openssl", "req", "-x509", "-nodes", "-days", "30", "-subj", "/CN=DANE test CA",
         "-newkey", "rsa:2048", "-keyout", ca_key, "-out", ca], check=True)
    run(["openssl", "req", "-new", "-nodes", "-subj", "/CN=mx-ta.dane.test", "-newkey",
         "rsa:2048", "-keyout", key, "-out", csr], check=True)
    ext = os.path.join(d, "ta.ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=DNS:mx-ta.dane.test\n")
    run(["openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key,
         "-CAcreateserial", "-days", "30", "-out", leaf, "-extfile", ext], check=True)
    with open(leaf, "a") as out, open(ca) as f:
        out.write(f.read())
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(leaf, key)
    return ctx, ca


def zone(certs, ca):
    good, other = spki_sha256(certs.rsa_cert), spki_sha256(certs.ec_cert)
    text = "".join("%s 300 IN MX 10 mx-%s\nmx-%s 300 IN A %s\n" % (n, n, n, a)
                   for n, a in HOSTS.items())
    text += ("_25._tcp.mx-good 300 IN TLSA 3 1 1 %s\n"
             "_25._tcp.mx-ta 300 IN TLSA 2 0 1 %s\n"
             "_25._tcp.mx-wrong 300 IN TLSA 3 1 1 %s\n"
             "_25._tcp.mx-pkix 300 IN TLSA 1 1 1 %s\n"
             "_25._tcp.mx-fail 300 IN NS ns-dead\n"
             "ns-dead 300 IN A %s\n" % (good, cert_sha256(ca), other, good, DEAD_NS))
    insec = ("@ 300 IN MX 10 mx\nmx 300 IN A %s\n_25._tcp.mx 300 IN TLSA 3 1 1 %s\n"
             "fwd 300 IN MX 10 mx-good.dane.test.\n" % (INSEC_MX, other))
    return text, {"insec": insec}


def dane_run(name, main, body):
    """body(inst, certs) with the signed zone served and validated, an
    instance started with main, and a STARTTLS sink on each MX address."""
    def inner():
        with Certs() as certs:
            ta_ctx, ca = ta_chain(certs)
            records, children = zone(certs, ca)
            with signed_dns(records, children) as resolv:
                run(["mount", "--bind", resolv, "/etc/resolv.conf"], check=True)
                sinks = {}
                try:
                    for host, addr in list(HOSTS.items()) + [("insec", INSEC_MX)]:
                        sinks[host] = SmtpSink(host=addr, port=25, tls=ta_ctx if host == "ta"
                                               else server_ctx(certs))
                    params = {"smtp_dns_support_level": "dnssec", "smtp_tls_loglevel": "1"}
                    params.update(main)
                    with Instance(name, main=params) as inst:
                        inst.start()
                        body(inst, sinks)
                        log = inst.log()
                        assert "not implemented" not in log and "needs DNSSEC" not in log, log
                finally:
                    for s in sinks.values():
                        s.close()
                    run(["umount", "/etc/resolv.conf"])
    in_own_network(inner)


def send(inst, domain):
    return submit(inst, ["someone@%s" % domain], BODY)


def sent(inst, qid, domain):
    inst.wait_log(r"postfix/smtp\[\d+\]: %s: to=<someone@%s>, relay=\S+, .*status=sent"
                  % (qid, re.escape(domain)))


def deferred(inst, qid, domain, reason):
    inst.wait_log(r"postfix/smtp\[\d+\]: %s: to=<someone@%s>, .*dsn=4\.7\.5, "
                  r"status=deferred \(%s\)" % (qid, re.escape(domain), reason))


def over_tls(inst, sinks, domain, sink, trust, mx):
    """Mail to domain reaches sinks[sink] over TLS, logged with trust
    ("Verified", "Trusted", "Untrusted") for MX host mx."""
    qid = send(inst, domain)
    t = wait_for(lambda: [t for t in sinks[sink].transactions if b"over TLS" in t["body"]],
                 30, "mail at %s" % sink)[0]
    assert t["tls"] and t["tls"].startswith("TLSv1"), t
    sent(inst, qid, domain)
    addr = INSEC_MX if sink == "insec" else HOSTS[sink]
    inst.wait_log(ESTABLISHED % (trust, re.escape(mx), re.escape(addr)))


DANE = {"smtp_tls_security_level": "dane"}
DANE_ONLY = {"smtp_tls_security_level": "dane-only"}


def test_dane_tlsa_match_is_verified():
    """Validated MX, host and DANE-EE 3 1 1 record matching the server's
    key: mandatory TLS, "Verified"; the same with DANE-TA 2 0 1."""
    def body(inst, sinks):
        for name in ("good", "ta"):
            over_tls(inst, sinks, "%s.dane.test" % name, name, "Verified", "mx-%s.dane.test" % name)
    dane_run("dane-good", DANE, body)


def test_dane_wrong_tlsa_defers():
    """A validated TLSA record that does not match: no mail, deferred
    with "Server certificate not trusted"."""
    def body(inst, sinks):
        qid = send(inst, "wrong.dane.test")
        deferred(inst, qid, "wrong.dane.test", "Server certificate not trusted")
        inst.wait_log(r"certificate verification failed for mx-wrong\.dane\.test"
                      r"\[127\.0\.0\.12\]:25: ")
        assert sinks["wrong"].transactions == []
        assert "MAIL" not in sinks["wrong"].conns[0], sinks["wrong"].conns
    dane_run("dane-wrong", DANE, body)


def test_dane_without_tlsa_is_opportunistic():
    """No TLSA record: dane falls back to "may" (TLS, not verified);
    only PKIX-EE records (unusable for SMTP): "encrypt"."""
    def body(inst, sinks):
        over_tls(inst, sinks, "notlsa.dane.test", "notlsa", "Untrusted", "mx-notlsa.dane.test")
        over_tls(inst, sinks, "pkix.dane.test", "pkix", "Untrusted", "mx-pkix.dane.test")
    dane_run("dane-notlsa", DANE, body)


def test_dane_only_without_tlsa_defers():
    """dane-only: no TLSA records (or an insecure MX answer) means no mail."""
    def body(inst, sinks):
        qid = send(inst, "notlsa.dane.test")
        deferred(inst, qid, "notlsa.dane.test", "no TLSA records found")
        inst.wait_log(r"warning: TLS policy lookup for notlsa\.dane\.test/mx-notlsa\.dane\.test: "
                      r"no TLSA records found")
        qid = send(inst, "insec.dane.test")
        deferred(inst, qid, "insec.dane.test", "non DNSSEC destination")
        qid = send(inst, "good.dane.test")
        sent(inst, qid, "good.dane.test")
        assert sinks["notlsa"].conns == [] and sinks["insec"].conns == []
    dane_run("dane-only", DANE_ONLY, body)


def test_dane_insecure_zone():
    """An unsigned (insecure) zone: its TLSA record (a wrong one) is not
    used, TLS is opportunistic. An insecure MX answer naming a secure
    host with a matching TLSA record: DANE applies
    (smtp_tls_dane_insecure_mx_policy = dane), logged "Trusted"."""
    def body(inst, sinks):
        over_tls(inst, sinks, "insec.dane.test", "insec", "Untrusted", "mx.insec.dane.test")
        over_tls(inst, sinks, "fwd.insec.dane.test", "good", "Trusted", "mx-good.dane.test")
    dane_run("dane-insec", DANE, body)


def test_dane_tlsa_lookup_failure_defers():
    """The TLSA lookup fails (the name server of _25._tcp.mx-fail does not
    answer: SERVFAIL): deferred, even at dane."""
    def body(inst, sinks):
        qid = send(inst, "fail.dane.test")
        deferred(inst, qid, "fail.dane.test", r"TLSA lookup error for mx-fail\.dane\.test:25")
        assert sinks["fail"].conns == []
    dane_run("dane-fail", DANE, body)


def test_dane_policy_maps_per_destination():
    """smtp_tls_policy_maps: dane-only for one domain, dane for another,
    may (the default) for the rest."""
    def body(inst, sinks):
        qid = send(inst, "wrong.dane.test")
        deferred(inst, qid, "wrong.dane.test", "Server certificate not trusted")
        over_tls(inst, sinks, "good.dane.test", "good", "Verified", "mx-good.dane.test")
        over_tls(inst, sinks, "notlsa.dane.test", "notlsa", "Untrusted", "mx-notlsa.dane.test")
    main = {"smtp_tls_security_level": "may",
            "smtp_tls_policy_maps": "inline:{wrong.dane.test=dane-only, good.dane.test=dane}"}
    dane_run("dane-maps", main, body)


def test_dane_needs_dnssec_lookups():
    """smtp_dns_support_level = enabled: no DNSSEC, so dane is "may" after
    a warning and dane-only defers; disabled: no MX lookups at all."""
    def body(inst, sinks):
        over_tls(inst, sinks, "good.dane.test", "good", "Untrusted", "mx-good.dane.test")
        inst.wait_log(r"warning: good\.dane\.test: dane configured with dnssec lookups disabled")
        qid = send(inst, "wrong.dane.test")
        deferred(inst, qid, "wrong.dane.test", "client TLS configuration problem")
        with Instance("dane-nodns", main={"smtp_dns_support_level": "disabled",
                                          "smtp_tls_security_level": "dane"}) as other:
            other.start()
            qid = send(other, "notlsa.dane.test")
            other.wait_log(r"%s: to=<someone@notlsa\.dane\.test>, relay=none, .*"
                           r"status=(bounced|deferred) \(Host or domain name not found" % qid)
        assert sinks["wrong"].conns == [] and sinks["notlsa"].conns == []
    dane_run("dane-nodnssec", {"smtp_tls_security_level": "dane",
                               "smtp_dns_support_level": "enabled",
                               "smtp_tls_policy_maps": "inline:{wrong.dane.test=dane-only}"}, body)
