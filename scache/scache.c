/*
 * scache.c - the connection cache server: main(), parameters, timers.
 *
 * master.cf: "scache unix - - n - 1 scache" (Debian ships it chrooted:
 * "- - y - 1"; both work). One process, as mail_owner, holds open SMTP
 * connections that smtp processes hand over after a delivery, so that
 * the next delivery to the same destination, by any smtp process, reuses
 * one instead of connecting (smtp/smtp_cache.c is the client; protocol:
 * mail_proto.h "scache"). Connections are passed as descriptors over
 * private/scache; scache never reads or writes them, it only closes them
 * when their time is up.
 *
 * Parameters: connection_cache_ttl_limit (the most time a client may ask
 * for), connection_cache_protocol_timeout (each step of a request),
 * connection_cache_status_update_time (the "statistics:" lines, also
 * logged when the process exits, each time there was a lookup).
 *
 * As anvil, max_use does not apply (main() puts a huge "-o max_use" in
 * front of master's arguments): the cache must outlive its clients.
 *
 * SECURITY: runs as mail_owner, chrootable: it needs nothing but its
 * socket. Clients are local daemons on a private socket, still treated
 * as untrusted (scache_service.c); the store is bounded (scache_table.c).
 *
 * DIAGNOSTICS: a bad parameter value is fatal at start (config_read_vars);
 * run-time problems are warnings (scache_service.c).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "events.h"
#include "msg.h"
#include "scache.h"
#include "server.h"

#define SCACHE_MAX_USE_OPT "max_use=1000000000"

static long var_ttl_limit;
static long var_proto_timeout;
static long var_status_time;
static time_t interval_start;
static int expire_armed;

static const CONFIG_VAR scache_vars[] = {
    CONFIG_VAR_TIME("connection_cache_ttl_limit", &var_ttl_limit),
    CONFIG_VAR_TIME("connection_cache_protocol_timeout", &var_proto_timeout),
    CONFIG_VAR_TIME("connection_cache_status_update_time", &var_status_time),
    CONFIG_VAR_END,
};

static int
percent(int hits, int miss)
{
    return hits + miss ? 100 * hits / (hits + miss) : 0;
}

/* The statistics lines for the interval so far (when there was a lookup
 * or a save), and a new interval. */
static void
scache_status_dump(void)
{
    SCACHE_STATS *s = scache_table_stats();
    char   *when = ctime(&interval_start);

    if (s->dest_hits + s->dest_miss + s->endp_hits + s->endp_miss + s->max_conns > 0) {
        msg_info("statistics: start interval %.15s", when ? when + 4 : "");
        msg_info("statistics: domain lookup hits=%d miss=%d success=%d%%",
                 s->dest_hits, s->dest_miss, percent(s->dest_hits, s->dest_miss));
        msg_info("statistics: address lookup hits=%d miss=%d success=%d%%",
                 s->endp_hits, s->endp_miss, percent(s->endp_hits, s->endp_miss));
        msg_info("statistics: max simultaneous domains=%d addresses=%d connection=%d",
                 s->max_dests, s->max_endps, s->max_conns);
    }
    memset(s, 0, sizeof(*s));
    interval_start = time(NULL);
}

static void
scache_status_event(void *ctx)
{
    scache_status_dump();
    event_timer(scache_status_event, NULL, (double) var_status_time);
}

/* Once a second while anything is cached: close what has expired. */
static void
scache_expire_event(void *ctx)
{
    expire_armed = scache_table_expire(event_now()) > 0;
    if (expire_armed)
        event_timer(scache_expire_event, NULL, 1.0);
}

static int
scache_request(STREAM *client)
{
    int     ret = scache_service(client);

    if (!expire_armed && scache_table_expire(event_now()) > 0) {
        expire_armed = 1;
        event_timer(scache_expire_event, NULL, 1.0);
    }
    return ret;
}

static void
scache_post_init(const char *service, ARGV *args)
{
    config_read_vars(scache_vars);
    scache_service_init(var_ttl_limit, var_proto_timeout);
    interval_start = time(NULL);
    if (var_status_time > 0)
        event_timer(scache_status_event, NULL, (double) var_status_time);
    atexit(scache_status_dump);
}

int
main(int argc, char **argv)
{
    static const SERVER_OPTS opts = {
        .post_init = scache_post_init,
        .on_accept = scache_greet,
    };
    static const char *const defaults[] = {SCACHE_MAX_USE_OPT, NULL};
    char  **args = server_default_opts(&argc, argv, defaults);

    msg_init("scache", 0);
    multi_server_main(argc, args, scache_request, &opts);
}
