/*
 * tlsmgr_prng.c - tlsmgr's pseudo random number generator inputs: the
 * external entropy source and the PRNG exchange file.
 *
 * Interface: tlsmgr.h. tlsmgr_prng_open() in pre_init (with mail_owner's
 * effective ids, before any chroot) reads the tls_random_* parameters,
 * opens $tls_random_source and
 * $tls_random_exchange_name (created when missing, 0600), adds what they
 * hold to OpenSSL's generator of this process, and rewrites the exchange
 * file (its length is 1024 bytes, as Postfix keeps it). tlsmgr_prng_timers()
 * in post_init: the exchange file is rewritten every
 * $tls_random_prng_update_period and when tlsmgr exits normally, and the
 * source is read again ($tls_random_bytes, at most 255 from a device)
 * after a random time of at most $tls_random_reseed_period.
 *
 * What this is worth with OpenSSL 3: every process seeds and reseeds its
 * generator from the kernel by itself; the bytes added here are extra
 * input to tlsmgr's own generator, from which it makes the session ticket
 * keys. smtpd and smtp processes ask tlsmgr for no seed
 * (tls_daemon_random_bytes is not used). Sources: "dev:/path" (a device,
 * read without blocking) and a plain file name (read at start-up only);
 * "egd:/path" (an EGD socket) is not supported (a warning, no source).
 *
 * SECURITY: the source and the exchange file are named in main.cf (root's
 * file) and opened without root privileges; their bytes are only ever
 * mixed into the generator, never trusted as random on their own.
 *
 * DIAGNOSTICS: warnings for a source or exchange file that cannot be
 * opened, read or written, and for an EGD source; nothing is fatal.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "config.h"
#include "events.h"
#include "msg.h"
#include "tlsmgr.h"

#define TLSMGR_PRNG_EXCH_SIZE   1024    /* bytes of the exchange file */
#define TLSMGR_PRNG_DEV_MAX     255     /* bytes read from a device at once */

static struct {
    int     source_fd;
    int     source_is_dev;
    const char *source;
    long    bytes;
    int     exch_fd;
    const char *exch_name;
    long    update_period;
    long    reseed_period;
} prng = {-1, 0, "", 0, -1, "", 0, 0};

static const CONFIG_VAR tlsmgr_prng_vars[] = {
    CONFIG_VAR_STR("tls_random_source", &prng.source),
    CONFIG_VAR_INT("tls_random_bytes", &prng.bytes),
    CONFIG_VAR_STR("tls_random_exchange_name", &prng.exch_name),
    CONFIG_VAR_TIME("tls_random_prng_update_period", &prng.update_period),
    CONFIG_VAR_TIME("tls_random_reseed_period", &prng.reseed_period),
    CONFIG_VAR_END,
};

/* Read up to prng.bytes from the source into the generator. */
static void
tlsmgr_prng_read_source(void)
{
    unsigned char buf[TLSMGR_PRNG_DEV_MAX];
    long    want = prng.bytes;
    ssize_t n;

    if (prng.source_fd < 0)
        return;
    if (want > (long) sizeof(buf))
        want = sizeof(buf);
    if (want <= 0)
        return;
    if ((n = read(prng.source_fd, buf, (size_t) want)) < 0) {
        msg_warn("read entropy source %s: %m", prng.source);
        return;
    }
    if (n > 0)
        RAND_add(buf, (int) n, (double) n);
    OPENSSL_cleanse(buf, sizeof(buf));
}

static void
tlsmgr_prng_open_source(const char *source)
{
    if (*source == 0)
        return;
    if (strncmp(source, "egd:", 4) == 0) {
        msg_warn("tls_random_source: EGD sources are not supported: ignoring \"%s\"", source);
        return;
    }
    prng.source_is_dev = strncmp(source, "dev:", 4) == 0;
    if (prng.source_is_dev)
        source += 4;
    if ((prng.source_fd = open(source, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0)
        msg_warn("cannot open entropy source %s: %m", prng.source);
}

/* Rewrite the exchange file with fresh output of the generator. */
void
tlsmgr_prng_update(void)
{
    unsigned char buf[TLSMGR_PRNG_EXCH_SIZE];

    if (prng.exch_fd < 0 || RAND_bytes(buf, sizeof(buf)) <= 0)
        return;
    if (flock(prng.exch_fd, LOCK_EX) < 0
        || pwrite(prng.exch_fd, buf, sizeof(buf), 0) != (ssize_t) sizeof(buf)
        || ftruncate(prng.exch_fd, sizeof(buf)) < 0 || fsync(prng.exch_fd) < 0)
        msg_warn("write PRNG exchange file %s: %m", prng.exch_name);
    (void) flock(prng.exch_fd, LOCK_UN);
    OPENSSL_cleanse(buf, sizeof(buf));
}

static void
tlsmgr_prng_open_exchange(const char *name)
{
    unsigned char buf[TLSMGR_PRNG_EXCH_SIZE];
    ssize_t n;

    if (*name == 0)
        return;
    if ((prng.exch_fd = open(name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0) {
        msg_warn("cannot open PRNG exchange file %s: %m", name);
        return;
    }
    if ((n = pread(prng.exch_fd, buf, sizeof(buf), 0)) > 0)
        RAND_seed(buf, (int) n);
    OPENSSL_cleanse(buf, sizeof(buf));
}

void
tlsmgr_prng_open(void)
{
    config_read_vars(tlsmgr_prng_vars);
    tlsmgr_prng_open_source(prng.source);
    tlsmgr_prng_read_source();
    if (prng.source_fd >= 0 && !prng.source_is_dev) {
        (void) close(prng.source_fd);           /* a file is read once */
        prng.source_fd = -1;
    }
    tlsmgr_prng_open_exchange(prng.exch_name);
    tlsmgr_prng_update();
}

static void
tlsmgr_prng_update_event(void *ctx)
{
    tlsmgr_prng_update();
    event_timer(tlsmgr_prng_update_event, NULL, (double) prng.update_period);
}

/* The next reseed after a random time in [1, reseed_period] seconds. */
static void
tlsmgr_prng_reseed_event(void *ctx)
{
    unsigned int r = 0;

    if (ctx != NULL)
        tlsmgr_prng_read_source();
    (void) RAND_bytes((unsigned char *) &r, sizeof(r));
    event_timer(tlsmgr_prng_reseed_event, "again",
                (double) (1 + r % (unsigned long) prng.reseed_period));
}

static void
tlsmgr_prng_exit(void)
{
    tlsmgr_prng_update();
}

void
tlsmgr_prng_timers(void)
{
    if (prng.exch_fd >= 0 && prng.update_period > 0) {
        event_timer(tlsmgr_prng_update_event, NULL, (double) prng.update_period);
        atexit(tlsmgr_prng_exit);
    }
    if (prng.source_fd >= 0 && prng.reseed_period > 0)
        tlsmgr_prng_reseed_event(NULL);
}
