/*
 * virtual.c - the virtual(8) delivery agent: main(), the parameters
 * and one delivery request.
 *
 * Interface: run by master as "virtual unix - n n - - virtual" (root:
 * opts.keep_root; see virtual.h). Each recipient address (lowercased) is
 * looked up in virtual_mailbox_maps, virtual_uid_maps and
 * virtual_gid_maps with the keys user+ext@domain, user@domain (without
 * the recipient_delimiter extension), @domain. The mailbox is
 * virtual_mailbox_base/value (a trailing '/': Maildir, else mbox). The
 * log line is "to=<...>, relay=virtual, ..., status=sent (delivered to
 * maildir)" or "(delivered to mailbox)".
 *
 * Verdicts, as Postfix's virtual: not in virtual_mailbox_maps: bounced
 * 5.1.1 'unknown user: "addr"'; no uid or gid, a uid below
 * virtual_minimum_uid or gid 0: deferred 4.3.5 "mail system
 * configuration error" with a warning ("recipient addr: bad uid N in
 * virtual_uid_maps", as Postfix logs it); a failed table lookup:
 * deferred 4.3.0 "table lookup problem" (never bounced); a message whose
 * headers already say "Delivered-To: <the recipient>": bounced 5.4.6
 * "mail forwarding loop for addr".
 *
 * Parameters: virtual_mailbox_maps, virtual_mailbox_base,
 * virtual_uid_maps, virtual_gid_maps, virtual_minimum_uid,
 * virtual_mailbox_limit (RLIMIT_FSIZE, set once), virtual_mailbox_lock,
 * deliver_lock_attempts, deliver_lock_delay, stale_lock_time; read once
 * in pre_init (virtual restarts on "postfix reload").
 *
 * SECURITY: see virtual.h and virtual_mailbox.c: root only switches ids.
 *
 * DIAGNOSTICS: a bad virtual_mailbox_lock is fatal at start, as are the
 * skeleton's problems;
 * table and id problems are warnings and the recipient's result.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "config.h"
#include "mail_params.h"
#include "maps.h"
#include "mem.h"
#include "msg.h"
#include "server.h"
#include "virtual.h"

const char *var_virt_mailbox_base;
long    var_virt_mailbox_limit;
int     virtual_lock_styles;
long    var_deliver_lock_attempts;
long    var_deliver_lock_delay;
long    var_stale_lock_time;
static const char *var_virt_mailbox_maps;
static const char *var_virt_uid_maps;
static const char *var_virt_gid_maps;
static const char *var_virt_mailbox_lock;
static long var_virt_minimum_uid;

#define VIRTUAL_MAX_DELIVERED_TO 100      /* as local's and pipe's */

static MAPS *virtual_mailbox_maps;
static MAPS *virtual_uid_maps;
static MAPS *virtual_gid_maps;

static const CONFIG_VAR virtual_vars[] = {
    CONFIG_VAR_STR("virtual_mailbox_maps", &var_virt_mailbox_maps),
    CONFIG_VAR_STR("virtual_mailbox_base", &var_virt_mailbox_base),
    CONFIG_VAR_STR("virtual_uid_maps", &var_virt_uid_maps),
    CONFIG_VAR_STR("virtual_gid_maps", &var_virt_gid_maps),
    CONFIG_VAR_INT("virtual_minimum_uid", &var_virt_minimum_uid),
    CONFIG_VAR_SIZE("virtual_mailbox_limit", &var_virt_mailbox_limit),
    CONFIG_VAR_STR("virtual_mailbox_lock", &var_virt_mailbox_lock),
    CONFIG_VAR_INT("deliver_lock_attempts", &var_deliver_lock_attempts),
    CONFIG_VAR_TIME("deliver_lock_delay", &var_deliver_lock_delay),
    CONFIG_VAR_TIME("stale_lock_time", &var_stale_lock_time),
    CONFIG_VAR_END,
};

static void
virtual_pre_init(const char *service, ARGV *args)
{
    struct rlimit rl;

    config_read_vars(virtual_vars);
    if ((virtual_lock_styles = virtual_lock_parse(var_virt_mailbox_lock)) < 0)
        msg_fatal("virtual_mailbox_lock: unknown lock method in \"%s\"", var_virt_mailbox_lock);
    virtual_mailbox_maps = maps_create("virtual_mailbox_maps", var_virt_mailbox_maps, 0);
    virtual_uid_maps = maps_create("virtual_uid_maps", var_virt_uid_maps, 0);
    virtual_gid_maps = maps_create("virtual_gid_maps", var_virt_gid_maps, 0);
    signal(SIGXFSZ, SIG_IGN);           /* a write past the limit fails with EFBIG */
    if (var_virt_mailbox_limit > 0) {
        rl.rlim_cur = rl.rlim_max = (rlim_t) var_virt_mailbox_limit;
        if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
            msg_fatal("setrlimit RLIMIT_FSIZE %ld: %m", var_virt_mailbox_limit);
    }
}

/* addr (lowercase) in maps: user+ext@domain, user@domain, @domain. */
static int
virtual_find(MAPS *maps, const char *addr, const char **value)
{
    const char *at = strrchr(addr, '@');
    const char *delims = mail_params.recipient_delimiter;
    size_t  lp = at ? (size_t) (at - addr) : strlen(addr), ext = lp;
    char   *key;
    int     rc;

    if ((rc = maps_find(maps, addr, value)) != MAP_NOTFOUND)
        return rc;
    for (size_t i = 1; *delims && i < lp; i++)
        if (strchr(delims, addr[i])) {
            ext = i;
            break;
        }
    if (ext < lp) {
        key = mem_printf("%.*s%s", (int) ext, addr, at ? at : "");
        rc = maps_find(maps, key, value);
        mem_free(key);
        if (rc != MAP_NOTFOUND)
            return rc;
    }
    return at ? maps_find(maps, at, value) : MAP_NOTFOUND;
}

/* A numeric id from maps: 0, or the verdict (dsn/why set). */
static int
virtual_id(MAPS *maps, const char *addr, const char *what, long min, long *id,
           VSTRING *dsn, VSTRING *why)
{
    const char *value;
    char   *end;
    int     rc = virtual_find(maps, addr, &value);

    if (rc == MAP_FAIL) {
        vstring_strcpy(dsn, "4.3.0");
        vstring_strcpy(why, "table lookup problem");
        return DELIVER_DEFER;
    }
    if (rc == MAP_NOTFOUND) {
        msg_warn("recipient %s: %s not found in %s", addr, what, maps_title(maps));
        vstring_strcpy(dsn, "4.3.5");
        vstring_strcpy(why, "mail system configuration error");
        return DELIVER_DEFER;
    }
    *id = strtol(value, &end, 10);
    if (end == value || *end != 0 || *id < min) {
        msg_warn("recipient %s: bad %s %s in %s", addr, what, value, maps_title(maps));
        vstring_strcpy(dsn, "4.3.5");
        vstring_strcpy(why, "mail system configuration error");
        return DELIVER_DEFER;
    }
    return 0;
}

static int
virtual_recipient(DELIVER_REQUEST *req, int i, const char *addr, VSTRING *dsn, VSTRING *why)
{
    const char *value;
    char   *path;
    long    uid, gid;
    int     rc = virtual_find(virtual_mailbox_maps, addr, &value);

    if (rc == MAP_FAIL) {
        vstring_strcpy(dsn, "4.3.0");
        vstring_strcpy(why, "table lookup problem");
        return DELIVER_DEFER;
    }
    if (deliver_loop_found(req, addr, VIRTUAL_MAX_DELIVERED_TO)) {
        vstring_strcpy(dsn, "5.4.6");
        vstring_sprintf(why, "mail forwarding loop for %s", addr);
        return DELIVER_BOUNCE;
    }
    if (rc == MAP_NOTFOUND) {
        vstring_strcpy(dsn, "5.1.1");
        vstring_sprintf(why, "unknown user: \"%s\"", addr);
        return DELIVER_BOUNCE;
    }
    if ((rc = virtual_id(virtual_uid_maps, addr, "uid", var_virt_minimum_uid, &uid,
                         dsn, why)) != 0
        || (rc = virtual_id(virtual_gid_maps, addr, "gid", 1, &gid, dsn, why)) != 0)
        return rc;
    path = mem_printf("%s/%s", var_virt_mailbox_base, value);
    rc = virtual_mailbox(req, i, path, (uid_t) uid, (gid_t) gid, dsn, why);
    mem_free(path);
    return rc;
}

static void
virtual_deliver(DELIVER_REQUEST *req, void *ctx)
{
    VSTRING *dsn = vstring_alloc(16), *why = vstring_alloc(256), *addr = vstring_alloc(256);
    double  xfer;
    int     status;

    for (int i = 0; i < req->rcpt_count; i++) {
        vstring_strcpy(addr, req->rcpt[i].address);
        vstring_lowercase(addr);
        vstring_reset(dsn);
        vstring_reset(why);
        status = virtual_recipient(req, i, STR(addr), dsn, why);
        xfer = deliver_now() - req->agent_time;
        deliver_result(req, i, status, STR(dsn), "virtual", 0, xfer < 0 ? 0 : xfer,
                       "%s", STR(why));
    }
    vstring_free(dsn);
    vstring_free(why);
    vstring_free(addr);
}

static void
virtual_service(STREAM *client)
{
    deliver_request_serve(client, virtual_deliver, NULL);
}

int
main(int argc, char **argv)
{
    SERVER_OPTS opts = {0};

    msg_init("virtual", 0);
    opts.pre_init = virtual_pre_init;
    opts.keep_root = 1;
    single_server_main(argc, argv, virtual_service, &opts);
}
