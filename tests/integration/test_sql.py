"""
test_sql.py - pgsql:, mysql: and sqlite: tables (Postfix's pgsql_table(5),
mysql_table(5), sqlite_table(5) configuration files) through real
instances, against throw-away database servers (sqldb.py):

  - virtual_mailbox_domains/maps from PostgreSQL, the maps through
    proxy: (proxymap), delivery into a Maildir by virtual(8); %u, %2.%1
    and result_format; domain = restriction (the server's statement log
    shows no query for another domain); an address with quotes and SQL
    in it is looked up as data, never run;
  - the database down: RCPT is 451 4.3.0 Temporary lookup failure and a
    queued message is deferred; back up: accepted and delivered, with no
    reload;
  - failover: the first of two hosts dead; a server restart: the dropped
    connection is replaced at the next lookup;
  - no dict_pgsql.so in daemon_directory: "unsupported dictionary type",
    a temporary failure (451), no crash;
  - virtual_alias_maps from MariaDB (unix socket and TCP with a password,
    several rows, expansion_limit; a restart, the server down and back);
  - an access table in SQLite.
"""
import os
import pwd
import re
import sqlite3
import time

from posthorn import Instance, free_port, run, sbin, wait_for
from sqldb import DB, PASSWORD, USER, MariaDB, PostgreSQL

VUSER = "phedison"


def pg_schema(pg):
    pg.sql("CREATE TABLE domains (domain text PRIMARY KEY);"
           "CREATE TABLE mailbox (local text, domain text, PRIMARY KEY (local, domain));"
           "GRANT SELECT ON domains, mailbox TO %s;"
           "INSERT INTO domains VALUES ('virt.example');"
           "INSERT INTO mailbox VALUES ('alice', 'virt.example');" % USER)


def pg_cf(inst, name, pg, query, hosts=None, **extra):
    """conf/<name> for pgsql: hosts default: TCP with the password."""
    lines = ["hosts = %s" % (hosts or "inet:127.0.0.1:%d" % pg.port),
             "user = %s" % USER, "password = %s" % PASSWORD, "dbname = %s" % DB,
             "query = %s" % query]
    lines += ["%s = %s" % kv for kv in extra.items()]
    return inst.write_table(name, "\n".join(lines) + "\n")


def virtual_sql_instance(name, pg, domains=None, proxy="proxy:", **mailbox_extra):
    pw = pwd.getpwnam(VUSER)
    inst = Instance(name)
    base = os.path.join(inst.dir, "vmail")
    for d in (base, os.path.join(base, "virt.example")):
        os.makedirs(d)
        os.chown(d, pw.pw_uid, pw.pw_gid)
    dom_cf = pg_cf(inst, "domains.cf", pg, "SELECT domain FROM domains WHERE domain = '%s'",
                   hosts="unix:%s" % pg.socket)
    box_cf = pg_cf(inst, "mailbox.cf", pg,
                   "SELECT local FROM mailbox WHERE local = '%u' AND domain = '%2.%1'",
                   result_format="%D/%s/", domain="virt.example", **mailbox_extra)
    inst.params.update({
        "virtual_mailbox_domains": domains or "pgsql:" + dom_cf,
        "virtual_mailbox_maps": proxy + "pgsql:" + box_cf,
        "virtual_mailbox_base": base,
        "virtual_uid_maps": "static:%d" % pw.pw_uid,
        "virtual_gid_maps": "static:%d" % pw.pw_gid,
    })
    inst.write_main()
    inst.base, inst.box_cf = base, box_cf
    return inst


def maildir_files(inst, path):
    d = os.path.join(inst.base, path, "new")
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def send(inst, rcpt):
    s = inst.session(helo="HELO client.example")
    qid = s.message("jonas@example.test", [rcpt], "Subject: sql\r\n\r\nhello\r\n")
    s.cmd("QUIT")
    s.close()
    return qid


def rcpt(inst, addr):
    s = inst.session(helo="HELO client.example", sender="jonas@example.test")
    return s.rcpt_quit(addr)


def test_sql_pgsql_virtual_maildir():
    with PostgreSQL() as pg:
        pg_schema(pg)
        with virtual_sql_instance("sql-pg", pg) as inst:
            inst.start()
            qid = send(inst, "alice@virt.example")
            inst.wait_log(r"%s: to=<alice@virt\.example>, relay=virtual, .*status=sent "
                          r"\(delivered to maildir\)" % qid)
            assert len(maildir_files(inst, "virt.example/alice")) == 1
            r = rcpt(inst, "bob@virt.example")
            assert r == ["550 5.1.1 <bob@virt.example>: Recipient address rejected: "
                         "User unknown in virtual mailbox table"], r
            # proxy: in front: the lookups were made by proxymap
            assert "proxy:pgsql:" + inst.box_cf in inst.params["virtual_mailbox_maps"]
            p = inst.cmd("postmap", "-q", "alice@virt.example", "pgsql:" + inst.box_cf)
            assert (p.returncode, p.stdout) == (0, "virt.example/alice/\n"), p
            # domain = virt.example: no query at all for another domain
            p = inst.cmd("postmap", "-q", "alice@other.example", "pgsql:" + inst.box_cf)
            assert p.returncode == 1 and p.stdout == "", p
            assert "alice" in pg.statements() and "other.example" not in pg.statements()


def test_sql_injection_is_data():
    with PostgreSQL() as pg:
        pg_schema(pg)
        with virtual_sql_instance("sql-inject", pg) as inst:
            inst.start()
            for addr in ("x'or'1'='1@virt.example",
                         "\"x'; DROP TABLE mailbox; --\"@virt.example",
                         "\"x\\\\'; DROP TABLE mailbox; --\"@virt.example"):
                r = rcpt(inst, addr)
                assert r[0].startswith("550 5.1.1 "), (addr, r)
            assert pg.sql("SELECT count(*) FROM mailbox") == "1\n"
            assert "'x''; drop table mailbox; --'" in pg.statements()
            assert rcpt(inst, "alice@virt.example") == ["250 2.1.5 Ok"]


def test_sql_pgsql_down_defers_and_recovers():
    with PostgreSQL() as pg:
        pg_schema(pg)
        with virtual_sql_instance("sql-down", pg, domains="virt.example",
                                  retry_interval="1") as inst:
            inst.start()
            assert rcpt(inst, "alice@virt.example") == ["250 2.1.5 Ok"]
            pg.stop()
            r = rcpt(inst, "alice@virt.example")
            assert r == ["451 4.3.0 <alice@virt.example>: Temporary lookup failure"], r
            p = run([sbin("sendmail"), "-c", inst.conf, "-f", "jonas@example.test",
                     "alice@virt.example"], input="Subject: queued\n\nwhile down\n")
            assert p.returncode == 0, p.stderr
            inst.wait_log(r"to=<alice@virt\.example>, relay=virtual, .*status=deferred")
            assert "status=bounced" not in inst.log()
            assert maildir_files(inst, "virt.example/alice") == []
            pg.start()
            time.sleep(1.5)             # retry_interval = 1
            assert rcpt(inst, "alice@virt.example") == ["250 2.1.5 Ok"]
            inst.cmd("postqueue", "-f", check=True)
            wait_for(lambda: len(maildir_files(inst, "virt.example/alice")) == 1, 30,
                     "the deferred message in the Maildir")
            assert "status=bounced" not in inst.log()


def test_sql_pgsql_failover_first_host_dead():
    with PostgreSQL() as pg:
        pg_schema(pg)
        inst = Instance("sql-failover")
        try:
            dead = free_port()
            cf = pg_cf(inst, "box.cf", pg, "SELECT local FROM mailbox WHERE local = '%u'",
                       hosts="inet:127.0.0.1:%d, inet:127.0.0.1:%d" % (dead, pg.port))
            warned = 0
            for _ in range(20):         # random order: the dead one is first in some runs
                p = inst.cmd("postmap", "-q", "alice@virt.example", "pgsql:" + cf)
                assert (p.returncode, p.stdout) == (0, "alice\n"), p
                warned += ("connect to pgsql server inet:127.0.0.1:%d" % dead) in p.stderr
            assert warned > 0
            # every host down: a lookup error, not "not found"
            cf2 = pg_cf(inst, "none.cf", pg, "SELECT 1", hosts="inet:127.0.0.1:%d" % dead)
            p = inst.cmd("postmap", "-q", "alice@virt.example", "pgsql:" + cf2)
            assert p.returncode != 0 and "no pgsql server is available" in p.stderr, p
            # a query that the key suppresses (%d, no domain) needs no server
            cf3 = pg_cf(inst, "dom.cf", pg, "SELECT '%d'", hosts="inet:127.0.0.1:%d" % dead)
            p = inst.cmd("postmap", "-q", "bare", "pgsql:" + cf3)
            assert (p.returncode, p.stdout, p.stderr) == (1, "", ""), p
        finally:
            inst.cleanup()


def my_schema(my):
    my.sql("CREATE TABLE aliases (address VARCHAR(200), goto VARCHAR(200));"
           "INSERT INTO aliases VALUES ('list@alias.example', '%s@localhost'),"
           "('list@alias.example', 'phjonas@localhost'),"
           "('big@alias.example', 'a@x'), ('big@alias.example', 'b@x'),"
           "('big@alias.example', 'c@x'), ('o''q@alias.example', 'phalice@localhost');"
           % VUSER)


def test_sql_mysql_virtual_alias():
    with MariaDB() as my:
        my_schema(my)
        inst = Instance("sql-my")
        try:
            cf = inst.write_table("alias.cf", "\n".join([
                "hosts = unix:%s" % my.socket, "user = %s" % USER, "password = %s" % PASSWORD,
                "dbname = %s" % DB, "domain = alias.example", "expansion_limit = 2",
                "retry_interval = 1",
                "query = SELECT goto FROM aliases WHERE address = '%u@%d'", ""]))
            tcp = inst.write_table("tcp.cf", "\n".join([
                "hosts = inet:127.0.0.1:%d" % my.port, "user = %s" % USER,
                "password = %s" % PASSWORD, "dbname = %s" % DB,
                "table = aliases", "select_field = goto", "where_field = address",
                "result_format = <%s>", ""]))
            inst.params["virtual_alias_maps"] = "mysql:" + cf
            inst.write_main()
            inst.start()
            send(inst, "list@alias.example")
            inst.wait_mbox(VUSER, r"Subject: sql")
            inst.wait_mbox("phjonas", r"Subject: sql")
            send(inst, "o'q@alias.example")
            inst.wait_mbox("phalice", r"Subject: sql")
            p = inst.cmd("postmap", "-q", "list@alias.example", "mysql:" + tcp)
            assert (p.returncode, p.stdout) == (0, "<%s@localhost>,<phjonas@localhost>\n" % VUSER), p
            p = inst.cmd("postmap", "-q", "big@alias.example", "mysql:" + cf)
            assert p.returncode != 0 and "Expansion limit exceeded" in p.stderr, p
            p = inst.cmd("postmap", "-q", "list@other.example", "mysql:" + cf)
            assert p.returncode == 1, p
            p = inst.cmd("postmap", "-q", "x\\' OR 1=1 -- @alias.example", "mysql:" + tcp)
            assert p.returncode == 1, p
            assert "other.example" not in my.statements()
            assert "list@alias.example" in my.statements()
            # a restart: smtpd's and cleanup's dropped connections are replaced
            my.stop()
            my.start()
            send(inst, "list@alias.example")
            wait_for(lambda: len(inst.messages("phjonas")) == 2, 20, "the second message")
            assert "Temporary lookup failure" not in inst.log()
            # down: 451; back: accepted (retry_interval = 1), no reload
            my.stop()
            r = rcpt(inst, "list@alias.example")
            assert r == ["451 4.3.0 <list@alias.example>: Temporary lookup failure"], r
            my.start()
            time.sleep(1.5)
            assert rcpt(inst, "list@alias.example") == ["250 2.1.5 Ok"]
        finally:
            inst.cleanup()


def test_sql_sqlite_access():
    inst = Instance("sql-lite")
    try:
        db = os.path.join(inst.conf, "access.sqlite")
        con = sqlite3.connect(db)
        con.execute("CREATE TABLE access (k TEXT, v TEXT)")
        con.executemany("INSERT INTO access VALUES (?, ?)",
                        [("blocked@example.test", "REJECT go away"),
                         ("o'q@example.test", "REJECT quoted")])
        con.commit()
        con.close()
        cf = inst.write_table("access.cf", "dbpath = %s\n"
                              "query = SELECT v FROM access WHERE k = '%%s'\n" % db)
        types = inst.cmd("postconf", "-m", check=True).stdout.split()
        assert {"pgsql", "mysql", "sqlite", "hash"} <= set(types), types
        inst.params["smtpd_recipient_restrictions"] = (
            "check_recipient_access sqlite:%s, permit_mynetworks, reject_unauth_destination" % cf)
        inst.write_main()
        inst.start()
        r = rcpt(inst, "blocked@example.test")
        assert r == ["554 5.7.1 <blocked@example.test>: Recipient address rejected: go away"], r
        r = rcpt(inst, "o'q@example.test")
        assert r == ["554 5.7.1 <o'q@example.test>: Recipient address rejected: quoted"], r
        assert rcpt(inst, "phedison@example.test") == ["250 2.1.5 Ok"]
        p = inst.cmd("postmap", "-q", "x' OR '1'='1", "sqlite:" + cf)
        assert p.returncode == 1 and p.stdout == "", p
    finally:
        inst.cleanup()


def test_sql_restarted_server_reconnects_at_once():
    """A connection that the server dropped (restart) is replaced at the
    next lookup: no temporary failure, no wait for retry_interval."""
    with PostgreSQL() as pg:
        pg_schema(pg)
        with virtual_sql_instance("sql-restart", pg, domains="virt.example") as inst:
            inst.start()
            assert rcpt(inst, "alice@virt.example") == ["250 2.1.5 Ok"]
            pg.stop()
            pg.start()
            assert rcpt(inst, "alice@virt.example") == ["250 2.1.5 Ok"]
            assert "Temporary lookup failure" not in inst.log()


def test_sql_missing_shared_object_is_a_temporary_failure():
    """daemon_directory without dict_pgsql.so: "unsupported dictionary
    type", and the mail is deferred at RCPT (451), nothing crashes."""
    with PostgreSQL() as pg:
        pg_schema(pg)
        with virtual_sql_instance("sql-noso", pg, domains="virt.example") as inst:
            real = inst.params["daemon_directory"]
            fake = os.path.join(inst.dir, "libexec")
            os.makedirs(fake)
            for name in os.listdir(real):
                if name != "dict_pgsql.so":
                    os.symlink(os.path.join(real, name), os.path.join(fake, name))
            inst.params["daemon_directory"] = fake
            inst.write_main()
            inst.start()
            r = rcpt(inst, "alice@virt.example")
            assert r == ["451 4.3.0 <alice@virt.example>: Temporary lookup failure"], r
            inst.wait_log(r"warning: proxy:pgsql:\S+ is unavailable\. unsupported dictionary type: pgsql")
            assert not re.search(r"fatal|panic|signal", inst.log()), inst.log()
