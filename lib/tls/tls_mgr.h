/*
 * tls_mgr.h - the tlsmgr protocol and its client: TLS session caches and
 * session ticket keys shared by every smtpd (and every smtp, lmtp)
 * process of an instance.
 *
 * Protocol (attribute lists, attr.h, on private/$tlsmgr_service_name):
 *
 *   S: {protocol=tlsmgr}
 *   C: {request=policy, cache_type=smtpd|smtp|lmtp}
 *   S: {status=0, cachable=0|1}       is there a cache database for it?
 *   C: {request=lookup, cache_type=T, cache_id=ID}
 *   S: {status=0, session=HEX}        or {status=-2} (none, or expired)
 *   C: {request=update, cache_type=T, cache_id=ID, session=HEX}
 *   S: {status=0}
 *   C: {request=delete, cache_type=T, cache_id=ID}
 *   S: {status=0}
 *   C: {request=tktkey, keyname=HEX}  keyname empty: the key to encrypt
 *                                     new tickets with; else that key
 *   S: {status=0, keyname=HEX, keybuf=HEX, expiry=EPOCH} or {status=-2}
 *
 * status: TLS_MGR_STAT_OK, TLS_MGR_STAT_ERR (a malformed request),
 * TLS_MGR_STAT_FAIL (not found, not cached, disabled). A session is the
 * DER form of an SSL_SESSION (i2d_SSL_SESSION), carried in hexadecimal
 * since attribute values are text. tlsmgr never looks inside it.
 * keybuf is the HMAC-SHA256 key (TLS_TICKET_MACLEN bytes) followed by the
 * cipher key (TLS_TICKET_KEYLEN bytes; a shorter cipher uses its first
 * bytes). expiry is when the key stops being used for new tickets; it is
 * still accepted for decryption for one more session timeout.
 *
 * Client (one connection per process, kept open, as anvil_clnt.c):
 *   tls_mgr_init(path, timeout)   where tlsmgr listens ("private/tlsmgr",
 *                                 relative to queue_directory, the
 *                                 working directory of every daemon)
 *   tls_mgr_cachable() (the policy request, asked once per cache type),
 *   tls_mgr_lookup(), tls_mgr_update(),
 *   tls_mgr_delete(), tls_mgr_key()
 * Every call returns a TLS_MGR_STAT_*; a tlsmgr that cannot be reached
 * is TLS_MGR_STAT_FAIL, then calls fail at once for TLS_MGR_BACKOFF
 * seconds (one warning per back-off), so a missing tlsmgr costs one
 * connect attempt, not one per handshake.
 *
 * SECURITY: tlsmgr's replies are checked (hex of bounded length, key
 * sizes exact); a malformed reply is a failure. Sessions from the cache
 * are parsed by OpenSSL (d2i_SSL_SESSION) only; they were written by
 * processes of the same instance through a private (mail_owner) socket.
 *
 * DIAGNOSTICS: "warning: problem talking to service private/tlsmgr: ..."
 * once per back-off; nothing is fatal.
 */
#ifndef POSTHORN_TLS_MGR_H
#define POSTHORN_TLS_MGR_H

#include <stddef.h>
#include <time.h>

#include "hex.h"
#include "vstring.h"

#define TLS_MGR_PROTOCOL    "tlsmgr"

#define TLS_MGR_REQ_POLICY  "policy"
#define TLS_MGR_REQ_LOOKUP  "lookup"
#define TLS_MGR_REQ_UPDATE  "update"
#define TLS_MGR_REQ_DELETE  "delete"
#define TLS_MGR_REQ_TKTKEY  "tktkey"

#define TLS_MGR_ATTR_REQ       "request"
#define TLS_MGR_ATTR_STATUS    "status"
#define TLS_MGR_ATTR_TYPE      "cache_type"
#define TLS_MGR_ATTR_ID        "cache_id"
#define TLS_MGR_ATTR_SESSION   "session"
#define TLS_MGR_ATTR_CACHABLE  "cachable"
#define TLS_MGR_ATTR_KEYNAME   "keyname"
#define TLS_MGR_ATTR_KEYBUF    "keybuf"
#define TLS_MGR_ATTR_EXPIRY    "expiry"

#define TLS_MGR_STAT_OK     0
#define TLS_MGR_STAT_ERR    (-1)
#define TLS_MGR_STAT_FAIL   (-2)

#define TLS_MGR_ID_MAX      1024            /* cache_id bytes */
#define TLS_MGR_SESSION_MAX (16 * 1024)     /* session bytes (hex: twice) */
#define TLS_MGR_TIMEOUT     10              /* seconds per exchange */
#define TLS_MGR_BACKOFF     60              /* seconds without requests after a failure */

#define TLS_TICKET_NAMELEN  16
#define TLS_TICKET_MACLEN   32
#define TLS_TICKET_KEYLEN   32

typedef struct TLS_TICKET_KEY {
    unsigned char name[TLS_TICKET_NAMELEN];
    unsigned char hmac[TLS_TICKET_MACLEN];
    unsigned char key[TLS_TICKET_KEYLEN];
    time_t  expiry;
} TLS_TICKET_KEY;

void    tls_mgr_init(const char *path, int timeout);
/* 1 when tlsmgr has a database for cache_type, 0 when not, -1 unreachable. */
int     tls_mgr_cachable(const char *cache_type);
int     tls_mgr_lookup(const char *cache_type, const char *cache_id, VSTRING *session);
int     tls_mgr_update(const char *cache_type, const char *cache_id,
                       const unsigned char *session, size_t len);
int     tls_mgr_delete(const char *cache_type, const char *cache_id);
/* name NULL: the current key for new tickets; else the key of that name. */
int     tls_mgr_key(const unsigned char *name, TLS_TICKET_KEY *key);
void    tls_mgr_close(void);

/* A cache id or session text as tlsmgr accepts it: 1 or 0. */
int     tls_mgr_valid_id(const char *id);
int     tls_mgr_valid_hex(const char *hex, size_t max_bytes);

#endif
