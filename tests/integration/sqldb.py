"""
sqldb.py - throw-away database servers for the SQL table tests: a
PostgreSQL cluster (initdb + postgres, run as the "postgres" user) and a
MariaDB server (mariadb-install-db + mariadbd, as "mysql"), each with its
own data directory, unix socket directory and a free TCP port on
127.0.0.1, every statement logged to a file (to prove which queries
ran). Never the system's services, never their data or sockets.

    with PostgreSQL() as pg:
        pg.sql("CREATE TABLE ...")          # as the superuser, via the socket
        pg.stop(); pg.start()               # the database down and back
        pg.statements()                     # the statement log so far
    with MariaDB() as my: my.sql(...), my.socket, my.port

Both create the database "mail" and a login role/user "mailuser" with the
password "secret" (TCP needs it; the socket trusts local users for pg).
"""
import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time

from posthorn import free_port, port_open, run, wait_for

DB = "mail"
USER = "mailuser"
PASSWORD = "secret"


def _pg_bindir():
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                  key=lambda d: int(d.split("/")[-2]))
    assert dirs, "PostgreSQL server binaries not found (apt-get install postgresql)"
    return dirs[-1]


class _Server:
    """Start/stop of one server process; subclasses set argv and ready()."""

    owner = None
    stop_signal = signal.SIGTERM

    def __init__(self, name=None):
        name = name or self.owner
        self.dir = tempfile.mkdtemp(prefix="posthorn-%s-" % name, dir="/tmp")
        os.chmod(self.dir, 0o755)
        self.port = free_port()
        self.proc = None
        pw = pwd.getpwnam(self.owner)
        self.uid, self.gid = pw.pw_uid, pw.pw_gid

    def mkdir(self, name):
        path = os.path.join(self.dir, name)
        os.makedirs(path, exist_ok=True)
        os.chown(path, self.uid, self.gid)
        os.chmod(path, 0o700 if name == "data" else 0o755)
        return path

    def as_owner(self, argv, **kw):
        return run(["runuser", "-u", self.owner, "--"] + argv, **kw)

    def start(self):
        log = open(os.path.join(self.dir, "server.log"), "ab")
        self.proc = subprocess.Popen(self.argv(), stdout=log, stderr=log, start_new_session=True,
                                     user=self.uid, group=self.gid, extra_groups=[])
        log.close()
        wait_for(lambda: self.proc.poll() is not None or self.ready(), 60,
                 "%s to start" % self.owner)
        assert self.proc.poll() is None, self.server_log()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, self.stop_signal)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None
        wait_for(lambda: not port_open(self.port), 20, "port %d to close" % self.port)

    def server_log(self):
        try:
            with open(os.path.join(self.dir, "server.log"), errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def __enter__(self):
        try:
            self.setup()
        except BaseException:
            self.cleanup()
            raise
        return self

    def __exit__(self, *exc):
        self.cleanup()
        return False

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class PostgreSQL(_Server):
    owner = "postgres"
    stop_signal = signal.SIGINT         # fast shutdown: clients are disconnected

    def setup(self):
        self.bindir = _pg_bindir()
        self.data = os.path.join(self.dir, "data")
        self.socket_dir = self.mkdir("run")
        self.socket = os.path.join(self.socket_dir, ".s.PGSQL.%d" % self.port)
        pwfile = os.path.join(self.dir, "pw")
        with open(pwfile, "w") as f:
            f.write("unused-superuser-password\n")
        os.chown(pwfile, self.uid, self.gid)
        self.mkdir("data")
        self.as_owner([os.path.join(self.bindir, "initdb"), "-D", self.data, "-U", "postgres",
                       "--auth-local=trust", "--auth-host=scram-sha-256",
                       "--pwfile=" + pwfile, "-E", "UTF8", "--locale=C"], check=True)
        self.start()
        self.sql("CREATE ROLE %s LOGIN PASSWORD '%s'" % (USER, PASSWORD), db="postgres")
        self.sql("CREATE DATABASE %s OWNER %s" % (DB, USER), db="postgres")

    def argv(self):
        return [os.path.join(self.bindir, "postgres"), "-D", self.data,
                "-k", self.socket_dir, "-h", "127.0.0.1", "-p", str(self.port),
                "-c", "log_statement=all", "-c", "logging_collector=off",
                "-c", "log_destination=stderr", "-c", "fsync=off"]

    def ready(self):
        return os.path.exists(self.socket) \
            and self.as_owner(["psql", "-h", self.socket_dir, "-p", str(self.port),
                               "-d", "postgres", "-Atc", "SELECT 1"]).returncode == 0

    def sql(self, text, db=DB):
        """Run SQL as the superuser; returns psql's output (rows, "|" between fields)."""
        p = self.as_owner(["psql", "-v", "ON_ERROR_STOP=1", "-h", self.socket_dir,
                           "-p", str(self.port), "-d", db, "-Atc", text])
        assert p.returncode == 0, p.stdout + p.stderr
        return p.stdout

    def statements(self):
        """The statements the server logged (log_statement = all)."""
        return self.server_log()


class MariaDB(_Server):
    owner = "mysql"

    def setup(self):
        self.data = self.mkdir("data")
        self.socket = os.path.join(self.mkdir("run"), "mysqld.sock")
        self.general_log = os.path.join(self.dir, "run", "general.log")
        self.as_owner(["mariadb-install-db", "--no-defaults", "--datadir=" + self.data,
                       "--user=mysql", "--skip-test-db", "--auth-root-authentication-method=socket"],
                      check=True, timeout=120)
        self.start()
        self.sql("CREATE DATABASE %s; CREATE USER '%s'@'%%' IDENTIFIED BY '%s'; "
                 "CREATE USER '%s'@'localhost' IDENTIFIED BY '%s'; "
                 "GRANT SELECT ON %s.* TO '%s'@'%%'; GRANT SELECT ON %s.* TO '%s'@'localhost'"
                 % (DB, USER, PASSWORD, USER, PASSWORD, DB, USER, DB, USER), db="")

    def argv(self):
        return ["/usr/sbin/mariadbd", "--no-defaults", "--datadir=" + self.data,
                "--socket=" + self.socket, "--port=%d" % self.port,
                "--bind-address=127.0.0.1", "--pid-file=" + os.path.join(self.dir, "run", "pid"),
                "--skip-name-resolve", "--general-log=1", "--general-log-file=" + self.general_log,
                "--innodb-buffer-pool-size=16M", "--skip-log-bin", "--log-error=" +
                os.path.join(self.dir, "run", "error.log")]

    def ready(self):
        return os.path.exists(self.socket) and self.client("SELECT 1", db="").returncode == 0

    def client(self, text, db=DB):
        argv = ["mariadb", "--no-defaults", "-S", self.socket, "-u", "root", "-N", "-B", "-e", text]
        return run(argv + ([db] if db else []))

    def sql(self, text, db=DB):
        p = self.client(text, db)
        assert p.returncode == 0, p.stdout + p.stderr
        return p.stdout

    def statements(self):
        try:
            with open(self.general_log, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""
