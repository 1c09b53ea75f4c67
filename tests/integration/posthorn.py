"""
posthorn.py - start real posthorn instances for the integration tests.

An Instance is a config directory, a queue directory, a maillog file and
a mail spool inside one temporary directory, using the binaries from the
test install (see run.py). Tests talk to it the way users do: SMTP over
TCP with smtplib, the postfix/postmap/postalias commands, the log file,
and the delivered mailboxes.
"""
import contextlib
import email
import email.policy
import mailbox
import os
import pwd
import grp
import re
import shutil
import signal
import smtplib
import socket
import stat
import subprocess
import tempfile
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ROOT = os.environ.get("POSTHORN_ROOT", "")          # set by run.py: the test install
USERS = ["phedison", "phjonas", "phalice"]           # throw-away Unix users
USER_HOME = "/tmp/posthorn-users"


def sbin(cmd):
    return os.path.join(ROOT, "usr/sbin", cmd)


@contextlib.contextmanager
def setgid_programs(inst, *programs, listed=True):
    """The named commands (postdrop, postqueue) set-gid postdrop, as make
    install does; with listed, inst.conf also in alternate_config_directories
    of /etc/postfix/main.cf, which a set-gid command requires before it
    takes -c or MAIL_CONFIG from a non-root user. All undone at the end."""
    paths = [sbin(p) for p in programs]
    saved = [os.stat(p) for p in paths]
    gid = grp.getgrnam("postdrop").gr_gid
    for path in paths:
        os.chown(path, 0, gid)
        os.chmod(path, 0o2755)
    main_cf = "/etc/postfix/main.cf"
    made_dir = not os.path.isdir("/etc/postfix")
    old = None
    if listed:
        if os.path.exists(main_cf):
            with open(main_cf) as f:
                old = f.read()
        os.makedirs("/etc/postfix", exist_ok=True)
        with open(main_cf, "a" if old is not None else "w") as f:
            f.write("\nalternate_config_directories = %s\n" % inst.conf)
    try:
        yield
    finally:
        if listed and old is None:
            os.unlink(main_cf)
            if made_dir:
                os.rmdir("/etc/postfix")
        elif listed:
            with open(main_cf, "w") as f:
                f.write(old)
        for path, st in zip(paths, saved):
            os.chown(path, st.st_uid, st.st_gid)
            os.chmod(path, stat.S_IMODE(st.st_mode))


_ISSUED_PORTS = set()


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now, and that this
    process has not handed out before: the kernel's choice for bind(port 0)
    repeats (2,000 calls gave 139 repeats), and two servers of one test
    given the same port fail with EADDRINUSE (test_flush did once)."""
    while True:
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        if port not in _ISSUED_PORTS:
            _ISSUED_PORTS.add(port)
            return port


def port_open(port, host="127.0.0.1"):
    """Whether something accepts TCP connections on host:port."""
    try:
        socket.create_connection((host, port), timeout=1).close()
        return True
    except OSError:
        return False


def run(argv, check=False, input=None, env=None, timeout=60):
    p = subprocess.run(argv, input=input, capture_output=True, text=True,
                       env=env, timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError("%s failed (%d): %s%s" % (argv, p.returncode, p.stdout, p.stderr))
    return p


def kill_group(p):
    """SIGKILL the process group of Popen p (started with start_new_session)
    unless it has ended; then reap it."""
    if p.poll() is None:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()


def private_dev(top):
    """Inside a private mount namespace: a /dev of its own, built in the
    empty directory top (tmpfs; null, zero, full, random, urandom, tty and
    /dev/shm bound from the real one, fd) and mounted over /dev, with a
    datagram socket at /dev/log (returned: the caller reads the syslog
    lines the daemons send). /dev/shm stays the machine's: POSIX shared
    memory and semaphores (libfaketime's under tests/first-of-month.sh)."""
    run(["mount", "-t", "tmpfs", "-o", "mode=0755", "tmpfs", top], check=True)
    for node in ("null", "zero", "full", "random", "urandom", "tty"):
        open(os.path.join(top, node), "w").close()
        run(["mount", "--bind", "/dev/" + node, os.path.join(top, node)], check=True)
    os.symlink("/proc/self/fd", os.path.join(top, "fd"))
    os.mkdir(os.path.join(top, "shm"))
    run(["mount", "--bind", "/dev/shm", os.path.join(top, "shm")], check=True)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(os.path.join(top, "log"))
    os.chmod(os.path.join(top, "log"), 0o666)
    run(["mount", "--rbind", top, "/dev"], check=True)
    return sock


def wait_for(cond, timeout=20, what="condition"):
    end = time.time() + timeout
    while time.time() < end:
        v = cond()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def ensure_system_accounts():
    """The postfix user and postdrop group, as a package install would make them."""
    try:
        grp.getgrnam("postdrop")
    except KeyError:
        run(["groupadd", "--system", "postdrop"], check=True)
    try:
        pwd.getpwnam("postfix")
    except KeyError:
        run(["useradd", "--system", "--no-create-home", "--home-dir", "/var/spool/postfix",
             "--shell", "/usr/sbin/nologin", "--user-group", "postfix"], check=True)


def create_test_users():
    os.makedirs(USER_HOME, exist_ok=True)
    os.chmod(USER_HOME, 0o755)
    for u in USERS:
        try:
            pw = pwd.getpwnam(u)
        except KeyError:
            run(["useradd", "--home-dir", os.path.join(USER_HOME, u), "--create-home",
                 "--shell", "/bin/sh", u], check=True)
            pw = pwd.getpwnam(u)
        if not os.path.isdir(pw.pw_dir):        # a user left from a run that lost its home
            os.makedirs(pw.pw_dir)
            os.chown(pw.pw_dir, pw.pw_uid, pw.pw_gid)


def remove_test_users():
    for u in USERS:
        run(["userdel", "--remove", u])
    shutil.rmtree(USER_HOME, ignore_errors=True)


class Instance:
    """One posthorn instance in its own temporary directory."""

    def __init__(self, name="t", main=None, master_extra="", port=None):
        self.dir = tempfile.mkdtemp(prefix="posthorn-%s-" % name, dir="/tmp")
        os.chmod(self.dir, 0o755)
        self.conf = os.path.join(self.dir, "conf")
        self.queue = os.path.join(self.dir, "queue")
        self.spool = os.path.join(self.dir, "mail")
        self.maillog = os.path.join(self.dir, "maillog")
        self.port = port or free_port()
        self.addr = "127.0.0.1"         # where tests reach smtpd (inet_interfaces)
        for d in (self.conf, self.queue, self.spool):
            os.makedirs(d)
        os.chmod(self.spool, 0o1777)
        params = {
            "compatibility_level": "3.6",
            "queue_directory": self.queue,
            "data_directory": os.path.join(self.dir, "data"),
            "daemon_directory": os.path.join(ROOT, "usr/libexec/posthorn"),
            "command_directory": os.path.join(ROOT, "usr/sbin"),
            "mail_owner": "postfix",
            "setgid_group": "postdrop",
            "myhostname": "mail.example.test",
            "mydomain": "example.test",
            "mydestination": "$myhostname, localhost.$mydomain, localhost, $mydomain",
            "inet_interfaces": "127.0.0.1",
            "mynetworks": "127.0.0.0/8",
            "maillog_file": self.maillog,
            "maillog_file_prefixes": self.dir,
            "alias_maps": "hash:%s/aliases" % self.conf,
            "alias_database": "hash:%s/aliases" % self.conf,
            "mail_spool_directory": self.spool,
            "smtpd_peername_lookup": "no",
        }
        params.update(main or {})
        self.params = params
        self.write_main()
        with open(os.path.join(REPO, "conf/master.cf")) as f:
            master = f.read()
        master = re.sub(r"(?m)^smtp\s+inet\s.*$",
                        "%d inet n - n - - smtpd" % self.port, master, count=1)
        self.write_master_cf(master + "\n" + master_extra)
        self.write_aliases("postmaster: root\n")
        self.started = False

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            print("---- %s: last log lines" % self.dir)
            print("\n".join(self.log().splitlines()[-40:]))
        self.cleanup()
        return False

    # ---- configuration ------------------------------------------------
    def write_main(self):
        with open(os.path.join(self.conf, "main.cf"), "w") as f:
            for k, v in self.params.items():
                f.write("%s = %s\n" % (k, v))

    def write_table(self, name, text, postmap=False):
        """conf/name with text (then postmap'ed if asked); returns its path."""
        path = os.path.join(self.conf, name)
        with open(path, "w") as f:
            f.write(text)
        if postmap:
            self.cmd("postmap", path, check=True)
        return path

    def write_aliases(self, text):
        path = os.path.join(self.conf, "aliases")
        with open(path, "w") as f:
            f.write(text)
        self.cmd("postalias", path, check=True)

    def edit_master_cf(self, pattern, repl):
        """Replace every match of pattern (a multi-line regex) in master.cf
        with repl ("" removes a service's line); returns the old text."""
        with open(os.path.join(self.conf, "master.cf")) as f:
            text = f.read()
        self.write_master_cf(re.sub(pattern, repl, text, flags=re.M))
        return text

    def append_master_cf(self, text):
        with open(os.path.join(self.conf, "master.cf"), "a") as f:
            f.write(text)

    def write_master_cf(self, text):
        with open(os.path.join(self.conf, "master.cf"), "w") as f:
            f.write(text)

    # ---- commands -----------------------------------------------------
    def cmd(self, name, *args, check=False, input=None):
        return run([sbin(name), "-c", self.conf] + list(args), check=check, input=input)

    def start(self):
        p = self.cmd("postfix", "start")
        if p.returncode != 0:
            raise AssertionError("postfix start failed: %s%s\nlog:\n%s" % (p.stdout, p.stderr, self.log()))
        self.started = True
        wait_for(self.smtp_ready, 20, "smtpd on port %d" % self.port)
        return p

    def smtp_ready(self):
        return port_open(self.port, self.addr)

    def stop(self):
        if self.started:
            self.cmd("postfix", "stop")
            self.started = False

    def cleanup(self, keep=False):
        self.stop()
        # A test that failed leaves its directory for a look.
        if not keep:
            shutil.rmtree(self.dir, ignore_errors=True)

    # ---- observation ----------------------------------------------------
    def log(self):
        try:
            with open(self.maillog, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def pids(self, comm):
        """The instance's processes named comm (their working directory is its queue)."""
        out = []
        for pid in os.listdir("/proc"):
            try:
                with open("/proc/%s/comm" % pid) as f:
                    if f.read().strip() != comm:
                        continue
                if os.readlink("/proc/%s/cwd" % pid) == self.queue:
                    out.append(pid)
            except OSError:
                continue
        return out

    def wait_log(self, pattern, timeout=20):
        rx = re.compile(pattern, re.M)
        return wait_for(lambda: rx.search(self.log()), timeout, "log line /%s/" % pattern)

    def session(self, source="127.0.0.1", helo=None, sender=None):
        """A raw Session from source, past the greeting (220, kept in
        s.greeting), helo when given (the whole command, e.g. "EHLO
        client.example"; 250) and MAIL FROM:<sender> when given (250 2.1.0 Ok)."""
        s = Session(self.port, source=source, host=self.addr)
        s.greeting = s.reply()
        assert s.greeting[0].startswith("220 "), s.greeting
        if helo:
            r = s.cmd(helo)
            assert r[-1].startswith("250"), (helo, r)
        if sender is not None:
            r = s.cmd("MAIL FROM:<%s>" % sender)
            assert r == ["250 2.1.0 Ok"], (sender, r)
        return s

    def smtp(self, source="127.0.0.1"):
        return smtplib.SMTP("127.0.0.1", self.port, source_address=(source, 0), timeout=30)

    def mbox(self, user):
        try:
            with open(os.path.join(self.spool, user), errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def mbox_bytes(self, user):
        """The mailbox as bytes (b"" when there is none)."""
        try:
            with open(os.path.join(self.spool, user), "rb") as f:
                return f.read()
        except FileNotFoundError:
            return b""

    def messages(self, user):
        """The messages in user's mailbox, parsed (email.message.Message,
        compat32 policy); [] when there is no mailbox."""
        path = os.path.join(self.spool, user)
        if not os.path.exists(path):
            return []
        box = mailbox.mbox(path, create=False)
        try:
            return [email.message_from_bytes(box.get_bytes(k), policy=email.policy.compat32)
                    for k in box.keys()]
        finally:
            box.close()

    def wait_mbox(self, user, pattern, timeout=20):
        """Wait until the mailbox matches pattern; returns the mailbox text."""
        rx = re.compile(pattern, re.M)
        wait_for(lambda: rx.search(self.mbox(user)), timeout,
                 "mailbox of %s to match /%s/" % (user, pattern))
        return self.mbox(user)

    def queue_files(self, queue):
        d = os.path.join(self.queue, queue)
        out = []
        for root, _, files in os.walk(d):
            out += files
        return out


QUEUED_RX = r"^250 2\.0\.0 Ok: queued as ([0-9A-F]{6,})$"


def queued_id(reply):
    """The queue id of a one-line "250 2.0.0 Ok: queued as ID" reply (asserted)."""
    m = len(reply) == 1 and re.match(QUEUED_RX, reply[0])
    assert m, reply
    return m.group(1)


class Session:
    """A raw SMTP session for byte-exact replies (smtplib hides some)."""

    def __init__(self, port, source="127.0.0.1", host="127.0.0.1"):
        self.sock = socket.create_connection((host, port), timeout=30,
                                             source_address=(source, 0))
        self.buf = b""

    def line(self):
        while b"\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError("connection closed")
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r").decode("utf-8", "replace")

    def reply(self):
        """One full (possibly multi-line) reply as a list of lines."""
        lines = [self.line()]
        while len(lines[-1]) > 3 and lines[-1][3] == "-":
            lines.append(self.line())
        return lines

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def cmd(self, text):
        self.send(text + "\r\n")
        return self.reply()

    def rcpt_quit(self, rcpt):
        """RCPT TO:<rcpt>, then QUIT and close; returns the RCPT reply."""
        r = self.cmd("RCPT TO:<%s>" % rcpt)
        self.cmd("QUIT")
        self.close()
        return r

    def data(self, body):
        """DATA (354 asserted), body (str or bytes, CRLF lines, already
        dot-stuffed) and the final dot; returns the reply to the dot."""
        r = self.cmd("DATA")
        assert r == ["354 End data with <CR><LF>.<CR><LF>"], r
        self.send(body + (b".\r\n" if isinstance(body, bytes) else ".\r\n"))
        return self.reply()

    def message(self, sender, rcpts, body):
        """One whole transaction: MAIL FROM:<sender> (250 2.1.0 Ok), RCPT
        TO:<r> for each of rcpts (250 2.1.5 Ok), data(body); returns the
        queue id from the "250 2.0.0 Ok: queued as ID" reply."""
        r = self.cmd("MAIL FROM:<%s>" % sender)
        assert r == ["250 2.1.0 Ok"], (sender, r)
        for rcpt in rcpts:
            r = self.cmd("RCPT TO:<%s>" % rcpt)
            assert r == ["250 2.1.5 Ok"], (rcpt, r)
        return queued_id(self.data(body))

    def close(self):
        self.sock.close()


# ---- a DNS server for the DNS-based tests ------------------------------------
# dnsmasq answers for *.test (and whatever the records name) on a loopback
# address; the instance runs in a private mount namespace where
# /etc/resolv.conf points there. Different test files use different
# addresses so that parallel runs do not clash on port 53.

import contextlib

DNS_ADDR = "127.0.0.153"


@contextlib.contextmanager
def dns_server(inst, *records, addr=DNS_ADDR):
    """dnsmasq with the given options (records); yields a resolv.conf that uses it."""
    resolv = os.path.join(inst.dir, "resolv.conf")
    with open(resolv, "w") as f:
        f.write("nameserver %s\noptions timeout:1 attempts:1\n" % addr)
    p = subprocess.Popen(["dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts",
                          "--listen-address=" + addr, "--bind-interfaces", "--port=53",
                          "--local=/test/", "--user=root", "--pid-file="] + list(records),
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        assert p.poll() is None, "dnsmasq did not start (is %s:53 in use?)" % addr
        yield resolv
    finally:
        p.terminate()
        p.wait()


def start_with_resolv(inst, resolv, target="/etc/resolv.conf"):
    """postfix start inside a mount namespace whose /etc/resolv.conf (or
    target: /etc/hosts) is the file resolv."""
    p = run(["unshare", "-m", "sh", "-c", 'mount --bind "$0" "$3" && exec "$1" -c "$2" start',
             resolv, sbin("postfix"), inst.conf, target])
    assert p.returncode == 0, p.stdout + p.stderr
    inst.started = True
    wait_for(inst.smtp_ready, 20, "smtpd on port %d" % inst.port)
