"""
test_tls.py - TLS in smtpd: STARTTLS, wrapper mode (submissions), the
security levels, Postfix's log lines and Received: annotation, with real
clients: Python's smtplib and ssl, openssl s_client, swaks.

Certificates are throw-away ones made here with `openssl req -x509`.
"""
import grp
import os
import re
import shutil
import smtplib
import socket
import ssl
import subprocess
import tempfile
import time

from posthorn import Instance, Session, free_port, port_open, run, wait_for, REPO

HOST = "mail.example.test"
USER = "phedison"


class Certs:
    """An RSA and an ECDSA key pair with self-signed certificates in a temp dir."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="posthorn-tls-", dir="/tmp")
        os.chmod(self.dir, 0o755)
        self.rsa_cert, self.rsa_key = self.make("rsa", "-newkey", "rsa:2048")
        self.ec_cert, self.ec_key = self.make("ec", "-newkey", "ec", "-pkeyopt",
                                              "ec_paramgen_curve:prime256v1")

    def make(self, name, *keyargs, cn=None):
        cert = os.path.join(self.dir, name + "-cert.pem")
        key = os.path.join(self.dir, name + "-key.pem")
        cn = cn or "%s.example.test" % name
        run(["openssl", "req", "-x509", "-nodes", "-days", "30", "-subj", "/CN=" + cn,
             "-addext", "subjectAltName=DNS:%s,DNS:%s,IP:127.0.0.1" % (cn, HOST),
             "-keyout", key, "-out", cert] + list(keyargs), check=True)
        return cert, key

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        shutil.rmtree(self.dir, ignore_errors=True)
        return False


def tls_params(certs, **extra):
    p = {"smtpd_tls_cert_file": certs.rsa_cert, "smtpd_tls_key_file": certs.rsa_key,
         "smtpd_tls_security_level": "may"}
    p.update(extra)
    return p


def client_context(cafile, **kw):
    """An SSLContext that verifies the server against the throw-away certificate."""
    ctx = ssl.create_default_context(cafile=cafile)
    for k, v in kw.items():
        setattr(ctx, k, v)
    return ctx


def s_client(port, *args, data=b"QUIT\r\n", timeout=20):
    """openssl s_client; returns its stdout+stderr as text."""
    p = subprocess.run(["openssl", "s_client", "-ign_eof", "-connect", "127.0.0.1:%d" % port,
                        "-servername", HOST] + list(args),
                       input=data, capture_output=True, timeout=timeout)
    return (p.stdout + p.stderr).decode("utf-8", "replace")


def starttls_reply(inst):
    """The reply to STARTTLS after EHLO, in a session of its own."""
    s = inst.smtp()
    try:
        s.ehlo("client.example")
        return s.docmd("STARTTLS")
    finally:
        s.close()


def ehlo_keywords(inst):
    s = inst.smtp()
    try:
        code, text = s.ehlo("client.example")
        return code, text.decode().splitlines()
    finally:
        s.quit()


def test_tls_starttls_smtplib_received_and_log():
    with Certs() as certs:
        with Instance("tls", main=tls_params(certs, smtpd_tls_received_header="yes",
                                             smtpd_tls_loglevel="1")) as inst:
            inst.start()
            code, lines = ehlo_keywords(inst)
            assert "STARTTLS" in lines, lines
            s = inst.smtp()
            s.ehlo("client.example")
            code, text = s.starttls(context=client_context(certs.rsa_cert))
            assert (code, text) == (220, b"2.0.0 Ready to start TLS"), (code, text)
            code, text = s.ehlo("client.example")
            assert code == 250 and "STARTTLS" not in text.decode(), text
            # a second STARTTLS inside TLS
            assert s.docmd("STARTTLS") == (554, b"5.5.1 Error: TLS already active")
            s.sendmail("sender@example.test", ["%s@%s" % (USER, HOST)],
                       "Subject: over tls\r\n\r\nbody\r\n")
            s.quit()
            box = inst.wait_mbox(USER, r"Subject: over tls")
            rx = (r"Received: from client\.example \(unknown \[127\.0\.0\.1\]\)\n"
                  r"\t\(using TLSv1\.3 with cipher TLS_AES_256_GCM_SHA384 \(256/256 bits\)\n"
                  r"\t key-exchange X25519 server-signature RSA-PSS \(2048 bits\) "
                  r"server-digest SHA256\)\n"
                  r"\t\(No client certificate requested\)\n"
                  r"\tby mail\.example\.test \(\S+\) with ESMTPS id ")
            assert re.search(rx, box), box
            inst.wait_log(r"smtpd\[\d+\]: Anonymous TLS connection established from "
                          r"unknown\[127\.0\.0\.1\]: TLSv1\.3 with cipher "
                          r"TLS_AES_256_GCM_SHA384 \(256/256 bits\) key-exchange X25519 "
                          r"server-signature RSA-PSS \(2048 bits\) server-digest SHA256$")
            inst.wait_log(r"disconnect from unknown\[127\.0\.0\.1\] ehlo=2 starttls=1/2 mail=1 "
                          r"rcpt=1 data=1 quit=1 commands=7/8")


def test_tls_ecdsa_certificate_openssl_s_client():
    with Certs() as certs:
        params = tls_params(certs, smtpd_tls_cert_file="", smtpd_tls_key_file="",
                            smtpd_tls_eccert_file=certs.ec_cert, smtpd_tls_eckey_file=certs.ec_key,
                            smtpd_tls_loglevel="1")
        with Instance("tlsec", main=params) as inst:
            inst.start()
            out = s_client(inst.port, "-starttls", "smtp", "-CAfile", certs.ec_cert)
            assert "subject=CN = ec.example.test" in out, out
            assert "Peer signature type: ECDSA" in out, out
            assert "Verify return code: 0 (ok)" in out, out
            assert "221 2.0.0 Bye" in out, out
            inst.wait_log(r"Anonymous TLS connection established from unknown\[127\.0\.0\.1\]: "
                          r"TLSv1\.3 with cipher \S+ \(\d+/\d+ bits\) key-exchange X25519 "
                          r"server-signature ECDSA \(prime256v1\) server-digest SHA256$")


def assert_certificate_by_sigalgs(name, params):
    """An instance with an RSA and an ECDSA pair sends the one the client asks
    for; returns its log."""
    with Instance(name, main=params) as inst:
        inst.start()
        out = s_client(inst.port, "-starttls", "smtp", "-sigalgs", "ECDSA+SHA256")
        assert "subject=CN = ec.example.test" in out, out
        out = s_client(inst.port, "-starttls", "smtp", "-sigalgs", "RSA-PSS+SHA256")
        assert "subject=CN = rsa.example.test" in out, out
        inst.stop()
        return inst.log()


def test_tls_rsa_and_ecdsa_both_offered():
    """With both pairs the client's signature algorithms pick the certificate."""
    with Certs() as certs:
        params = tls_params(certs, smtpd_tls_eccert_file=certs.ec_cert,
                            smtpd_tls_eckey_file=certs.ec_key)
        assert_certificate_by_sigalgs("tlsboth", params)


def test_tls_session_ticket_resumption():
    """Stateless tickets: a second connection to the same smtpd process
    resumes the session (across processes: test_tlsmgr.py)."""
    with Certs() as certs:
        port = free_port()
        extra = "127.0.0.1:%d inet n - n - 1 smtpd\n" % port
        with Instance("tlsresume", main=tls_params(certs), master_extra=extra) as inst:
            inst.start()
            wait_for(lambda: port_open(port), 20)
            sess = os.path.join(certs.dir, "session.pem")
            out = s_client(port, "-starttls", "smtp", "-sess_out", sess)
            assert "New, TLSv1.3" in out and os.path.getsize(sess) > 0, out
            out = s_client(port, "-starttls", "smtp", "-sess_in", sess)
            assert "Reused, TLSv1.3" in out, out


def test_tls_starttls_discards_pipelined_commands():
    """RFC 3207 / the STARTTLS command-injection class: "STARTTLS\\r\\nRSET\\r\\n"
    in one write; the RSET sent in clear text must not be answered inside TLS."""
    with Certs() as certs:
        with Instance("tlsinj", main=tls_params(certs)) as inst:
            inst.start()
            sess = Session(inst.port)
            assert sess.reply()[0].startswith("220 ")
            sess.cmd("EHLO client.example")
            sess.send("STARTTLS\r\nRSET\r\n")
            assert sess.reply() == ["220 2.0.0 Ready to start TLS"]
            assert sess.buf == b""
            tls = client_context(certs.rsa_cert).wrap_socket(sess.sock, server_hostname=HOST)
            tls.settimeout(2)
            try:
                stray = tls.recv(1000)
            except (socket.timeout, TimeoutError):
                stray = b""
            assert stray == b"", "answered a command sent before the handshake: %r" % stray
            tls.settimeout(30)
            tls.sendall(b"NOOP\r\n")
            assert tls.recv(1000) == b"250 2.0.0 Ok\r\n"
            # the session starts over: the HELO name is forgotten
            tls.sendall(b"QUIT\r\n")
            assert tls.recv(1000) == b"221 2.0.0 Bye\r\n"
            tls.close()
            line = inst.wait_log(r"disconnect from unknown\[127\.0\.0\.1\] ehlo=.*").group(0)
            assert "rset" not in line, line
            assert "starttls=1" in line and "noop=1" in line, line


def test_tls_encrypt_requires_starttls():
    with Certs() as certs:
        with Instance("tlsenc", main=tls_params(certs, smtpd_tls_security_level="encrypt")) as inst:
            inst.start()
            s = inst.smtp()
            code, text = s.ehlo("client.example")
            assert "STARTTLS" in text.decode()
            must = (530, b"5.7.0 Must issue a STARTTLS command first")
            assert s.docmd("MAIL FROM:<a@example.test>") == must
            assert s.docmd("RSET") == must
            assert s.docmd("VRFY", "root") == must
            assert s.docmd("DATA") == must
            assert s.docmd("NOOP") == (250, b"2.0.0 Ok")
            s.starttls(context=client_context(certs.rsa_cert))
            s.ehlo("client.example")
            s.sendmail("a@example.test", ["%s@%s" % (USER, HOST)], "Subject: enc\r\n\r\nx\r\n")
            s.quit()
            box = inst.wait_mbox(USER, "Subject: enc")
            # smtpd_tls_received_header = no: no cipher comment, but still ESMTPS
            assert "(using TLS" not in box and " with ESMTPS id " in box, box
            # smtpd_tls_loglevel = 0: no summary line
            time.sleep(0.5)
            assert "TLS connection established" not in inst.log()


def test_tls_legacy_enforce_tls_and_client_levels():
    """smtpd_enforce_tls = yes without smtpd_tls_security_level is "encrypt";
    so is "verify" (a client level)."""
    with Certs() as certs:
        params = tls_params(certs, smtpd_tls_security_level="", smtpd_enforce_tls="yes")
        with Instance("tlsleg", main=params) as inst:
            inst.start()
            s = inst.smtp()
            s.ehlo("client.example")
            assert s.docmd("MAIL FROM:<a@example.test>")[0] == 530
            s.quit()
            assert "not implemented" not in inst.log()
        # a client-only level acts as "encrypt", with Postfix's warning
        with Instance("tlsverify", main=tls_params(certs, smtpd_tls_security_level="verify")) as inst:
            inst.start()
            s = inst.smtp()
            s.ehlo("client.example")
            assert s.docmd("MAIL FROM:<a@example.test>")[0] == 530
            s.quit()
            inst.wait_log(r'warning: smtpd_tls_security_level: unsupported TLS level "verify", '
                          r'using "encrypt"')


def test_tls_broken_key_fails_closed():
    """Keys that cannot be loaded: 454 to STARTTLS (advertised, as Postfix
    does); "may" goes on in clear text, "encrypt" accepts no mail."""
    with Certs() as certs:
        missing = os.path.join(certs.dir, "missing.pem")
        for level, mail_code in (("may", 250), ("encrypt", 530)):
            params = tls_params(certs, smtpd_tls_security_level=level, smtpd_tls_key_file=missing)
            with Instance("tlsbad", main=params) as inst:
                inst.start()
                s = inst.smtp()
                code, text = s.ehlo("client.example")
                assert "STARTTLS" in text.decode()
                assert s.docmd("STARTTLS") == (454, b"4.7.0 TLS not available due to local problem")
                assert s.docmd("MAIL FROM:<a@example.test>")[0] == mail_code
                s.quit()
                inst.wait_log(r'warning: cannot get RSA private key from file "%s": '
                              r'disabling TLS support' % re.escape(missing))
                inst.wait_log(r"warning: TLS library problem: ")


def test_tls_level_none_and_no_certs():
    with Certs() as certs:
        with Instance("tlsnone", main=tls_params(certs, smtpd_tls_security_level="none")) as inst:
            inst.start()
            code, lines = ehlo_keywords(inst)
            assert "STARTTLS" not in lines
            assert starttls_reply(inst) == (502, b"5.5.1 Error: command not implemented")
        with Instance("tlsnocert", main={"smtpd_tls_security_level": "may"}) as inst:
            inst.start()
            assert starttls_reply(inst)[0] == 454
            inst.wait_log(r"warning: No server certs available\. TLS won't be enabled")


def test_tls_handshake_timeout():
    """smtpd_starttls_timeout bounds the handshake."""
    with Certs() as certs:
        with Instance("tlstmo", main=tls_params(certs, smtpd_starttls_timeout="2s")) as inst:
            inst.start()
            sess = Session(inst.port)
            sess.reply()
            assert sess.cmd("STARTTLS") == ["220 2.0.0 Ready to start TLS"]
            t0 = time.time()
            sess.sock.settimeout(20)
            assert sess.sock.recv(100) == b""       # the server gave up
            assert time.time() - t0 < 15
            inst.wait_log(r"SSL_accept error from unknown\[127\.0\.0\.1\]: Connection timed out")
            inst.wait_log(r"lost connection after STARTTLS from unknown\[127\.0\.0\.1\]")
            inst.wait_log(r"disconnect from unknown\[127\.0\.0\.1\] starttls=0/1 commands=0/1")


def test_tls_smtpd_timeout_inside_tls():
    """smtpd_timeout still bounds reads once TLS is on; the 421 goes out in TLS."""
    with Certs() as certs:
        with Instance("tlsidle", main=tls_params(certs, smtpd_timeout="2s")) as inst:
            inst.start()
            s = inst.smtp()
            s.ehlo("client.example")
            s.starttls(context=client_context(certs.rsa_cert))
            t0 = time.time()
            assert s.getreply() == (421, b"4.4.2 mail.example.test Error: timeout exceeded")
            assert time.time() - t0 < 15
            s.close()
            inst.wait_log(r"timeout after STARTTLS from unknown\[127\.0\.0\.1\]")


def test_tls_protocols_and_ciphers():
    """smtpd_tls_protocols / _mandatory_protocols and smtpd_tls_exclude_ciphers
    reach OpenSSL; a TLS 1.2 session is logged without key-exchange details."""
    with Certs() as certs:
        params = tls_params(certs, smtpd_tls_protocols="!SSLv2, !SSLv3, !TLSv1.3",
                            smtpd_tls_exclude_ciphers="AESGCM", smtpd_tls_loglevel="1")
        with Instance("tlsproto", main=params) as inst:
            inst.start()
            out = s_client(inst.port, "-starttls", "smtp")
            assert "Protocol  : TLSv1.2" in out, out
            cipher = re.search(r"Cipher is (\S+)", out).group(1)
            assert "GCM" not in cipher, cipher
            inst.wait_log(r"Anonymous TLS connection established from unknown\[127\.0\.0\.1\]: "
                          r"TLSv1\.2 with cipher %s \(\d+/\d+ bits\)$" % re.escape(cipher))
        params = tls_params(certs, smtpd_tls_security_level="encrypt",
                            smtpd_tls_mandatory_protocols="TLSv1.3")
        with Instance("tlsmand", main=params) as inst:
            inst.start()
            out = s_client(inst.port, "-starttls", "smtp", "-tls1_2")
            assert "Cipher is (NONE)" in out or "Cipher    : 0000" in out, out
            inst.wait_log(r"SSL_accept error from unknown\[127\.0\.0\.1\]: ")
            out = s_client(inst.port, "-starttls", "smtp")
            assert "Protocol  : TLSv1.3" in out, out
        with Instance("tlsbadproto", main=tls_params(certs, smtpd_tls_protocols="TLSv9")) as inst:
            inst.start()
            assert starttls_reply(inst)[0] == 454
            inst.wait_log(r'warning: Invalid TLS protocol list "TLSv9": disabling TLS support')


def test_tls_chain_files():
    with Certs() as certs:
        chain = os.path.join(certs.dir, "chain.pem")
        with open(chain, "w") as f:
            for path in (certs.ec_key, certs.ec_cert, certs.rsa_key, certs.rsa_cert):
                f.write(open(path).read())
        params = tls_params(certs, smtpd_tls_cert_file="", smtpd_tls_key_file="",
                            smtpd_tls_chain_files=chain, smtpd_tls_loglevel="2")
        log = assert_certificate_by_sigalgs("tlschain", params)
        # smtpd_tls_loglevel 2: the handshake states too
        assert re.search(r"smtpd\[\d+\]: SSL_accept:SSLv3/TLS write server hello$", log, re.M), log
        assert "Anonymous TLS connection established" in log


def test_tls_swaks():
    with Certs() as certs:
        with Instance("tlsswaks", main=tls_params(certs, smtpd_tls_received_header="yes")) as inst:
            inst.start()
            p = run(["swaks", "--tls", "--server", "127.0.0.1", "--port", str(inst.port),
                     "--from", "sender@example.test", "--to", "%s@%s" % (USER, HOST),
                     "--helo", "swaks.example", "--header", "Subject: swaks tls"])
            assert p.returncode == 0, p.stdout + p.stderr
            assert "TLS started with cipher TLSv1.3" in p.stdout + p.stderr, p.stdout
            box = inst.wait_mbox(USER, "Subject: swaks tls")
            assert re.search(r"Received: from swaks\.example .*\n\t\(using TLSv1\.3 with cipher",
                             box), box


DEBIAN_MAIN_CF_TLS = """
# TLS parameters
smtpd_tls_cert_file=/etc/ssl/certs/ssl-cert-snakeoil.pem
smtpd_tls_key_file=/etc/ssl/private/ssl-cert-snakeoil.key
smtpd_tls_security_level=may

smtp_tls_CApath=/etc/ssl/certs
smtp_tls_security_level=may
smtp_tls_session_cache_database = btree:${data_directory}/smtp_scache
"""


def test_tls_debian_snakeoil_key_read_before_privilege_drop():
    """Debian's postinst lines with a snakeoil-like pair: the key is mode 0640
    root:ssl-cert, which mail_owner cannot read, so smtpd must read it as root."""
    with Certs() as certs:
        gid = grp.getgrnam("ssl-cert").gr_gid
        assert "postfix" not in grp.getgrnam("ssl-cert").gr_mem
        private = os.path.join(certs.dir, "private")
        os.mkdir(private, 0o710)
        os.chown(private, 0, gid)
        key = os.path.join(private, "ssl-cert-snakeoil.key")
        shutil.copy(certs.rsa_key, key)
        os.chown(key, 0, gid)
        os.chmod(key, 0o640)
        with Instance("tlsdeb") as inst:
            # the block Debian's postinst appends to main.cf when the snakeoil key exists
            debian_tls = DEBIAN_MAIN_CF_TLS.replace(
                "/etc/ssl/certs/ssl-cert-snakeoil.pem", certs.rsa_cert).replace(
                "/etc/ssl/private/ssl-cert-snakeoil.key", key)
            with open(os.path.join(inst.conf, "main.cf"), "a") as f:
                f.write(debian_tls)
            inst.start()
            s = inst.smtp()
            s.ehlo("client.example")
            s.starttls(context=client_context(certs.rsa_cert))
            assert s.ehlo("client.example")[0] == 250
            s.quit()
            # the daemon itself runs as mail_owner
            pids = run(["pgrep", "-u", "postfix", "-x", "smtpd"]).stdout.split()
            assert pids, "no smtpd running as postfix"
            assert "cannot get" not in inst.log()


def use_submission_master_cf(inst, drop_sasl):
    """Give inst conf/master.cf with the submission and submissions blocks
    uncommented as they ship, on free ports; returns the ports."""
    with open(os.path.join(REPO, "conf/master.cf")) as f:
        text = f.read()
    ports = {"submission": free_port(), "submissions": free_port()}
    out, block = [], None
    for line in text.splitlines():
        m = re.match(r"#(submissions?)\s+inet\s", line)
        if m:
            block = m.group(1)
            out.append(line[1:].replace(block, "127.0.0.1:%d" % ports[block], 1))
            continue
        if block and line.startswith("#  -o "):
            if not (drop_sasl and "smtpd_sasl_auth_enable" in line):
                out.append(line[1:])
            continue
        if block and line.startswith("#     "):
            continue                      # comment lines inside the block stay comments
        block = None
        out.append(re.sub(r"^smtp\s+inet\s.*$", "%d inet n - n - - smtpd" % inst.port, line))
    with open(os.path.join(inst.conf, "master.cf"), "w") as f:
        f.write("\n".join(out) + "\n")
    inst.start()
    wait_for(lambda: port_open(ports["submissions"]), 20)
    return ports


def test_tls_submission_blocks_as_shipped():
    """Uncommented as shipped, the blocks start, and with an
    smtpd_sasl_type posthorn does not have both refuse to serve (fail
    closed): on 465 the refusal comes inside TLS. (With Dovecot and Cyrus
    they work: test_sasl.py.)"""
    with Certs() as certs:
        with Instance("tlssub", main=tls_params(certs, smtpd_sasl_type="bogus")) as inst:
            ports = use_submission_master_cf(inst, drop_sasl=False)
            # the client waits for the greeting (no QUIT in flight when smtpd exits)
            out = s_client(ports["submissions"], "-CAfile", certs.rsa_cert, data=b"")
            assert "subject=CN = rsa.example.test" in out, out
            assert "421 4.3.5 Server configuration problem" in out, out
            sess = Session(ports["submission"])
            assert sess.line() == "421 4.3.5 Server configuration problem"
            inst.wait_log(r"fatal: unsupported SASL server implementation: bogus")


def test_tls_submission_blocks_work():
    """The blocks without the SASL line: 587 needs STARTTLS, 465 speaks TLS
    from the first byte and shows the configured certificate."""
    with Certs() as certs:
        with Instance("tlssub2", main=tls_params(certs)) as inst:
            ports = use_submission_master_cf(inst, drop_sasl=True)
            # 587: encrypt
            s = smtplib.SMTP("127.0.0.1", ports["submission"], timeout=30)
            code, text = s.ehlo("mua.example")
            assert "STARTTLS" in text.decode()
            assert s.docmd("MAIL FROM:<a@example.test>") == \
                (530, b"5.7.0 Must issue a STARTTLS command first")
            s.starttls(context=client_context(certs.rsa_cert))
            s.ehlo("mua.example")
            assert s.docmd("MAIL FROM:<a@example.test>")[0] == 250
            # smtpd_recipient_restrictions=permit_sasl_authenticated,reject
            assert s.docmd("RCPT TO:<%s@%s>" % (USER, HOST))[0] == 554
            s.quit()
            # 465: wrapper mode
            out = s_client(ports["submissions"], "-CAfile", certs.rsa_cert)
            assert "subject=CN = rsa.example.test" in out, out
            assert "Verify return code: 0 (ok)" in out, out
            assert "220 %s ESMTP" % HOST in out, out
            s = smtplib.SMTP_SSL("127.0.0.1", ports["submissions"], timeout=30,
                                 context=client_context(certs.rsa_cert))
            code, text = s.ehlo("mua.example")
            assert code == 250 and "STARTTLS" not in text.decode(), text
            assert s.docmd("STARTTLS") == (554, b"5.5.1 Error: TLS already active")
            s.quit()
            inst.wait_log(r"postfix/submissions/smtpd\[\d+\]: connect from")


def test_tls_wrappermode_without_keys_drops_client():
    with Certs() as certs:
        port = free_port()
        extra = ("127.0.0.1:%d inet n - n - - smtpd -o smtpd_tls_wrappermode=yes "
                 "-o smtpd_tls_key_file=%s/missing.pem\n" % (port, certs.dir))
        with Instance("tlswrapbad", main=tls_params(certs), master_extra=extra) as inst:
            inst.start()
            wait_for(lambda: port_open(port), 20)
            out = s_client(port)
            assert "220 " not in out, out
            inst.wait_log(r"warning: Wrapper-mode request dropped from unknown\[127\.0\.0\.1\] "
                          r"for service 127\.0\.0\.1:%d\. TLS context initialization failed\. "
                          r"For details see earlier warnings in your logs\." % port)
