/*
 * tlsmgr.c - the TLS session cache and ticket key manager: main() and
 * start-up.
 *
 * master.cf (as Postfix ships it): "tlsmgr unix - - n 1000? 1 tlsmgr"
 * (Debian: chroot y). One process on private/tlsmgr, as mail_owner;
 * smtpd, smtp and lmtp processes keep a connection to it (lib/tls
 * tls_mgr.c) to store and fetch TLS sessions and to get the session
 * ticket keys, so that a client resumes its session with whichever smtpd
 * process serves its next connection, and an smtp process resumes a
 * session another one made with the same server.
 *
 * Parameters (read here, so per-service -o overrides in master.cf do not
 * change them, as in Postfix): smtpd_tls_session_cache_database,
 * smtp_tls_session_cache_database, lmtp_tls_session_cache_database
 * (hash: or btree: tables; empty: no cache of that kind), and the
 * matching *_tls_session_cache_timeout (at least 2 minutes, at most 100
 * days; <= 0: that cache is off, and for smtpd session tickets too).
 * Each cache is emptied at start-up and cleaned every timeout seconds.
 * tls_random_source, tls_random_bytes, tls_random_exchange_name,
 * tls_random_prng_update_period and tls_random_reseed_period feed and
 * save tlsmgr's own generator (tlsmgr_prng.c); tls_daemon_random_bytes is
 * not used: OpenSSL 3 seeds every process from the kernel by itself.
 *
 * Like Postfix's tlsmgr it is a persistent process: main() puts "-o
 * max_use=... -o max_idle=..." with huge values in front of master's
 * arguments, so that neither limit ends it (its keys and caches would go
 * with it); "postfix reload" and "postfix stop" do.
 *
 * SECURITY: the cache files, the entropy source and the PRNG exchange
 * file are opened in pre_init with mail_owner's
 * effective ids (never as root), before any chroot, like Postfix's
 * tlsmgr does with files under data_directory; then the skeleton drops
 * privileges for good. Requests: tlsmgr_service.c.
 *
 * DIAGNOSTICS: start-up problems are fatal in the skeleton (server.c);
 * a cache that cannot be opened is a warning and that cache is off;
 * "open smtpd TLS cache btree:..." when its *_tls_loglevel is 2 or more.
 */
#include <time.h>

#include "config.h"
#include "events.h"
#include "msg.h"
#include "privs.h"
#include "server.h"
#include "tlsmgr.h"

#define TLSMGR_MAX_USE_OPT  "max_use=1000000000"
#define TLSMGR_MAX_IDLE_OPT "max_idle=1000000000s"
#define TLSMGR_MIN_TIMEOUT  120
#define TLSMGR_MAX_TIMEOUT  (100L * 86400)

static const char *var_db[TLSMGR_NCACHE];
static long var_timeout[TLSMGR_NCACHE];
static long var_loglevel[TLSMGR_NCACHE];

static const CONFIG_VAR tlsmgr_vars[] = {
    CONFIG_VAR_STR("smtpd_tls_session_cache_database", &var_db[TLSMGR_SMTPD]),
    CONFIG_VAR_TIME("smtpd_tls_session_cache_timeout", &var_timeout[TLSMGR_SMTPD]),
    CONFIG_VAR_STR("smtp_tls_session_cache_database", &var_db[TLSMGR_SMTP]),
    CONFIG_VAR_TIME("smtp_tls_session_cache_timeout", &var_timeout[TLSMGR_SMTP]),
    CONFIG_VAR_STR("lmtp_tls_session_cache_database", &var_db[TLSMGR_LMTP]),
    CONFIG_VAR_TIME("lmtp_tls_session_cache_timeout", &var_timeout[TLSMGR_LMTP]),
    CONFIG_VAR_INT("smtpd_tls_loglevel", &var_loglevel[TLSMGR_SMTPD]),
    CONFIG_VAR_INT("smtp_tls_loglevel", &var_loglevel[TLSMGR_SMTP]),
    CONFIG_VAR_INT("lmtp_tls_loglevel", &var_loglevel[TLSMGR_LMTP]),
    CONFIG_VAR_END,
};

/* Postfix's bounds: <= 0 off, else 2 minutes .. 100 days. */
static long
tlsmgr_timeout(long t)
{
    return t <= 0 ? 0 : t < TLSMGR_MIN_TIMEOUT ? TLSMGR_MIN_TIMEOUT
        : t > TLSMGR_MAX_TIMEOUT ? TLSMGR_MAX_TIMEOUT : t;
}

static void
tlsmgr_expire_event(void *ctx)
{
    TLSMGR_CACHE *cache = ctx;
    int     n = tlsmgr_cache_expire(cache, time(NULL));

    if (msg_verbose)
        msg_info("%s TLS session cache: removed %d expired entries", cache->type, n);
    event_timer(tlsmgr_expire_event, cache, (double) cache->timeout);
}

static void
tlsmgr_pre_init(const char *service, ARGV *args)
{
    uid_t   uid;
    gid_t   gid;

    config_read_vars(tlsmgr_vars);
    priv_mail_owner(&uid, &gid);
    if (priv_set_euid(uid, gid) < 0)
        msg_fatal("set effective ids to mail_owner: %m");
    for (int i = 0; i < TLSMGR_NCACHE; i++) {
        var_timeout[i] = tlsmgr_timeout(var_timeout[i]);
        if (*var_db[i] && var_timeout[i] > 0
            && tlsmgr_cache_open(&tlsmgr_caches[i], var_db[i], var_timeout[i]) == 0
            && var_loglevel[i] >= 2)
            msg_info("open %s TLS cache %s", tlsmgr_caches[i].type, var_db[i]);
    }
    tlsmgr_prng_open();
    if (priv_restore_root() < 0)
        msg_fatal("restore root privileges: %m");
    tlsmgr_key_init(var_timeout[TLSMGR_SMTPD]);
}

static void
tlsmgr_post_init(const char *service, ARGV *args)
{
    tlsmgr_prng_timers();
    for (int i = 0; i < TLSMGR_NCACHE; i++)
        if (tlsmgr_caches[i].dict != NULL)
            event_timer(tlsmgr_expire_event, &tlsmgr_caches[i],
                        (double) tlsmgr_caches[i].timeout);
}

int
main(int argc, char **argv)
{
    static const SERVER_OPTS opts = {
        .pre_init = tlsmgr_pre_init,
        .post_init = tlsmgr_post_init,
        .on_accept = tlsmgr_greet,
    };
    static const char *const defaults[] = {TLSMGR_MAX_USE_OPT, TLSMGR_MAX_IDLE_OPT, NULL};
    char  **args = server_default_opts(&argc, argv, defaults);

    msg_init("tlsmgr", 0);
    multi_server_main(argc, args, tlsmgr_service, &opts);
}
