/*
 * dict_proxy.c - the proxy: table type: lookups through proxymap.
 *
 * "proxy:type:name" (dict_proxy.h for the protocol). open() only checks
 * the name: the connection is made on the first lookup, after the daemon
 * has entered $queue_directory and its chroot jail, where the socket
 * "private/proxymap" is. One connection per service is kept for the
 * life of the process and shared by every proxy: table (as Postfix
 * does); a request that fails on it is tried once more on a new
 * connection, then the lookup fails (MAP_FAIL: the caller defers).
 *
 * Replies: PROXY_STAT_OK -> MAP_FOUND, NOKEY -> MAP_NOTFOUND; RETRY,
 * CONFIG, BAD and DENY -> MAP_FAIL with the reason in dict_error(). DENY
 * (the table is not in $proxy_read_maps / $proxy_write_maps) is also
 * logged, once per table, as Postfix words it: "proxymap service is not
 * configured for table "type:name"" (proxymap logs which parameter to
 * change).
 *
 * SECURITY: the server is another process and is not trusted: the reply
 * must carry a numeric status in range and, for a hit, a value; its size
 * is bounded by attr_read(). Keys go out as they are (attr.h bounds).
 *
 * DIAGNOSTICS: warnings (connect failure, malformed reply, a table the
 * service refuses); the lookup then fails with a temporary error, so the
 * mail is deferred, never accepted or refused on a guess.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "attr.h"
#include "attr_clnt.h"
#include "dict_impl.h"
#include "dict_proxy.h"
#include "mem.h"
#include "msg.h"

static struct {
    char   *queue_dir;          /* NULL: relative paths only */
    char   *service[2];         /* [0] read, [1] write */
    int     timeout;
} proxy_conf = {NULL, {NULL, NULL}, 100};

/* One kept-open connection per service: [0] proxymap, [1] proxywrite. */
static ATTR_CLNT proxy_conn[2] = {
    ATTR_CLNT_INIT(NULL, PROXY_PROTOCOL), ATTR_CLNT_INIT(NULL, PROXY_PROTOCOL),
};
static char *proxy_path[2];

typedef struct PROXY_PRIV {
    int     write;              /* use proxywrite */
    int     denied_logged;
    VSTRING *value;
} PROXY_PRIV;

void
dict_proxy_config(const char *queue_dir, const char *read_service,
                  const char *write_service, int timeout)
{
    int     i;

    mem_free(proxy_conf.queue_dir);
    proxy_conf.queue_dir = queue_dir && *queue_dir ? mem_strdup(queue_dir) : NULL;
    mem_free(proxy_conf.service[0]);
    proxy_conf.service[0] = mem_strdup(read_service);
    mem_free(proxy_conf.service[1]);
    proxy_conf.service[1] = mem_strdup(write_service);
    proxy_conf.timeout = timeout > 0 ? timeout : 100;
    for (i = 0; i < 2; i++)
        attr_clnt_close(&proxy_conn[i]);
}

static const char *
dict_proxy_service(int write)
{
    if (proxy_conf.service[write])
        return proxy_conf.service[write];
    return write ? "proxywrite" : "proxymap";
}

/* Connect: private/<service>, else $queue_directory/private/<service>. */
static int
dict_proxy_connect(int write)
{
    ATTR_CLNT *c = &proxy_conn[write];
    const char *svc = dict_proxy_service(write);

    mem_free(proxy_path[write]);
    proxy_path[write] = mem_printf("private/%s", svc);
    c->path = proxy_path[write];
    if (attr_clnt_open(c, proxy_conf.timeout) == 0)
        return 0;
    if (errno == ENOENT && proxy_conf.queue_dir) {
        mem_free(proxy_path[write]);
        proxy_path[write] = mem_printf("%s/private/%s", proxy_conf.queue_dir, svc);
        c->path = proxy_path[write];
        if (attr_clnt_open(c, proxy_conf.timeout) == 0)
            return 0;
    }
    msg_warn("connect to %s service: %m", svc);
    return -1;
}

/* One exchange, one retry on a new connection; the status, or -1. */
static int
dict_proxy_call(DICT *d, const ATTR_LIST *req, ATTR_LIST *rep)
{
    PROXY_PRIV *p = d->priv;
    ATTR_CLNT *c = &proxy_conn[p->write];
    long    status;

    for (int attempt = 0; attempt < 2; attempt++) {
        if (c->stream == NULL && dict_proxy_connect(p->write) < 0)
            break;
        if (attr_clnt_exchange(c, req, rep) < 0)
            continue;
        if (attr_get_long(rep, PROXY_ATTR_STATUS, &status) < 0
            || status < PROXY_STAT_OK || status > PROXY_STAT_CONFIG) {
            msg_warn("malformed reply from %s service", dict_proxy_service(p->write));
            attr_clnt_close(c);
            break;
        }
        return (int) status;
    }
    dict_set_error(d, "table %s: %s service failure", d->spec,
                   dict_proxy_service(p->write));
    return -1;
}

/* A status other than OK/NOKEY: the error text, and MAP_FAIL. */
static int
dict_proxy_failed(DICT *d, int status)
{
    PROXY_PRIV *p = d->priv;
    const char *svc = dict_proxy_service(p->write);

    switch (status) {
    case -1:
        break;                  /* text set by dict_proxy_call */
    case PROXY_STAT_DENY:
        dict_set_error(d, "%s service is not configured for table \"%s\"", svc, d->name);
        if (!p->denied_logged++)
            msg_warn("%s", STR(d->error));
        break;
    case PROXY_STAT_BAD:
        dict_set_error(d, "table %s: %s service rejected the request", d->spec, svc);
        break;
    default:
        dict_set_error(d, "table %s: lookup failed in the %s service", d->spec, svc);
        break;
    }
    return MAP_FAIL;
}

static ATTR_LIST *
dict_proxy_request(DICT *d, const char *request, const char *key)
{
    ATTR_LIST *req = attr_list_alloc();

    attr_add(req, PROXY_ATTR_REQ, request);
    attr_add(req, PROXY_ATTR_TABLE, d->name);
    attr_add_long(req, PROXY_ATTR_FLAGS, d->flags & PROXY_FLAGS_MASK);
    if (key)
        attr_add(req, PROXY_ATTR_KEY, key);
    return req;
}

static int
dict_proxy_open(DICT *d)
{
    PROXY_PRIV *p;

    if (strchr(d->name, ':') == 0 || strncmp(d->name, PROXY_PREFIX, 6) == 0
        || strlen(d->name) > PROXY_TABLE_MAX) {
        dict_set_error(d, "bad proxy table name: %s", d->spec);
        return -1;
    }
    p = mem_alloc(sizeof(*p));
    p->write = (d->flags & (MAP_CREATE | MAP_WRITE)) != 0;
    p->value = vstring_alloc(VSTRING_UNLIMITED);
    d->priv = p;
    return 0;
}

static int
dict_proxy_get(DICT *d, const char *key, const char **value)
{
    PROXY_PRIV *p = d->priv;
    ATTR_LIST *req = dict_proxy_request(d, PROXY_REQ_LOOKUP, key);
    ATTR_LIST *rep = attr_list_alloc();
    const char *v;
    int     status, ret;

    status = dict_proxy_call(d, req, rep);
    if (status == PROXY_STAT_NOKEY) {
        ret = MAP_NOTFOUND;
    } else if (status == PROXY_STAT_OK && (v = attr_get(rep, PROXY_ATTR_VALUE)) != 0) {
        vstring_strcpy(p->value, v);
        *value = STR(p->value);
        ret = MAP_FOUND;
    } else {
        ret = dict_proxy_failed(d, status == PROXY_STAT_OK ? PROXY_STAT_BAD : status);
    }
    attr_list_free(req);
    attr_list_free(rep);
    return ret;
}

/* update and delete: the status of one request (-1: no answer). */
static int
dict_proxy_change(DICT *d, const char *request, const char *key, const char *value)
{
    ATTR_LIST *req = dict_proxy_request(d, request, key);
    ATTR_LIST *rep = attr_list_alloc();
    int     status;

    if (value)
        attr_add(req, PROXY_ATTR_VALUE, value);
    status = dict_proxy_call(d, req, rep);
    attr_list_free(req);
    attr_list_free(rep);
    return status;
}

static int
dict_proxy_put(DICT *d, const char *key, const char *value)
{
    int     status = dict_proxy_change(d, PROXY_REQ_UPDATE, key, value);

    if (status == PROXY_STAT_OK)
        return 0;
    (void) dict_proxy_failed(d, status);
    return -1;
}

static int
dict_proxy_del(DICT *d, const char *key)
{
    int     status = dict_proxy_change(d, PROXY_REQ_DELETE, key, NULL);

    if (status == PROXY_STAT_OK)
        return MAP_FOUND;
    if (status == PROXY_STAT_NOKEY)
        return MAP_NOTFOUND;
    return dict_proxy_failed(d, status);
}

static int
dict_proxy_close(DICT *d, int commit)
{
    PROXY_PRIV *p = d->priv;

    vstring_free(p->value);
    mem_free(p);
    return 0;
}

const DICT_OPS dict_proxy_ops = {
    .type = "proxy", .needs_name = 1, .open = dict_proxy_open,
    .get = dict_proxy_get, .put = dict_proxy_put, .del = dict_proxy_del,
    .close = dict_proxy_close,
};
