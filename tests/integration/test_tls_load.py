"""
test_tls_load.py - the TLS support is a shared object, posthorn-tls.so in
daemon_directory, that smtpd and smtp load only when a parameter makes TLS
necessary (lib/tls/stub/tls_load.c): an smtpd with TLS off never maps
libssl/libcrypto (their relocations cost ~460 KB of private dirty memory
per process, docs/PERFORMANCE.md). A missing or unsafe object fails closed:
smtpd answers STARTTLS 454 and accepts no mail under encrypt; smtp defers
mail that needs TLS and sends "may" mail in plain text.
"""
import os
import re
import shutil

from posthorn import Instance, wait_for
from smtp_sink import SmtpSink
from test_smtp import submit
from test_smtp_tls import BODY, deferred, relay_params, sent, server_ctx
from test_tls import Certs, client_context, ehlo_keywords, tls_params

TLS_SO = "posthorn-tls.so"


def daemon_dir():
    import posthorn
    return os.path.join(posthorn.ROOT, "usr/libexec/posthorn")


def smtpd_pids(inst):
    """The instance's smtpd processes."""
    return inst.pids("smtpd")


def smtpd_maps(inst, s):
    """/proc/PID/maps of the smtpd processes (one serves session s)."""
    s.noop()
    wait_for(lambda: smtpd_pids(inst), 10, "an smtpd process")
    maps = ""
    for pid in smtpd_pids(inst):
        with open("/proc/%s/maps" % pid) as f:
            maps += f.read()
    return maps


def set_main(inst, **params):
    inst.params.update(params)
    inst.write_main()


def own_daemon_dir(inst, so_mode=None):
    """A daemon_directory of links to the installed programs, with
    posthorn-tls.so missing (so_mode None) or a copy with that mode."""
    d = os.path.join(inst.dir, "libexec")
    os.makedirs(d)
    for name in os.listdir(daemon_dir()):
        if name != TLS_SO:
            os.symlink(os.path.join(daemon_dir(), name), os.path.join(d, name))
    if so_mode is not None:
        shutil.copy(os.path.join(daemon_dir(), TLS_SO), os.path.join(d, TLS_SO))
        os.chmod(os.path.join(d, TLS_SO), so_mode)
    return d


def test_tls_load_smtpd_tls_off_does_not_map_libssl():
    with Instance("tlsoff") as inst:
        inst.start()
        s = inst.smtp()
        code, text = s.ehlo("client.example")
        assert "STARTTLS" not in text.decode()
        maps = smtpd_maps(inst, s)
        s.quit()
        assert "libssl" not in maps and "libcrypto" not in maps, maps
        assert TLS_SO not in maps
        assert "TLS support" not in inst.log()


def test_tls_load_smtpd_tls_may_loads_the_object():
    with Certs() as certs, Instance("tlson", main=tls_params(certs)) as inst:
        inst.start()
        s = inst.smtp()
        maps = smtpd_maps(inst, s)
        assert re.search(r"/%s$" % re.escape(TLS_SO), maps, re.M), maps
        assert "libssl.so" in maps and "libcrypto.so" in maps
        code, text = s.ehlo("client.example")
        assert "STARTTLS" in text.decode()
        assert s.starttls(context=client_context(certs.rsa_cert))[0] == 220
        assert s.ehlo("client.example")[0] == 250
        s.quit()


def test_tls_load_missing_object_fails_closed_in_smtpd():
    for level, mail_code in (("may", 250), ("encrypt", 530)):
        with Certs() as certs, Instance("tlsnoso", main=tls_params(
                certs, smtpd_tls_security_level=level)) as inst:
            set_main(inst, daemon_directory=own_daemon_dir(inst))
            inst.start()
            s = inst.smtp()
            assert "STARTTLS" in s.ehlo("client.example")[1].decode()
            assert s.docmd("STARTTLS") == (454, b"4.7.0 TLS not available due to local problem")
            assert s.docmd("MAIL FROM:<a@example.test>")[0] == mail_code
            s.quit()
            inst.wait_log(r"postfix/smtpd\[\d+\]: warning: TLS support is not available: "
                          r"\S+/libexec/%s: No such file or directory" % re.escape(TLS_SO))


def test_tls_load_unsafe_object_is_not_loaded():
    with Certs() as certs, Instance("tlsunsafe", main=tls_params(certs)) as inst:
        set_main(inst, daemon_directory=own_daemon_dir(inst, so_mode=0o666))
        inst.start()
        assert ehlo_keywords(inst)[0] == 250
        s = inst.smtp()
        s.ehlo("client.example")
        assert s.docmd("STARTTLS")[0] == 454
        assert "libssl" not in smtpd_maps(inst, s)
        s.quit()
        inst.wait_log(r"warning: TLS support is not available: \S+/%s: not owned by root, "
                      r"or writable by group or others" % re.escape(TLS_SO))


def test_tls_load_missing_object_in_smtp():
    """encrypt: deferred ("TLS engine unavailable"); may: plain text."""
    with Certs() as certs, SmtpSink(tls=server_ctx(certs)) as sink, \
            Instance("smtpnoso", main=relay_params(sink, smtp_tls_security_level="encrypt")) as inst:
        set_main(inst, daemon_directory=own_daemon_dir(inst))
        inst.start()
        qid = submit(inst, ["someone@remote.example"], BODY)
        deferred(inst, qid, r"Cannot start TLS: TLS engine unavailable", "4.7.5")
        assert sink.transactions == []
        inst.wait_log(r"postfix/smtp\[\d+\]: warning: TLS support is not available: ")
    with SmtpSink() as sink, \
            Instance("smtpnosomay", main=relay_params(sink, smtp_tls_security_level="may")) as inst:
        set_main(inst, daemon_directory=own_daemon_dir(inst))
        inst.start()
        qid = submit(inst, ["someone@remote.example"], BODY)
        t = sink.wait()
        assert t["tls"] is None, t
        sent(inst, qid)
        inst.wait_log(r"postfix/smtp\[\d+\]: warning: TLS support is not available: ")
