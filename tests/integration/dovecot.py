"""
dovecot.py - a private Dovecot (dovecot-core, dovecot-lmtpd) for the
tests: only LMTP (no IMAP/POP3 listeners), on a unix socket at a path the
test names (a posthorn instance's private/dovecot-lmtp) and on
127.0.0.1:<free port>; users from a passwd-file (virtual users, all
mapped to the vmail account), Maildirs under the instance directory, the
quota plugin with a per-user quota_rule.

    with Dovecot(socket_path, {"alice@dove.example": "", "full@dove.example":
                 "quota_rule=*:storage=1"}) as dv:
        dv.port, dv.maildir("alice@dove.example"), dv.messages(user)
"""
import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile

from posthorn import free_port, run, wait_for, port_open

VMAIL = "vmail"
DOVECOT = "/usr/sbin/dovecot"
LDA = "/usr/lib/dovecot/dovecot-lda"

CONF = """\
base_dir = %(dir)s/run
state_dir = %(dir)s/state
log_path = %(dir)s/dovecot.log
protocols = lmtp
listen = 127.0.0.1
ssl = no
default_internal_user = dovecot
default_login_user = dovenull
mail_location = maildir:%(dir)s/mail/%%d/%%n/Maildir
mail_plugins = quota
lmtp_save_to_detail_mailbox = no
passdb {
  driver = passwd-file
  args = %(dir)s/users
}
userdb {
  driver = passwd-file
  args = %(dir)s/users
  default_fields = uid=%(vmail)s gid=%(vmail)s home=%(dir)s/mail/%%d/%%n
}
plugin {
  quota = maildir:User quota
}
service lmtp {
  unix_listener %(socket)s {
    mode = 0600
    user = %(socket_user)s
  }
  inet_listener lmtp {
    address = 127.0.0.1
    port = %(port)d
  }
}
# dovecot-lda runs as vmail (pipe user=vmail): it reaches the userdb and
# the stats socket, and logs to its standard error (the pipe agent
# puts that into the reason when it fails)
service auth {
  unix_listener auth-userdb {
    mode = 0666
  }
}
service stats {
  unix_listener stats-writer {
    mode = 0666
  }
}
protocol lda {
  log_path = /dev/stderr
  info_log_path = /dev/stderr
}
"""


def ensure_vmail():
    """The vmail account virtual mailboxes belong to (made once, kept)."""
    try:
        return pwd.getpwnam(VMAIL)
    except KeyError:
        run(["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
             "--shell", "/usr/sbin/nologin", "--user-group", VMAIL], check=True)
        return pwd.getpwnam(VMAIL)


class DovecotRun:
    """One private dovecot master in the foreground (dovecot -F -c CONF)
    with a directory of its own, for every Dovecot the tests start (the
    LMTP server below, test_sasl's auth server): start(text, ready, what)
    writes the configuration, starts it and waits for ready(); close()
    stops the process group and removes the directory."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="posthorn-dovecot-", dir="/tmp")
        os.chmod(self.dir, 0o755)
        self.conf = os.path.join(self.dir, "dovecot.conf")
        self.proc = None

    def start(self, text, ready, what):
        with open(self.conf, "w") as f:
            f.write(text)
        with open(os.path.join(self.dir, "stderr"), "wb") as err:
            self.proc = subprocess.Popen([DOVECOT, "-F", "-c", self.conf],
                                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=err, start_new_session=True)
        try:
            wait_for(lambda: ready() or self.proc.poll() is not None, 20, what)
            assert ready(), "%s: dovecot exited\n%s" % (what, self.log())
        except BaseException:
            self.close()
            raise

    def log(self):
        out = ""
        for name in ("stderr", "dovecot.log"):
            try:
                with open(os.path.join(self.dir, name), errors="replace") as f:
                    out += f.read()
            except FileNotFoundError:
                pass
        return out

    def close(self):
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


class Dovecot:
    def __init__(self, socket_path, users, socket_user="postfix"):
        self.vmail = ensure_vmail()
        self.run = DovecotRun()
        self.dir = self.run.dir
        self.conf = self.run.conf
        self.port = free_port()
        self.socket = socket_path
        self.socket_user = socket_user
        mail = os.path.join(self.dir, "mail")
        os.makedirs(mail)
        os.chown(mail, self.vmail.pw_uid, self.vmail.pw_gid)
        with open(os.path.join(self.dir, "users"), "w") as f:
            for user, extra in users.items():
                f.write("%s:::::::%s\n" % (user, extra))

    def __enter__(self):
        self.run.start(CONF % {"dir": self.dir, "vmail": VMAIL, "socket": self.socket,
                               "socket_user": self.socket_user, "port": self.port},
                       lambda: port_open(self.port) and os.path.exists(self.socket),
                       "dovecot lmtp listeners")
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            print("---- dovecot log\n" + self.log()[-3000:])
        self.run.close()
        return False

    def log(self):
        return self.run.log()

    def maildir(self, user):
        local, domain = user.rsplit("@", 1)
        return os.path.join(self.dir, "mail", domain, local, "Maildir")

    def messages(self, user):
        """The messages in user's INBOX (new/ and cur/), oldest first."""
        out = []
        for path in sorted(glob.glob(os.path.join(self.maildir(user), "new", "*"))
                           + glob.glob(os.path.join(self.maildir(user), "cur", "*"))):
            with open(path, "rb") as f:
                out.append(f.read())
        return out

    def wait_messages(self, user, n=1):
        wait_for(lambda: len(self.messages(user)) >= n, 20, "%d messages for %s" % (n, user))
        return self.messages(user)
