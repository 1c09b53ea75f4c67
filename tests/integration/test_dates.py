"""
test_dates.py - the dates in Date: and Received: headers read as
Postfix writes them ("Tue,  1 Dec 2026 12:00:03 +0000 (UTC)": the day of
the month padded with a space, never a zero), also on the 1st to 9th of
a month, whatever the real date is.

The instance runs under libfaketime (Debian package libfaketime,
installed by tests/deps.sh): "postfix start" gets LD_PRELOAD and a
FAKETIME of "@2026-12-01 12:00:00" (the clock starts there and runs on),
and main.cf's import_environment passes both to every daemon, as an
administrator would pass any variable. TZ=UTC makes the expected zone
fixed.
"""
import glob
import os
import re

from posthorn import Instance, run, sbin, wait_for
from test_core import classic_session

FAKE_START = "2026-12-01 12:00:00"          # a Tuesday
FAKE_DAY = r"Tue,  1 Dec 2026 12:\d\d:\d\d \+0000 \(UTC\)"


def faketime_lib():
    libs = glob.glob("/usr/lib/*/faketime/libfaketime.so.1")
    assert libs, "libfaketime is not installed (tests/deps.sh installs it)"
    return libs[0]


def fake_env():
    env = dict(os.environ)
    env.update({"LD_PRELOAD": faketime_lib(), "FAKETIME": "@" + FAKE_START, "TZ": "UTC"})
    # make asan: the preloaded library comes before the ASan runtime
    asan = env.get("ASAN_OPTIONS", "")
    env["ASAN_OPTIONS"] = (asan + ":" if asan else "") + "verify_asan_link_order=0"
    return env


class fake_instance(Instance):
    """An instance whose daemons see the fake clock. libfaketime leaves a
    semaphore and a shared memory file in /dev/shm for each process that
    does not exit through exit() (daemons stopped by a signal), and a later
    process that gets the same pid fails on them: remove the ones whose
    process is gone when the instance is cleaned up."""

    def __init__(self, name):
        main = {"import_environment": "MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C "
                                      "LD_PRELOAD FAKETIME ASAN_OPTIONS"}
        super().__init__(name, main=main)

    def cleanup(self, keep=False):
        super().cleanup(keep)
        for path in glob.glob("/dev/shm/sem.faketime_sem_*") + glob.glob("/dev/shm/faketime_shm_*"):
            pid = path.rsplit("_", 1)[-1]
            if pid.isdigit() and not os.path.exists("/proc/" + pid):
                try:
                    os.unlink(path)
                except OSError:
                    pass


def fake_start(inst):
    p = run([sbin("postfix"), "-c", inst.conf, "start"], env=fake_env())
    assert p.returncode == 0, p.stdout + p.stderr
    inst.started = True
    wait_for(inst.smtp_ready, 20, "smtpd on port %d" % inst.port)


def test_smtp_dates_on_the_first_of_a_month():
    with fake_instance("dates-smtp") as inst:
        fake_start(inst)
        qid = classic_session(inst, "jonas@example.test", "phedison@example.test",
                              ("Subject: no date", "", "dated body"))
        box = inst.wait_mbox("phedison", "dated body")
        assert re.search(r"\nReceived: from test \(.*\)\n\tby mail\.example\.test \(Postfix\) "
                         r"with SMTP id %s\n\tfor <phedison@example\.test>; %s\n"
                         % (qid, FAKE_DAY), box), box
        assert re.search(r"\nDate: %s\n" % FAKE_DAY, box), box
        assert re.search(r"^From jonas@example\.test  ?Tue Dec  1 12:\d\d:\d\d 2026\n", box), box


def test_local_submission_dates_on_the_first_of_a_month():
    with fake_instance("dates-pickup") as inst:
        fake_start(inst)
        p = run([sbin("sendmail"), "-c", inst.conf, "phedison@example.test"],
                input="Subject: local\n\nlocal dated body\n", env=fake_env())
        assert p.returncode == 0, p.stderr
        box = inst.wait_mbox("phedison", "local dated body")
        assert re.search(r"\nReceived: by mail\.example\.test \(Postfix, from userid 0\)\n"
                         r"\tid [0-9A-F]+; %s\n" % FAKE_DAY, box), box
        assert re.search(r"\nDate: %s\n" % FAKE_DAY, box), box
