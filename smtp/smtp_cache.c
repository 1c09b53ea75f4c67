/*
 * smtp_cache.c - a per-process SMTP/LMTP connection cache.
 *
 * Interface (smtp_cache.h): smtp_cache_take(req, sess) at the start of
 * each request, smtp_cache_save(req, sess) after a good transaction.
 *
 * Postfix hands idle sessions to the scache(8) daemon; posthorn has no
 * such daemon, so each smtp/lmtp process keeps at most one idle session
 * itself. The kernel decides which idle smtp process takes the next
 * request from qmgr, so under load (many requests for few destinations)
 * most requests find a session to their destination in their process.
 *
 * Which sessions are kept: caching is on when smtp_connection_cache_on_
 * demand = yes (qmgr sends no backlog hint here, so every destination
 * counts as backlogged) or the request's nexthop is in smtp_connection_
 * cache_destinations. A session is not kept after its server said 421,
 * once it was used smtp_connection_reuse_count_limit + 1 times (0 = no
 * limit), or once it is smtp_connection_reuse_time_limit old. The key is
 * the request's transport and nexthop. lmtp_* parameters for LMTP.
 *
 * Idle time: a session unused for smtp_connection_cache_time_limit is
 * closed. The process then sits in the server skeleton's accept loop, so
 * a POSIX timer's signal does it: the handler sends QUIT (not waiting for
 * the reply) and closes the descriptor, both async-signal-safe, and sets a
 * flag; smtp_cache_take() blocks the signal, stops the timer and frees
 * the stream without touching the (possibly reused) descriptor number.
 *
 * SECURITY: nothing from the network is read here; the RSET probe reply
 * is read by smtp_proto.c with the usual bounds.
 *
 * DIAGNOSTICS: none fatal; an idle timer that cannot be set up is a
 * warning and the connection is not cached.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "argv.h"
#include "mem.h"
#include "msg.h"
#include "smtp_cache.h"

#define CACHE_SIGNAL   (SIGRTMIN + 1)
#define CACHE_KEY_MAX  2048

typedef struct CACHE_SLOT {
    STREAM *fp;                     /* NULL: empty */
    char    key[CACHE_KEY_MAX];     /* transport "\n" nexthop */
    char    namaddr[sizeof(((SMTP_SESSION *) 0)->namaddr)];
    char    relay[sizeof(((SMTP_SESSION *) 0)->relay)];     /* without conn_use */
    int     features;
    long    size_limit;
    double  created;                /* connection set up */
    int     uses;                   /* transactions done on it */
} CACHE_SLOT;

static CACHE_SLOT idle;             /* the session kept open */
static CACHE_SLOT inuse;            /* what we know of the one taken for this request */
static STREAM *inuse_fp;

static volatile sig_atomic_t cache_armed;
static volatile sig_atomic_t cache_expired;
static volatile sig_atomic_t cache_fd = -1;
static timer_t cache_timer;
static int cache_timer_state;       /* 0 = not created, 1 = ok, -1 = failed */

static double
cache_now(void)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    return tv.tv_sec + tv.tv_usec / 1e6;
}

/* The timer fired while the session was idle: close it (signal context). */
static void
cache_expire_handler(int sig)
{
    int     saved = errno;

    if (cache_armed && cache_fd >= 0) {
        (void) send(cache_fd, "QUIT\r\n", 6, MSG_DONTWAIT | MSG_NOSIGNAL);
        (void) close(cache_fd);
        cache_fd = -1;
        cache_expired = 1;
        cache_armed = 0;
    }
    errno = saved;
}

static int
cache_timer_init(void)
{
    struct sigaction sa;
    struct sigevent sev;

    if (cache_timer_state != 0)
        return cache_timer_state;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = cache_expire_handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    memset(&sev, 0, sizeof(sev));
    sev.sigev_notify = SIGEV_SIGNAL;
    sev.sigev_signo = CACHE_SIGNAL;
    if (sigaction(CACHE_SIGNAL, &sa, NULL) < 0
        || timer_create(CLOCK_MONOTONIC, &sev, &cache_timer) < 0) {
        msg_warn("connection cache: cannot set up the idle timer: %m");
        cache_timer_state = -1;
    } else {
        cache_timer_state = 1;
    }
    return cache_timer_state;
}

static void
cache_timer_set(long seconds)
{
    struct itimerspec its;

    memset(&its, 0, sizeof(its));
    its.it_value.tv_sec = seconds;
    (void) timer_settime(cache_timer, 0, &its, NULL);
}

/* Stop the idle timer; afterwards the idle slot is ours alone. */
static void
cache_disarm(void)
{
    sigset_t block, saved;

    if (cache_timer_state != 1)
        return;
    sigemptyset(&block);
    sigaddset(&block, CACHE_SIGNAL);
    sigprocmask(SIG_BLOCK, &block, &saved);
    cache_timer_set(0);
    cache_armed = 0;
    if (cache_expired && idle.fp) {     /* the handler closed the descriptor */
        stream_free_keep_fd(idle.fp);
        idle.fp = NULL;
    }
    cache_expired = 0;
    cache_fd = -1;
    sigprocmask(SIG_SETMASK, &saved, NULL);
}

/* Close the idle session: QUIT without waiting for the reply. */
static void
cache_drop(void)
{
    if (idle.fp == NULL)
        return;
    stream_set_timeout(idle.fp, 1);
    stream_printf(idle.fp, "QUIT\r\n");
    (void) stream_flush(idle.fp);
    (void) stream_close(idle.fp);
    idle.fp = NULL;
}

static void
cache_key(const DELIVER_REQUEST *req, char *key, size_t len)
{
    snprintf(key, len, "%s\n%s", req->transport ? req->transport : "",
             req->nexthop ? req->nexthop : "");
}

int
smtp_cache_take(const DELIVER_REQUEST *req, SMTP_SESSION *sess)
{
    char    key[CACHE_KEY_MAX];
    double  now = cache_now();
    long    reuse_time = smtp_params.reuse_time_limit;

    cache_disarm();
    inuse_fp = NULL;
    if (idle.fp == NULL)
        return 0;
    cache_key(req, key, sizeof(key));
    if (strcmp(key, idle.key) != 0 || (reuse_time > 0 && now - idle.created >= reuse_time)) {
        cache_drop();
        return 0;
    }
    /* the idle limit is enforced by the timer */
    inuse = idle;
    inuse_fp = idle.fp;
    idle.fp = NULL;
    sess->fp = inuse_fp;
    snprintf(sess->namaddr, sizeof(sess->namaddr), "%s", inuse.namaddr);
    snprintf(sess->relay, sizeof(sess->relay), "%.*s, conn_use=%d",
             (int) sizeof(sess->relay) - 24, inuse.relay, inuse.uses + 1);
    sess->features = inuse.features;
    sess->size_limit = inuse.size_limit;
    return 1;
}

/* Does caching apply to this request's destination? */
static int
cache_wanted(const DELIVER_REQUEST *req)
{
    const char *list = smtp_params.cache_destinations;
    ARGV   *argv;
    int     found = 0;

    if (smtp_params.cache_on_demand)
        return 1;
    if (*list == 0 || req->nexthop == NULL)
        return 0;
    argv = argv_split(list, ", \t\r\n");
    for (size_t i = 0; i < argv->argc && !found; i++)
        found = strcasecmp(argv->argv[i], req->nexthop) == 0;
    argv_free(argv);
    return found;
}

int
smtp_cache_save(const DELIVER_REQUEST *req, SMTP_SESSION *sess)
{
    double  now = cache_now();
    long    idle_limit = smtp_params.cache_time_limit;
    long    reuse_time = smtp_params.reuse_time_limit;
    long    count_limit = smtp_params.reuse_count_limit;
    CACHE_SLOT s;

    if (sess->fp == NULL || sess->tls != NULL   /* smtp_tls_connection_reuse = no */
        || (sess->authenticated && smtp_sasl_sender_dependent())
        || idle_limit <= 0 || (sess->reply && sess->reply->code == 421)
        || stream_error(sess->fp) || !cache_wanted(req) || cache_timer_init() != 1)
        return 0;
    memset(&s, 0, sizeof(s));
    if (sess->fp == inuse_fp) {     /* a reused session: keep its history */
        s = inuse;
    } else {
        snprintf(s.namaddr, sizeof(s.namaddr), "%s", sess->namaddr);
        snprintf(s.relay, sizeof(s.relay), "%s", sess->relay);
        s.created = sess->conn_done > 0 ? sess->conn_done : now;
        s.features = sess->features;
        s.size_limit = sess->size_limit;
    }
    s.uses++;
    if ((count_limit > 0 && s.uses > count_limit)
        || (reuse_time > 0 && now - s.created >= reuse_time))
        return 0;
    cache_disarm();
    cache_drop();                   /* (there is none while a request runs) */
    cache_key(req, s.key, sizeof(s.key));
    s.fp = sess->fp;
    idle = s;
    inuse_fp = NULL;
    sess->fp = NULL;
    cache_fd = stream_fd(idle.fp);
    cache_expired = 0;
    cache_armed = 1;
    cache_timer_set(idle_limit);
    return 1;
}
