/*
 * proxymap_service.c - approve, open and query tables for proxy: clients.
 *
 * Interface: proxymap.h. proxymap_init() builds the set of approved
 * tables: every "proxy:type:name" in $proxy_read_maps (for proxywrite,
 * $proxy_write_maps), as the client will name it: "type:name". A request
 * for any other table is refused (PROXY_STAT_DENY) with Postfix's two
 * warnings:
 *   warning: request for unapproved table: "hash:/etc/postfix/x"
 *   warning: to approve this table for read-only access, list
 *            proxy:hash:/etc/postfix/x in main.cf:proxy_read_maps
 * Approved tables are opened on first use with the client's flags and
 * kept open (one DICT per table and flags). update and delete are
 * served only by the proxywrite role.
 *
 * When a table's file changes on disk (dict_changed, checked before each
 * request), the process reopens it for that answer, logs "table ... has
 * changed -- restarting", stops taking new clients, and closes each
 * client after its next answer (the client reconnects to a fresh
 * process); the skeleton then exits once no client is left. Not in the
 * proxywrite role: there the table changes because of its own updates
 * (proxywrite is meant to be the tables' single writer).
 *
 * SECURITY: clients are untrusted processes. A request must have exactly
 * its attributes, known names, numeric flags within PROXY_FLAGS_MASK and
 * a table name of at most PROXY_TABLE_MAX bytes; a malformed one gets
 * PROXY_STAT_BAD, an unknown request drops the client. Only approved
 * tables are opened, so the number of open tables is bounded by the
 * administrator's list (times the flag combinations in use).
 *
 * DIAGNOSTICS: warnings, as Postfix words them: a table not approved by
 * proxy_read_maps/proxy_write_maps, an update to the read-only service,
 * a malformed or unknown request (the client is dropped), a table that
 * cannot be opened or updated.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "argv.h"
#include "attr.h"
#include "config.h"
#include "dict_proxy.h"
#include "htable.h"
#include "maps.h"
#include "mem.h"
#include "msg.h"
#include "proxymap.h"

static struct {
    int     write;              /* proxywrite role */
    const char *param;          /* proxy_read_maps or proxy_write_maps */
    HTABLE *approved;           /* "type:name" -> "" */
    HTABLE *open;               /* "flags:type:name" -> DICT */
    int     restart;            /* a table changed: drain and exit */
} pm;

static const char *var_proxy_read_maps;
static const char *var_proxy_write_maps;
static const CONFIG_VAR proxymap_service_vars[] = {
    CONFIG_VAR_STR("proxy_read_maps", &var_proxy_read_maps),
    CONFIG_VAR_STR("proxy_write_maps", &var_proxy_write_maps),
    CONFIG_VAR_END,
};

void
proxymap_init(int write)
{
    ARGV   *list;
    const char *name;

    config_read_vars(proxymap_service_vars);
    pm.write = write;
    pm.param = write ? "proxy_write_maps" : "proxy_read_maps";
    pm.approved = htable_create(64);
    pm.open = htable_create(16);
    list = argv_split_list(write ? var_proxy_write_maps : var_proxy_read_maps);
    for (size_t i = 0; i < list->argc; i++) {
        if (strncmp(list->argv[i], PROXY_PREFIX, 6) != 0)
            continue;
        name = list->argv[i] + 6;
        if (*name && htable_find(pm.approved, name) == NULL)
            htable_enter(pm.approved, name, (void *) "");
    }
    argv_free(list);
}

int
proxymap_greet(STREAM *client)
{
    return attr_send_protocol(client, PROXY_PROTOCOL);
}

/* A table's file changed: say so once, drain the clients and exit. */
static void
proxymap_changed(DICT *d)
{
    if (pm.restart)
        return;
    msg_info("table %s has changed -- restarting", dict_spec(d));
    pm.restart = 1;
    (void) kill(getpid(), SIGHUP);      /* the skeleton: exit when idle */
}

static void
proxymap_dict_close(void *d)
{
    dict_close(d);
}

/* The open table for a request (reopened when its file changed, so no
 * answer is stale), or NULL with *status set. */
static DICT *
proxymap_find(const char *table, long flags, int *status)
{
    char   *key = mem_printf("%ld:%s", flags, table);
    char   *err;
    DICT   *d;

    if (!pm.write && (d = htable_find(pm.open, key)) != NULL && dict_changed(d)) {
        proxymap_changed(d);
        (void) htable_delete(pm.open, key, proxymap_dict_close);
    }
    if (htable_find(pm.approved, table) == NULL) {
        msg_warn("request for unapproved table: \"%s\"", table);
        msg_warn("to approve this table for %s access, list %s%s in main.cf:%s",
                 pm.write ? "read-write" : "read-only", PROXY_PREFIX, table, pm.param);
        *status = PROXY_STAT_DENY;
        d = NULL;
    } else if ((d = htable_find(pm.open, key)) == NULL) {
        if ((d = dict_open(table, (int) flags | (pm.write ? MAP_WRITE : 0), &err)) == NULL) {
            msg_warn("%s%s is unavailable. %s", PROXY_PREFIX, table, err);
            mem_free(err);
            *status = PROXY_STAT_CONFIG;
        } else {
            htable_enter(pm.open, key, d);
        }
    }
    mem_free(key);
    return d;
}

/* The request's table and flags, checked; NULL when malformed. */
static const char *
proxymap_table(const ATTR_LIST *req, int count, long *flags)
{
    const char *table = attr_get(req, PROXY_ATTR_TABLE);

    if (req->count != count || table == NULL
        || attr_get_long(req, PROXY_ATTR_FLAGS, flags) < 0
        || (*flags & ~(long) PROXY_FLAGS_MASK) != 0 || *flags < 0
        || strlen(table) > PROXY_TABLE_MAX || strchr(table, ':') == NULL
        || strncmp(table, PROXY_PREFIX, 6) == 0)
        return NULL;
    return table;
}

/* open, lookup, update, delete: the reply's status (and value). */
static void
proxymap_request(const char *request, const ATTR_LIST *req, ATTR_LIST *rep)
{
    int     is_open = strcmp(request, PROXY_REQ_OPEN) == 0;
    int     is_update = strcmp(request, PROXY_REQ_UPDATE) == 0;
    int     status = PROXY_STAT_BAD, r;
    const char *table, *key = attr_get(req, PROXY_ATTR_KEY);
    const char *value = NULL;
    long    flags;
    DICT   *d;

    table = proxymap_table(req, is_open ? 3 : is_update ? 5 : 4, &flags);
    if (table == NULL || (!is_open && key == NULL)
        || (is_update && attr_get(req, PROXY_ATTR_VALUE) == NULL)) {
        msg_warn("malformed %s request", request);
    } else if (!pm.write && !is_open && strcmp(request, PROXY_REQ_LOOKUP) != 0) {
        msg_warn("%s request for table \"%s\" refused: read-only service", request, table);
        status = PROXY_STAT_DENY;
    } else if ((d = proxymap_find(table, flags, &status)) != NULL) {
        if (is_open)
            status = PROXY_STAT_OK;
        else if (is_update)
            status = dict_put(d, key, attr_get(req, PROXY_ATTR_VALUE)) == 0
                ? PROXY_STAT_OK : PROXY_STAT_RETRY;
        else if ((r = strcmp(request, PROXY_REQ_LOOKUP) == 0 ? dict_get(d, key, &value)
                  : dict_del(d, key)) == MAP_FOUND)
            status = PROXY_STAT_OK;
        else
            status = r == MAP_NOTFOUND ? PROXY_STAT_NOKEY : PROXY_STAT_RETRY;
        if (status == PROXY_STAT_RETRY)
            msg_warn("%s%s: %s failed: %s", PROXY_PREFIX, table, request, dict_error(d));
        else if (is_update || (status == PROXY_STAT_OK && !is_open && value == NULL))
            (void) dict_sync(d);
    }
    attr_add_long(rep, PROXY_ATTR_STATUS, status);
    if (is_open)
        attr_add_long(rep, PROXY_ATTR_FLAGS, 0);
    else if (strcmp(request, PROXY_REQ_LOOKUP) == 0)
        attr_add(rep, PROXY_ATTR_VALUE, status == PROXY_STAT_OK ? value : "");
}

/* One request: 0 served, -1 drop the client. */
static int
proxymap_one(STREAM *client, ATTR_LIST *req, ATTR_LIST *rep)
{
    static const char *const known[] = {
        PROXY_REQ_OPEN, PROXY_REQ_LOOKUP, PROXY_REQ_UPDATE, PROXY_REQ_DELETE,
    };
    const char *request;
    size_t  i;

    attr_list_reset(rep);
    if (attr_read(client, req) != 1)
        return -1;
    if ((request = attr_get(req, PROXY_ATTR_REQ)) == NULL) {
        msg_warn("request without \"%s\" attribute; dropping client", PROXY_ATTR_REQ);
        return -1;
    }
    for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (strcmp(request, known[i]) == 0)
            break;
    if (i == sizeof(known) / sizeof(known[0])) {
        msg_warn("unrecognized request: \"%.50s\"; dropping client", request);
        return -1;
    }
    proxymap_request(request, req, rep);
    if (attr_write(client, rep) < 0)
        return -1;
    return pm.restart ? -1 : 0;
}

int
proxymap_service(STREAM *client)
{
    ATTR_LIST *req = attr_list_alloc();
    ATTR_LIST *rep = attr_list_alloc();
    int     ret;

    do {
        ret = proxymap_one(client, req, rep);
    } while (ret == 0 && stream_buffered(client) > 0);
    attr_list_free(req);
    attr_list_free(rep);
    return ret;
}
