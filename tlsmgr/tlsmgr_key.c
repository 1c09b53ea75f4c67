/*
 * tlsmgr_key.c - the session ticket keys tlsmgr hands out.
 *
 * Interface: tlsmgr.h. Every smtpd process encrypts new tickets with the
 * current key and decrypts with whichever key a ticket names, so that a
 * ticket issued by one process is accepted by any other. A key is used
 * for new tickets for one session timeout
 * ($smtpd_tls_session_cache_timeout) and kept one more timeout for the
 * tickets made with it (the key before the current one); it lives in
 * memory only, so a restarted tlsmgr starts with a new key. A timeout
 * <= 0 means no tickets: no key is handed out.
 *
 * SECURITY: keys come from OpenSSL's RAND_bytes() (seeded by the
 * operating system); they are wiped when replaced.
 *
 * DIAGNOSTICS: "cannot make a session ticket key" when RAND_bytes fails.
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "msg.h"
#include "tlsmgr.h"

static TLS_TICKET_KEY tlsmgr_keys[2];   /* [0] current, [1] the one before */
static long tlsmgr_key_timeout;

void
tlsmgr_key_init(long timeout)
{
    tlsmgr_key_timeout = timeout;
}

static int
tlsmgr_key_new(time_t now)
{
    TLS_TICKET_KEY key;

    if (RAND_bytes(key.name, sizeof(key.name)) <= 0 || RAND_bytes(key.hmac, sizeof(key.hmac)) <= 0
        || RAND_bytes(key.key, sizeof(key.key)) <= 0) {
        msg_warn("cannot make a session ticket key");
        return -1;
    }
    key.expiry = now + tlsmgr_key_timeout;
    OPENSSL_cleanse(&tlsmgr_keys[1], sizeof(tlsmgr_keys[1]));
    tlsmgr_keys[1] = tlsmgr_keys[0];
    tlsmgr_keys[0] = key;
    OPENSSL_cleanse(&key, sizeof(key));
    return 0;
}

const TLS_TICKET_KEY *
tlsmgr_key_get(const unsigned char *name, time_t now)
{
    if (tlsmgr_key_timeout <= 0)
        return NULL;
    if (name == NULL) {
        if (tlsmgr_keys[0].expiry <= now && tlsmgr_key_new(now) < 0)
            return NULL;
        return &tlsmgr_keys[0];
    }
    for (int i = 0; i < 2; i++)
        if (tlsmgr_keys[i].expiry != 0
            && memcmp(tlsmgr_keys[i].name, name, TLS_TICKET_NAMELEN) == 0
            && tlsmgr_keys[i].expiry + tlsmgr_key_timeout > now)
            return &tlsmgr_keys[i];
    return NULL;
}
