"""
test_local_security.py - the privilege rules of the local delivery agent,
tried the way a hostile local user or remote client would:

  - the duplicate filter keys commands and files by user and uid, so two
    users with the same .forward command both get it run;
  - :include: lends the include file owner's rights only to root's
    rights (a root-owned alias file), never to a user's .forward; a
    world-writable include file is refused;
  - nothing but the mailbox itself is written or run as root: root's
    .forward runs as default_privs;
  - regexp:/pcre: alias_maps never substitute $1..$9 into a command;
  - the recipient cannot SIGSTOP the delivery process (for files local
    itself, whose real and saved uids stay root), and a stopped command
    ends at command_time_limit;
  - the mbox From line and Return-Path: quote the sender;
  - descriptors are closed before exec also where the kernel has no
    close_range (simulated with a seccomp filter);
  - files written by local itself: each with its recipient's ids and mode,
    local all root again after each delivery (a failed one too); a FIFO,
    a symbolic link or a second hard link is refused; a delivery that
    hangs ends at command_time_limit.

Forward files live in the instance directory (forward_path), not in the
shared test users' homes.
"""
import ctypes
import fcntl
import os
import pwd
import re
import signal
import stat
import struct
import subprocess
import sys
import time

from posthorn import Instance, run, sbin, wait_for
from test_local import local_line, scratch_dir, send, wait_file
from test_master import procs_named


def fwd_instance(name, main=None):
    """An instance whose forward_path is <dir>/fwd/$user.forward."""
    inst = Instance(name, main=main)
    d = os.path.join(inst.dir, "fwd")
    os.makedirs(d)
    os.chmod(d, 0o755)
    inst.params["forward_path"] = d + "/${user}.forward"
    inst.write_main()
    return inst


def put_file(path, text, user="root", mode=0o644):
    pw = pwd.getpwnam(user)
    with open(path, "w") as f:
        f.write(text)
    os.chown(path, pw.pw_uid, pw.pw_gid)
    os.chmod(path, mode)
    return path


def put_forward(inst, user, text):
    return put_file(os.path.join(inst.dir, "fwd", user + ".forward"), text, user)


def uid(user):
    return pwd.getpwnam(user).pw_uid


def read(path):
    with open(path) as f:
        return f.read()


# ---- 1. duplicate filter ------------------------------------------------------

def test_same_forward_command_runs_for_each_user():
    """staff: phedison, phjonas; both have "|cmd" with the same text."""
    with fwd_instance("dupcmd") as inst:
        d = scratch_dir(inst)
        cmd = "/bin/sh -c 'id -u > %s/$USER.out'" % d
        for u in ("phedison", "phjonas"):
            put_forward(inst, u, '"|%s"\n' % cmd)
        inst.write_aliases("postmaster: root\nstaff: phedison, phjonas\n")
        inst.start()
        qid = send(inst, "staff@example.test", ("for the staff",))
        for u in ("phedison", "phjonas"):
            inst.wait_log(local_line(qid, "%s@mail.example.test" % u, "sent",
                                     re.escape("delivered to command: %s" % cmd),
                                     orig="staff@example.test"))
            assert wait_file(os.path.join(d, u + ".out")).strip() == str(uid(u))


# ---- 2. :include: rights ------------------------------------------------------

INCLUDE_OK = {"allow_mail_to_commands": "alias, forward, include",
              "allow_mail_to_files": "alias, forward, include"}


def test_include_from_forward_keeps_the_users_rights():
    """phedison's .forward includes a list owned by phjonas: phedison's rights."""
    with fwd_instance("incfwd", main=INCLUDE_OK) as inst:
        d = scratch_dir(inst)
        inc = put_file(os.path.join(inst.dir, "fwd", "jonas.list"),
                       '"|/bin/sh -c \'id -u > %s/cmd.out\'"\n%s/file.mbox\n' % (d, d),
                       "phjonas")
        put_forward(inst, "phedison", ":include:%s\n" % inc)
        inst.start()
        qid = send(inst, "phedison@example.test", ("included",))
        assert wait_file(os.path.join(d, "cmd.out")).strip() == str(uid("phedison"))
        wait_file(os.path.join(d, "file.mbox"), "included")
        assert os.stat(os.path.join(d, "file.mbox")).st_uid == uid("phedison")
        inst.wait_log(local_line(qid, "phedison@example.test", "sent",
                                 re.escape("delivered to file: %s/file.mbox" % d)))


def test_include_from_root_alias_uses_the_file_owner():
    """A root-owned alias file: the include file's owner (Postfix)."""
    with Instance("incroot", main=INCLUDE_OK) as inst:
        d = scratch_dir(inst)
        inc = put_file(os.path.join(inst.dir, "jonas.list"),
                       '"|/bin/sh -c \'id -u > %s/cmd.out\'"\n' % d, "phjonas")
        inst.write_aliases("postmaster: root\nlist: :include:%s\n" % inc)
        inst.start()
        send(inst, "list@example.test", ("to the list",))
        assert wait_file(os.path.join(d, "cmd.out")).strip() == str(uid("phjonas"))


def test_world_writable_include_file_is_refused():
    with Instance("incww", main=INCLUDE_OK) as inst:
        d = scratch_dir(inst)
        inc = put_file(os.path.join(inst.dir, "open.list"),
                       '"|/bin/sh -c \'id -u > %s/cmd.out\'"\n' % d, "phjonas", 0o666)
        inst.write_aliases("postmaster: root\nlist: :include:%s\n" % inc)
        inst.start()
        qid = send(inst, "list@example.test", ("to an open list",))
        inst.wait_log(local_line(qid, "list@example.test", "deferred",
                                 r"mail system configuration error: include file %s is "
                                 r"world writable" % re.escape(inc)))
        inst.wait_log(r"warning: file %s is world writable" % re.escape(inc))
        assert not os.path.exists(os.path.join(d, "cmd.out"))


# ---- 3. never root for commands and files --------------------------------------

def test_root_forward_runs_as_default_privs():
    with fwd_instance("rootfwd") as inst:
        d = scratch_dir(inst)
        put_forward(inst, "root", '"|/bin/sh -c \'id -u > %s/cmd.out\'", %s/root.mbox\n'
                    % (d, d))
        inst.start()
        qid = send(inst, "root@example.test", ("for root",))
        nobody = uid("nobody")
        assert wait_file(os.path.join(d, "cmd.out")).strip() == str(nobody)
        wait_file(os.path.join(d, "root.mbox"), "for root")
        assert os.stat(os.path.join(d, "root.mbox")).st_uid == nobody
        inst.wait_log(local_line(qid, "root@example.test", "sent",
                                 re.escape("delivered to file: %s/root.mbox" % d)))


# ---- 4. no $n from pattern alias tables into commands --------------------------

def smtp_rcpt(inst, rcpt, body="x"):
    """One message to a raw RCPT TO argument; returns the queue id."""
    s = inst.session(helo="HELO client.example")
    qid = s.message("jonas@example.test", [rcpt], "Subject: hostile\r\n\r\n%s\r\n" % body)
    s.cmd("QUIT")
    s.close()
    return qid


def test_pattern_alias_maps_do_not_substitute_into_commands():
    with Instance("regsub") as inst:
        d = scratch_dir(inst)
        rx = put_file(os.path.join(inst.conf, "aliases.regexp"),
                      "/^run-(.*)$/ |$1\n"
                      "/^fixed$/ \"|/bin/sh -c 'echo fixed > %s/fixed.out'\"\n" % d)
        pc = put_file(os.path.join(inst.conf, "aliases.pcre"), "/^pipe-(.*)$/ |${1}\n")
        inst.params["alias_maps"] = "hash:%s/aliases, regexp:%s, pcre:%s" % (inst.conf, rx, pc)
        inst.write_main()
        inst.start()
        q1 = smtp_rcpt(inst, '"run-touch %s/regexp-pwned"@example.test' % d)
        q2 = smtp_rcpt(inst, '"pipe-touch %s/pcre-pwned"@example.test' % d)
        q3 = smtp_rcpt(inst, "fixed@example.test")
        wait_file(os.path.join(d, "fixed.out"), "fixed")      # the table works
        for q in (q1, q2):
            inst.wait_log(r"%s: to=<.*relay=local, .*status=bounced \(unknown user" % q)
        inst.wait_log(r"postfix/local\[\d+\]: warning: %s, line 1: regular expression "
                      r"substitution is not allowed: skipping this rule" % re.escape(rx))
        inst.wait_log(r"postfix/local\[\d+\]: warning: %s, line 1: regular expression "
                      r"substitution is not allowed: skipping this rule" % re.escape(pc))
        inst.wait_log(local_line(q3, "fixed@example.test", "sent", "delivered to command: .*"))
        assert sorted(os.listdir(d)) == ["fixed.out"]


# ---- 5. the recipient cannot stall local delivery -----------------------------

def kill_if_stopped(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            state = re.search(r"^State:\s+(\S)", f.read(), re.M).group(1)
        if state in "Tt":
            os.kill(pid, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


def test_recipient_cannot_stop_the_command_delivery_process():
    """The command (as the recipient) SIGSTOPs its parent, the delivery process."""
    with fwd_instance("stopcmd", main={"command_time_limit": "30s"}) as inst:
        d = scratch_dir(inst)
        # local runs this with /bin/sh -c: $PPID is the delivery process
        put_forward(inst, "phedison", '"|echo $PPID > %s/ppid; kill -STOP $PPID 2>/dev/null; '
                    'echo $? > %s/kill.rc"\n' % (d, d))
        inst.start()
        qid = send(inst, "phedison@example.test", ("stop me",))
        try:
            inst.wait_log(local_line(qid, "phedison@example.test", "sent",
                                     "delivered to command: .*"), timeout=15)
            assert read(os.path.join(d, "kill.rc")).strip() != "0"
        finally:
            if os.path.exists(os.path.join(d, "ppid")):
                kill_if_stopped(int(read(os.path.join(d, "ppid"))))


HOSTILE = r"""
import errno, fcntl, os, re, signal, sys, time
box, conf, out = sys.argv[1:]
fd = os.open(box, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
fcntl.lockf(fd, fcntl.LOCK_EX)
open(out + ".ready", "w").close()
me = os.getuid()
seen, stopped, uids, errs, first = 0, [], set(), set(), None
end = time.time() + 15
def status(pid):
    with open("/proc/%s/status" % pid) as f:
        return f.read()
def ours(pid):
    # a process of this instance: conf is on an ancestor's command line
    for _ in range(4):
        pid = re.search(r"^PPid:\s+(\d+)", status(pid), re.M).group(1)
        if pid == "0":
            return False
        with open("/proc/%s/cmdline" % pid) as f:
            if conf in f.read():
                return True
    return False
while time.time() < end and (first is None or time.time() < first + 2):
    for pid in os.listdir("/proc"):
        try:
            s = status(pid)
            ids = re.search(r"^Uid:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)", s, re.M).groups()
            # the delivering process: local acting with my effective uid
            if not re.search(r"^Name:\s+local$", s, re.M) or int(ids[1]) != me \
               or not ours(pid):
                continue
        except (OSError, AttributeError):
            continue
        seen += 1
        uids.add("/".join(ids))
        first = first or time.time()
        try:
            os.kill(int(pid), signal.SIGSTOP)
            stopped.append(pid)
        except OSError as e:
            errs.add(errno.errorcode.get(e.errno, str(e.errno)))
    time.sleep(0.02)
with open(out, "w") as f:
    f.write("%d %s\n%s\n%s\n" % (seen, " ".join(stopped), " ".join(sorted(uids)),
                                   " ".join(sorted(errs))))
"""


def test_recipient_cannot_stop_the_mailbox_delivery_process():
    """The recipient holds the lock of its file and SIGSTOPs the delivery
    process waiting for it (local itself: it writes files with the
    recipient's effective ids); then releases the lock. kill() fails with
    EPERM because the real and saved uids stay root."""
    with fwd_instance("stopbox", main={"deliver_lock_delay": "1s"}) as inst:
        d = os.path.join(inst.dir, "box")
        os.makedirs(d)
        os.chown(d, uid("phedison"), pwd.getpwnam("phedison").pw_gid)
        box = os.path.join(d, "phedison.mbox")
        put_forward(inst, "phedison", "%s\n" % box)
        script = put_file(os.path.join(inst.dir, "hostile.py"), HOSTILE)
        out = os.path.join(d, "hostile.out")
        inst.start()
        p = subprocess.Popen(["/usr/bin/python3", script, box, inst.conf, out], user="phedison",
                             group=pwd.getpwnam("phedison").pw_gid)
        stopped = []
        try:
            wait_for(lambda: os.path.exists(out + ".ready"), 10, "the hostile user's lock")
            qid = send(inst, "phedison@example.test", ("lock and stop",))
            p.wait(timeout=30)
            counts, uid_lines, errs = read(out).split("\n")[:3]
            seen, *stopped = counts.split()
            assert int(seen) > 0, "the delivery process was never seen"
            inst.wait_log(local_line(qid, "phedison@example.test", "sent",
                                     "delivered to file: .*"), timeout=15)
            assert stopped == [], stopped
            assert errs == "EPERM", errs
            # real, effective, saved, file system uid: only the effective
            # ones are the recipient's
            u = uid("phedison")
            assert uid_lines == "0/%d/0/%d" % (u, u), uid_lines
        finally:
            if p.poll() is None:
                p.kill()
            for pid in stopped:
                kill_if_stopped(int(pid))


def test_stopped_command_ends_at_command_time_limit():
    with fwd_instance("stoptime", main={"command_time_limit": "2s"}) as inst:
        put_forward(inst, "phedison", '"|/bin/sh -c \'kill -STOP $$\'"\n')
        inst.start()
        q1 = send(inst, "phedison@example.test", ("stop myself",))
        q2 = send(inst, "phjonas@example.test", ("other mail",))
        inst.wait_mbox("phjonas", "other mail")
        inst.wait_log(local_line(q2, "phjonas@example.test", "sent", "delivered to mailbox"))
        inst.wait_log(local_line(q1, "phedison@example.test", "bounced",
                                 re.escape("Command time limit exceeded: ") + ".*"),
                      timeout=20)


# ---- 6. quoted sender in the From line and Return-Path: ------------------------

def test_mbox_from_line_and_return_path_quote_the_sender():
    with Instance("quote") as inst:
        inst.start()
        send(inst, "phalice@example.test", ("quoted sender",),
             sender='"Mon Jan  1 x"@example.test')
        box = inst.wait_mbox("phalice", "quoted sender")
        assert box.startswith('From "Mon Jan  1 x"@example.test '), box[:80]
        assert '\nReturn-Path: <"Mon Jan  1 x"@example.test>\n' in box, box[:300]


# ---- 7. descriptors closed without close_range ---------------------------------

def no_close_range():
    """preexec_fn: close_range(2) fails with ENOSYS, as on an old kernel."""
    libc = ctypes.CDLL(None, use_errno=True)

    def ins(code, jt, jf, k):
        return struct.pack("HBBI", code, jt, jf, k)
    prog = (ins(0x20, 0, 0, 0)                      # A = syscall number
            + ins(0x15, 0, 1, 436)                  # close_range?
            + ins(0x06, 0, 0, 0x00050000 | 38)      # SECCOMP_RET_ERRNO | ENOSYS
            + ins(0x06, 0, 0, 0x7fff0000))          # SECCOMP_RET_ALLOW
    buf = ctypes.create_string_buffer(prog)

    class Fprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]
    fp = Fprog(len(prog) // 8, ctypes.addressof(buf))
    if libc.prctl(38, 1, 0, 0, 0) != 0 or libc.prctl(22, 2, ctypes.byref(fp), 0, 0) != 0:
        os._exit(99)


def test_descriptors_closed_before_exec_without_close_range():
    if os.uname().machine != "x86_64":
        return                                  # the filter names the x86_64 number
    with fwd_instance("noclose") as inst:
        d = scratch_dir(inst)
        put_forward(inst, "phedison", '"|ls /proc/self/fd > %s/fds"\n' % d)
        p = subprocess.run([sbin("postfix"), "-c", inst.conf, "start"], capture_output=True,
                           text=True, preexec_fn=no_close_range)
        assert p.returncode == 0, p.stdout + p.stderr
        inst.started = True
        wait_for(inst.smtp_ready, 20, "smtpd")
        qid = send(inst, "phedison@example.test", ("count the descriptors",))
        inst.wait_log(local_line(qid, "phedison@example.test", "sent", "delivered to command: .*"))
        fds = sorted(int(x) for x in read(os.path.join(d, "fds")).split())
        assert fds == [0, 1, 2, 3], fds       # 3: ls's own directory handle


# ---- 8. files written by local itself, as the recipient -----------------------

def proc_ids(pid):
    """{"Uid": [real, effective, saved, fs], "Gid": [...], "Groups": [...]}."""
    with open("/proc/%d/status" % pid) as f:
        text = f.read()
    return {k: re.search(r"^%s:\s*(.*)$" % k, text, re.M).group(1).split()
            for k in ("Uid", "Gid", "Groups")}


def owner(path):
    st = os.lstat(path)
    return st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)


def ids(user):
    pw = pwd.getpwnam(user)
    return pw.pw_uid, pw.pw_gid


def test_each_recipient_gets_its_own_ids_and_local_returns_to_root():
    """One request, three recipients with different uids: a refused FIFO
    (an error while local acts as phedison), a new mbox file for phjonas
    and a new Maildir for phalice. Each file has its recipient's ids and
    mode 0600, and the idle local process is all root again."""
    with fwd_instance("ids", main={"local_destination_recipient_limit": "10"}) as inst:
        d = scratch_dir(inst)
        fifo = os.path.join(d, "edison.fifo")
        os.mkfifo(fifo, 0o600)
        os.chown(fifo, *ids("phedison"))
        put_forward(inst, "phedison", fifo + "\n")
        put_forward(inst, "phjonas", d + "/jonas.mbox\n")
        put_forward(inst, "phalice", d + "/alice/Maildir/\n")
        inst.start()
        rcpts = ["phedison@example.test", "phjonas@example.test", "phalice@example.test"]
        qid = send(inst, rcpts, ("three owners",))
        lines = [inst.wait_log(local_line(qid, "phedison@example.test", "deferred",
                                          ".*not a regular file with one link.*")),
                 inst.wait_log(local_line(qid, "phjonas@example.test", "sent",
                                          "delivered to file: .*")),
                 inst.wait_log(local_line(qid, "phalice@example.test", "sent",
                                          "delivered to maildir"))]
        pids = {re.search(r"postfix/local\[(\d+)\]", m.group(0)).group(1) for m in lines}
        assert len(pids) == 1, pids             # one local process did all three
        assert owner(d + "/jonas.mbox") == ids("phjonas") + (0o600,)
        assert "three owners" in read(d + "/jonas.mbox")
        assert owner(d + "/alice/Maildir") == ids("phalice") + (0o700,)
        new = os.listdir(d + "/alice/Maildir/new")
        assert len(new) == 1 and os.listdir(d + "/alice/Maildir/tmp") == []
        assert owner(d + "/alice/Maildir/new/" + new[0]) == ids("phalice") + (0o600,)
        assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
        # back to root after each delivery, the failed one too
        local = procs_named(inst, "local")
        assert local, "no local process left"
        for pid in local:
            p = proc_ids(pid)
            assert p["Uid"] == ["0"] * 4 and p["Gid"] == ["0"] * 4, (pid, p)
            assert p["Groups"] in ([], ["0"]), (pid, p)


def test_mailbox_symlink_and_hardlink_are_refused():
    """A spool mailbox that is a symbolic link or has a second hard link
    (to a file the recipient owns) is not written; neither is the target."""
    main = {"local_destination_recipient_limit": "10"}
    with Instance("links", main=main) as inst:
        d = scratch_dir(inst, "targets")
        targets = {}
        for user in ("phedison", "phjonas"):
            targets[user] = put_file(os.path.join(d, user), "old\n", user, 0o600)
        os.symlink(targets["phedison"], os.path.join(inst.spool, "phedison"))
        os.link(targets["phjonas"], os.path.join(inst.spool, "phjonas"))
        inst.start()
        qid = send(inst, ["phedison@example.test", "phjonas@example.test"], ("linked",))
        inst.wait_log(local_line(qid, "phedison@example.test", "deferred",
                                 r"cannot update mailbox .*phedison for user phedison\. "
                                 r".*Too many levels of symbolic links"))
        inst.wait_log(local_line(qid, "phjonas@example.test", "deferred",
                                 r"cannot update mailbox .*phjonas for user phjonas\. "
                                 r".*not a regular file with one link.*"))
        for user in ("phedison", "phjonas"):
            assert read(targets[user]) == "old\n"


def test_mailbox_delivery_ends_at_command_time_limit():
    """A delivery that waits too long (here for the lock of its file) does
    not keep local: it ends at command_time_limit, well before the lock
    attempts would run out, and the message stays queued (qmgr defers it:
    local's alarm ends the process, master logs the signal); delivered
    once the lock is free."""
    main = {"command_time_limit": "2s", "deliver_lock_attempts": "30",
            "deliver_lock_delay": "1s"}
    with fwd_instance("boxtime", main=main) as inst:
        d = scratch_dir(inst)
        box = put_file(os.path.join(d, "edison.mbox"), "", "phedison", 0o600)
        put_forward(inst, "phedison", box + "\n")
        inst.start()
        fd = os.open(box, os.O_WRONLY)
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX)
            start = time.time()
            qid = send(inst, "phedison@example.test", ("waits for the lock",))
            # ended: local itself is ended by its alarm (files are written
            # in-process)
            # qmgr logs the deferral of a recipient whose agent went away,
            # as Postfix's: relay=none, "unknown mail transport error"
            inst.wait_log(r"%s: to=<phedison@example\.test>, relay=none, .*dsn=4\.3\.0, "
                          r"status=deferred \(unknown mail transport error\)" % qid, timeout=20)
            assert time.time() - start < 15, time.time() - start
            assert "unable to lock" not in inst.log()
        finally:
            os.close(fd)
        inst.cmd("postqueue", "-f")
        inst.wait_log(local_line(qid, "phedison@example.test", "sent", "delivered to file: .*"),
                      timeout=30)
        assert "waits for the lock" in read(box)
