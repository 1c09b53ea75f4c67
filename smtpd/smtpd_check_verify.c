/*
 * smtpd_check_verify.c - reject_unverified_recipient and
 * reject_unverified_sender: ask the verify service (verify_clnt.h)
 * whether an address is deliverable.
 *
 * Interface (smtpd_check_impl.h): check_unverified(); its parameters are
 * read once, at the first use. smtpd_check.c only dispatches here.
 *
 * The answer is polled address_verify_poll_count times,
 * address_verify_poll_delay apart, while the probe is in progress. Then:
 *   deliverable         no verdict (the next restriction decides)
 *   undeliverable       unverified_{recipient,sender}_reject_code
 *                       "<a>: Recipient address rejected: undeliverable
 *                       address: <why>" (the text of
 *                       unverified_*_reject_reason when set; a code of
 *                       250 accepts the address anyway)
 *   in progress, or     unverified_*_defer_code "... unverified address:
 *   failed for now      <why>", applied through
 *                       unverified_*_tempfail_action
 *   service unavailable 450 "... address verification problem", through
 *                       the same action
 * with x.1.1 for recipients and x.1.7 for senders. The tempfail action is
 * defer_if_permit (the default: the reply stands unless a later
 * restriction rejects), defer_if_reject, or defer/reject (at once).
 *
 * SECURITY: the address is the client's; the verify service bounds and
 * checks it. The waiting is bounded by the poll parameters.
 *
 * DIAGNOSTICS: an unknown tempfail action is a warning (then
 * defer_if_permit); a service that does not answer is verify_clnt's
 * warning.
 */
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config.h"
#include "msg.h"
#include "verify_clnt.h"
#include "smtpd_check_impl.h"

static long var_poll_count;
static long var_poll_delay;
static long var_rcpt_reject_code;
static long var_rcpt_defer_code;
static const char *var_rcpt_tempfail;
static const char *var_rcpt_reason;
static long var_sender_reject_code;
static long var_sender_defer_code;
static const char *var_sender_tempfail;
static const char *var_sender_reason;

static const CONFIG_VAR check_verify_vars[] = {
    CONFIG_VAR_INT("address_verify_poll_count", &var_poll_count),
    CONFIG_VAR_TIME("address_verify_poll_delay", &var_poll_delay),
    CONFIG_VAR_INT("unverified_recipient_reject_code", &var_rcpt_reject_code),
    CONFIG_VAR_INT("unverified_recipient_defer_code", &var_rcpt_defer_code),
    CONFIG_VAR_STR("unverified_recipient_tempfail_action", &var_rcpt_tempfail),
    CONFIG_VAR_STR("unverified_recipient_reject_reason", &var_rcpt_reason),
    CONFIG_VAR_INT("unverified_sender_reject_code", &var_sender_reject_code),
    CONFIG_VAR_INT("unverified_sender_defer_code", &var_sender_defer_code),
    CONFIG_VAR_STR("unverified_sender_tempfail_action", &var_sender_tempfail),
    CONFIG_VAR_STR("unverified_sender_reject_reason", &var_sender_reason),
    CONFIG_VAR_END,
};

static void
check_verify_init(void)
{
    static int ready;

    if (!ready)
        config_read_vars(check_verify_vars);
    ready = 1;
}

/* A temporary verdict through the tempfail action. */
static int
check_verify_tempfail(CHECK_CTX *ctx, const char *action, long code, const char *dsn,
                      const char *addr, const char *class, const char *text)
{
    VSTRING *slot;

    if (strcasecmp(action, "defer") == 0 || strcasecmp(action, "reject") == 0)
        return check_reject(ctx, code, dsn, "<%s>: %s rejected: %s", addr, class, text);
    if (strcasecmp(action, "defer_if_reject") == 0) {
        slot = ctx->defer_if_reject;
    } else {
        if (strcasecmp(action, "defer_if_permit") != 0)
            msg_warn("unknown tempfail action \"%s\": using defer_if_permit", action);
        slot = ctx->defer_if_permit;
    }
    vstring_sprintf(slot, "%ld 4%s <%s>: %s rejected: %s", code >= 400 && code < 500 ? code : 450,
                    dsn + 1, addr, class, text);
    return CHECK_DUNNO;
}

/* Ask the verify service, waiting a little while a probe is pending. */
static int
check_verify_query(const char *addr, int *addr_status, VSTRING *why)
{
    int     rc;

    for (long count = 1;; count++) {
        rc = verify_clnt_query(addr, addr_status, why);
        if (rc != VERIFY_STAT_OK || *addr_status != VERIFY_ADDR_TODO || count >= var_poll_count)
            return rc;
        sleep((unsigned) var_poll_delay);
    }
}

int
check_unverified(CHECK_CTX *ctx, const char *addr, int is_sender)
{
    const char *class = is_sender ? "Sender address" : "Recipient address";
    const char *action, *reason;
    long    rcode, dcode;
    VSTRING *why;
    VSTRING *text;
    int     addr_status, st;

    if (addr == NULL || *addr == 0)
        return CHECK_DUNNO;
    check_verify_init();
    action = is_sender ? var_sender_tempfail : var_rcpt_tempfail;
    reason = is_sender ? var_sender_reason : var_rcpt_reason;
    rcode = is_sender ? var_sender_reject_code : var_rcpt_reject_code;
    dcode = is_sender ? var_sender_defer_code : var_rcpt_defer_code;
    why = vstring_alloc(256);
    text = vstring_alloc(256);
    if (check_verify_query(addr, &addr_status, why) != VERIFY_STAT_OK) {
        st = check_verify_tempfail(ctx, action, 450, is_sender ? "4.1.7" : "4.1.1", addr, class,
                                   "address verification problem");
    } else if (addr_status == VERIFY_ADDR_OK || (addr_status == VERIFY_ADDR_BOUNCE && rcode == 250)) {
        st = CHECK_DUNNO;
    } else if (addr_status == VERIFY_ADDR_BOUNCE) {
        if (*reason)
            vstring_strcpy(text, reason);
        else
            vstring_sprintf(text, "undeliverable address: %s", STR(why));
        st = check_reject(ctx, rcode, is_sender ? "5.1.7" : "5.1.1", "<%s>: %s rejected: %s",
                          addr, class, STR(text));
    } else {
        vstring_sprintf(text, "unverified address: %s", STR(why));
        st = check_verify_tempfail(ctx, action, dcode, is_sender ? "4.1.7" : "4.1.1", addr,
                                   class, STR(text));
    }
    vstring_free(why);
    vstring_free(text);
    return st;
}
