/*
 * flush_service.c - the fast flush requests and the per-site logs.
 *
 * Interface (flush.h): flush_greet() (on_accept), flush_service() (one
 * request per connection), flush_handle(), flush_site_name().
 *
 * Requests (mail_proto.h "flush"):
 *   add        append "queue_id\n" to flush/<site> (created 0600),
 *              under an exclusive flock; a site not in
 *              fast_flush_domains is FLUSH_STAT_DENY
 *   send_site  take the log's ids (and empty it), touch each message in
 *              deferred/ and move it to incoming/, then send qmgr "FI"
 *              (forget dead destinations, scan incoming); an unknown
 *              site (no log) is OK with nothing to do, as Postfix
 *   refresh    walk flush/: a log not updated for fast_flush_purge_time
 *              is removed, one older than fast_flush_refresh_time is
 *              rewritten with only the ids still in deferred/
 * A connection that sends no valid request (master's wakeup byte, every
 * 1000 s with the stock master.cf) is taken as a refresh.
 *
 * SECURITY: the site becomes a file name: flush_site_name() allows only
 * letters, digits, '-', '.', '_' and an address literal's "[", "]", ":"
 * (no '/', no leading '.'), at most FLUSH_SITE_MAX bytes; queue ids must
 * pass queue_id_ok() before they name a file; a log is read up to
 * FLUSH_LOG_MAX bytes and its lines are checked as queue ids again.
 *
 * DIAGNOSTICS: warnings only: a malformed request, a log that cannot be
 * opened, locked or written, a message that cannot be moved.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "argv.h"
#include "connect.h"
#include "mail_proto.h"
#include "mem.h"
#include "msg.h"
#include "queue.h"
#include "resolve.h"
#include "vstring.h"
#include "flush.h"

#define FLUSH_DIR "flush"

int
flush_greet(STREAM *client)
{
    return attr_send_protocol(client, PROTO_FLUSH) < 0 ? -1 : 0;
}

int
flush_site_name(const char *site, char *out, size_t outlen)
{
    size_t  len = site ? strlen(site) : 0;

    if (len == 0 || len > FLUSH_SITE_MAX || len >= outlen || site[0] == '.')
        return -1;
    for (size_t i = 0; i <= len; i++) {
        unsigned char ch = (unsigned char) site[i];

        if (ch && !isalnum(ch) && !strchr("-._[]:", ch))
            return -1;
        out[i] = (char) tolower(ch);
    }
    return strstr(out, "..") ? -1 : 0;
}

/* Open flush/<name> (flags) and lock it exclusively; -1 on failure. */
static int
flush_log_open(const char *name, int flags)
{
    VSTRING *path = vstring_alloc(300);
    int     fd;

    vstring_sprintf(path, "%s/%s", FLUSH_DIR, name);
    fd = open(STR(path), flags | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd >= 0 && flock(fd, LOCK_EX) < 0) {
        msg_warn("lock %s: %m", STR(path));
        (void) close(fd);
        fd = -1;
    } else if (fd < 0 && errno != ENOENT) {
        msg_warn("open %s: %m", STR(path));
    }
    vstring_free(path);
    return fd;
}

static int
flush_add(const char *name, const char *queue_id)
{
    VSTRING *line = vstring_alloc(QUEUE_ID_MAX + 2);
    int     fd, rc = FLUSH_STAT_OK;

    if ((fd = flush_log_open(name, O_WRONLY | O_APPEND | O_CREAT)) < 0)
        return FLUSH_STAT_FAIL;
    vstring_sprintf(line, "%s\n", queue_id);
    if (write(fd, STR(line), LEN(line)) != (ssize_t) LEN(line)) {
        msg_warn("write %s/%s: %m", FLUSH_DIR, name);
        rc = FLUSH_STAT_FAIL;
    }
    (void) close(fd);
    vstring_free(line);
    return rc;
}

/* The valid queue ids in the log fd (read from the start), at most FLUSH_LOG_MAX bytes. */
static ARGV *
flush_log_ids(int fd)
{
    VSTRING *buf = vstring_alloc(FLUSH_LOG_MAX);
    ARGV   *ids = argv_alloc();
    char    chunk[8192];
    ssize_t n;
    char   *cp, *nl;

    while (LEN(buf) < FLUSH_LOG_MAX - sizeof(chunk) && (n = read(fd, chunk, sizeof(chunk))) > 0)
        vstring_ncat(buf, chunk, (size_t) n);
    for (cp = STR(buf); (nl = strchr(cp, '\n')) != NULL; cp = nl + 1) {
        *nl = 0;
        if (queue_id_ok(cp))              /* a repeated id is just not found again */
            argv_add(ids, cp);
    }
    vstring_free(buf);
    return ids;
}

/* Touch deferred/ID and move it to incoming/; 1 moved, 0 not there. */
static int
flush_one(const char *id)
{
    int     moved = 0;

    if (queue_file_touch(QUEUE_DEFERRED, id) == 0) {
        if (queue_file_move(QUEUE_DEFERRED, QUEUE_INCOMING, id, 1) == 0)
            moved = 1;
        else if (errno != ENOENT)
            msg_warn("%s: cannot move to %s: %m", id, QUEUE_INCOMING);
    }
    return moved;
}

static int
flush_send_site(const char *name)
{
    static const char req[] = {QMGR_REQ_FLUSH_DEAD, QMGR_REQ_SCAN_INCOMING, 0};
    ARGV   *ids;
    int     fd, moved = 0;

    if ((fd = flush_log_open(name, O_RDWR)) < 0)
        return errno == ENOENT ? FLUSH_STAT_OK : FLUSH_STAT_FAIL;
    ids = flush_log_ids(fd);
    if (ftruncate(fd, 0) < 0)
        msg_warn("truncate %s/%s: %m", FLUSH_DIR, name);
    (void) close(fd);
    for (size_t i = 0; i < ids->argc; i++)
        moved += flush_one(ids->argv[i]);
    if (msg_verbose)
        msg_info("site %s: %d of %zu queued messages moved", name, moved, ids->argc);
    argv_free(ids);
    if (moved > 0 && trigger_send(MAIL_CLASS_PUBLIC "/" SERVICE_QMGR, req, 2) < 0)
        msg_warn("cannot trigger %s/%s: %m", MAIL_CLASS_PUBLIC, SERVICE_QMGR);
    return FLUSH_STAT_OK;
}

/* Rewrite one log with only the ids still deferred (or remove it). */
static void
flush_refresh_one(const char *name, time_t now)
{
    VSTRING *path = vstring_alloc(100);
    struct stat st;
    ARGV   *ids;
    int     fd;

    if ((fd = flush_log_open(name, O_RDWR)) < 0 || fstat(fd, &st) < 0) {
        if (fd >= 0)
            (void) close(fd);
        vstring_free(path);
        return;
    }
    if (st.st_mtime + var_flush_purge < now) {
        vstring_sprintf(path, "%s/%s", FLUSH_DIR, name);
        (void) unlink(STR(path));
    } else if (st.st_mtime + var_flush_refresh < now) {
        ids = flush_log_ids(fd);
        if (ftruncate(fd, 0) == 0 && lseek(fd, 0, SEEK_SET) == 0) {
            for (size_t i = 0; i < ids->argc; i++) {
                struct stat qst;

                if (stat(queue_path(path, QUEUE_DEFERRED, ids->argv[i]), &qst) == 0) {
                    vstring_sprintf(path, "%s\n", ids->argv[i]);
                    if (write(fd, STR(path), LEN(path)) != (ssize_t) LEN(path))
                        msg_warn("write %s/%s: %m", FLUSH_DIR, name);
                }
            }
        }
        argv_free(ids);
    }
    (void) close(fd);
    vstring_free(path);
}

static int
flush_refresh(void)
{
    DIR    *dir = opendir(FLUSH_DIR);
    struct dirent *de;
    char    name[FLUSH_SITE_MAX + 1];
    time_t  now = time(NULL);

    if (dir == NULL)
        return FLUSH_STAT_OK;
    while ((de = readdir(dir)) != NULL)
        if (flush_site_name(de->d_name, name, sizeof(name)) == 0 && strcmp(name, de->d_name) == 0)
            flush_refresh_one(name, now);
    (void) closedir(dir);
    return FLUSH_STAT_OK;
}

int
flush_handle(const ATTR_LIST *req)
{
    const char *request = attr_get(req, ATTR_REQUEST);
    const char *site = attr_get(req, ATTR_SITE);
    const char *id = attr_get(req, ATTR_QUEUE_ID);
    char    name[FLUSH_SITE_MAX + 1];
    int     fail = 0;

    if (request && strcmp(request, FLUSH_REQ_REFRESH) == 0)
        return flush_refresh();
    if (request == NULL || (strcmp(request, FLUSH_REQ_ADD) != 0
                            && strcmp(request, FLUSH_REQ_SEND_SITE) != 0)) {
        msg_warn("unrecognized request: \"%.100s\"", request ? request : "");
        return FLUSH_STAT_BAD;
    }
    if (flush_site_name(site, name, sizeof(name)) < 0) {
        msg_warn("bad site name: \"%.100s\"", site ? site : "");
        return FLUSH_STAT_BAD;
    }
    if (!resolve_domain_list("fast_flush_domains", name, &fail))
        return fail ? FLUSH_STAT_FAIL : FLUSH_STAT_DENY;
    if (strcmp(request, FLUSH_REQ_SEND_SITE) == 0)
        return flush_send_site(name);
    if (id == NULL || !queue_id_ok(id)) {
        msg_warn("bad queue id: \"%.100s\"", id ? id : "");
        return FLUSH_STAT_BAD;
    }
    return flush_add(name, id);
}

void
flush_service(STREAM *client)
{
    ATTR_LIST *req = attr_list_alloc();
    ATTR_LIST *reply = attr_list_alloc();

    if (attr_read(client, req) == 1) {
        attr_add_long(reply, ATTR_STATUS, flush_handle(req));
        (void) attr_write(client, reply);
    } else {
        (void) flush_refresh();         /* master's wakeup, or a client gone */
    }
    attr_list_free(req);
    attr_list_free(reply);
}
