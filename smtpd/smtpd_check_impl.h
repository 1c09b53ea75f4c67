/*
 * smtpd_check_impl.h - what smtpd_check.c shares with the files that
 * implement some of its restrictions (smtpd_check_dns.c,
 * smtpd_check_verify.c, smtpd_check_tls.c). Internal to
 * smtpd's access checks; the rest of smtpd uses smtpd_check.h.
 *
 * A restriction returns CHECK_DUNNO (go on), CHECK_OK (permit: the
 * current list ends) or CHECK_REJECT (ctx->reply holds the reply).
 */
#ifndef SMTPD_CHECK_IMPL_H
#define SMTPD_CHECK_IMPL_H

#include "maps.h"
#include "resolve.h"
#include "smtpd.h"

#define CHECK_DUNNO   0
#define CHECK_OK      1
#define CHECK_REJECT  2

#define CHECK_MAX_DEPTH 5

/* Fixed in Postfix too: reject_unauth_pipelining. */
#define CHECK_UNAUTH_PIPELINING_CODE 503

typedef struct CHECK_CTX {
    SMTPD_STATE *state;
    const char *rcpt;
    VSTRING *reply;
    RESOLVE_REPLY resolved;
    int     resolve_status;     /* 0 not yet, 1 ok, -1 failed */
    const char *reply_name;     /* "<name>" part of a reply */
    const char *reply_class;    /* "Recipient address", ... */
    const char *stage_acl;      /* check_*_access of a bare type:table */
    int     warn_next;          /* warn_if_reject before this restriction */
    int     no_log;             /* the caller logs */
    VSTRING *defer_if_permit;   /* pending replies (empty: none) */
    VSTRING *defer_if_reject;
} CHECK_CTX;

/* smtpd_check.c */
int     check_reject(CHECK_CTX *ctx, long code, const char *dsn, const char *fmt, ...)
            __attribute__((format(printf, 4, 5)));
int     check_lookup_failed(CHECK_CTX *ctx, const char *what);
int     check_access_value(CHECK_CTX *ctx, const char *value, int depth);

/* smtpd_check_dns.c: syntax and DNS-based restrictions */
int     check_non_fqdn(CHECK_CTX *ctx, const char *addr, const char *what);
int     check_helo_syntax(CHECK_CTX *ctx, int fqdn);
int     check_unknown_domain(CHECK_CTX *ctx, const char *addr, const char *class, int is_sender);
int     check_rbl(CHECK_CTX *ctx, const char *name, const char *zone);
int     check_unknown_client(CHECK_CTX *ctx, int reverse);

/* smtpd_check_verify.c: reject_unverified_recipient/sender */
int     check_unverified(CHECK_CTX *ctx, const char *addr, int is_sender);
/* smtpd_check_tls.c: client certificates */
void    check_tls_preopen(void);
int     check_tls_clientcerts(CHECK_CTX *ctx, int all);
int     check_ccert_access(CHECK_CTX *ctx, MAPS *table, int depth);

#endif
