/*
 * policy_spf_check.c - one SPF evaluation with libspf2.
 *
 *   policy_spf_check_init()
 *       an SPF server with libspf2's caching resolver (res_query through
 *       /etc/resolv.conf), kept for the life of the process.
 *   policy_spf_check(ctx, ip, helo, sender, out)
 *       evaluates sender (an address; "postmaster@<helo>" for the HELO
 *       identity) for the client ip; out gets the result and the reason
 *       text policyd-spf (pyspf) gives: "sender SPF authorized", "SPF
 *       fail - not authorized", "domain owner discourages use of this
 *       host", "access neither permitted nor denied", "SPF Permanent
 *       Error: <libspf2's message>", "SPF Temporary Error: <...>". The
 *       wording of the two error messages is libspf2's, not pyspf's.
 *       An address libspf2 cannot use gives permerror.
 *
 * SECURITY: the DNS data is untrusted; libspf2 parses it (Debian's
 * 1.2.10, which carries the CVE-2021-20314 fix). Only the result
 * code and libspf2's fixed error strings leave this module; explanation
 * (exp=) texts from DNS are not used.
 *
 * DIAGNOSTICS: a server that cannot be created is fatal; libspf2's own
 * errors are fatal, its warnings are warnings, its info and debug lines
 * are logged with -v; per check nothing (the caller logs the decision).
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <spf2/spf.h>

#include "msg.h"
#include "policy_spf.h"

/* libspf2's messages: to our log, never to stderr (the smtpd connection). */
__attribute__((noreturn)) static void
check_error(const char *file, int line, const char *text)
{
    msg_fatal("libspf2: %s", text);
}

static void
check_warning(const char *file, int line, const char *text)
{
    msg_warn("libspf2: %s", text);
}

static void
check_info(const char *file, int line, const char *text)
{
    if (msg_verbose)
        msg_info("libspf2: %s", text);
}

void   *
policy_spf_check_init(void)
{
    SPF_server_t *server;

    SPF_error_handler = check_error;
    SPF_warning_handler = check_warning;
    SPF_info_handler = check_info;
    SPF_debug_handler = check_info;
    if ((server = SPF_server_new(SPF_DNS_CACHE, 0)) == NULL)

        msg_fatal("cannot create the libspf2 SPF server");
    return server;
}

void
policy_spf_check_free(void *ctx)
{
    SPF_server_free((SPF_server_t *) ctx);
}

static POLICY_SPF_CODE
check_code(SPF_result_t result)
{
    switch (result) {
    case SPF_RESULT_PASS: return SPF_CODE_PASS;
    case SPF_RESULT_FAIL: return SPF_CODE_FAIL;
    case SPF_RESULT_SOFTFAIL: return SPF_CODE_SOFTFAIL;
    case SPF_RESULT_NEUTRAL: return SPF_CODE_NEUTRAL;
    case SPF_RESULT_NONE: return SPF_CODE_NONE;
    case SPF_RESULT_TEMPERROR: return SPF_CODE_TEMPERROR;
    default: return SPF_CODE_PERMERROR;
    }
}

static void
check_reason(SPF_response_t *resp, POLICY_SPF_RESULT *out)
{
    static const char *const reasons[] = {
        [SPF_CODE_NONE] = "", [SPF_CODE_NEUTRAL] = "access neither permitted nor denied",
        [SPF_CODE_PASS] = "sender SPF authorized", [SPF_CODE_FAIL] = "SPF fail - not authorized",
        [SPF_CODE_SOFTFAIL] = "domain owner discourages use of this host",
    };
    SPF_errcode_t err = resp ? SPF_response_errcode(resp) : SPF_E_INTERNAL_ERROR;

    if (out->code == SPF_CODE_TEMPERROR || out->code == SPF_CODE_PERMERROR)
        snprintf(out->reason, sizeof(out->reason), "SPF %s Error: %s",
                 out->code == SPF_CODE_TEMPERROR ? "Temporary" : "Permanent",
                 err != SPF_E_SUCCESS ? SPF_strerror(err) : "error in processing");
    else
        snprintf(out->reason, sizeof(out->reason), "%s", reasons[out->code]);
}

/* The client address: IPv4 (also as ::ffff:a.b.c.d) or IPv6; -1 if neither. */
static int
check_set_ip(SPF_request_t *req, const char *ip)
{
    struct in_addr a4;
    struct in6_addr a6;

    if (strncmp(ip, "::ffff:", 7) == 0 && inet_pton(AF_INET, ip + 7, &a4) == 1)
        ip += 7;
    if (inet_pton(AF_INET, ip, &a4) == 1)
        return SPF_request_set_ipv4(req, a4) == SPF_E_SUCCESS ? 0 : -1;
    if (inet_pton(AF_INET6, ip, &a6) == 1)
        return SPF_request_set_ipv6(req, a6) == SPF_E_SUCCESS ? 0 : -1;
    return -1;
}

void
policy_spf_check(void *ctx, const char *ip, const char *helo, const char *sender,
                 POLICY_SPF_RESULT *out)
{
    SPF_request_t *req = SPF_request_new((SPF_server_t *) ctx);
    SPF_response_t *resp = NULL;

    out->code = SPF_CODE_PERMERROR;
    if (check_set_ip(req, ip) == 0 && SPF_request_set_helo_dom(req, helo) == SPF_E_SUCCESS
        && SPF_request_set_env_from(req, sender) == 0) {
        SPF_request_query_mailfrom(req, &resp);
        if (resp != NULL)
            out->code = check_code(SPF_response_result(resp));
    }
    check_reason(resp, out);
    if (resp != NULL)
        SPF_response_free(resp);
    SPF_request_free(req);
}
