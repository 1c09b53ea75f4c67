/*
 * smtpd_sasl_cyrus.c - SMTP AUTH through Cyrus SASL (libsasl2), for
 * smtpd_sasl_type = cyrus.
 *
 * Interface (smtpd_sasl.h):
 *   cyrus_sasl_init()   pre_init, as root before the chroot: the
 *                       configuration directory (cyrus_sasl_config_path,
 *                       else the library's default, /etc/postfix/sasl on
 *                       Debian) and sasl_server_init() with the
 *                       application name smtpd_sasl_path ("smtpd": the
 *                       library reads <path>/smtpd.conf: pwcheck_method,
 *                       auxprop_plugin, sasldb_path, mech_list, ...)
 *   cyrus_sasl_open()   a connection context per SMTP session (service
 *                       smtpd_sasl_service, realm smtpd_sasl_local_domain,
 *                       "addr;port" of both ends)
 *   cyrus_sasl_mechs()  the mechanisms allowed by the security options
 *                       (as Cyrus security flags: noplaintext,
 *                       noactive, nodictionary, noanonymous,
 *                       forward_secrecy, mutual_auth)
 *   cyrus_sasl_start(), cyrus_sasl_step()  one exchange step; base64 in,
 *                       base64 challenge out; the login name on success
 *                       (and after a failure when the library knows it)
 *   cyrus_sasl_close()  dispose of the context
 *
 * Failures are the library's texts (sasl_errstring: "authentication
 * failure", "user not found", ...), as Postfix reports them; SASL_TRYAGAIN
 * and SASL_UNAVAIL are temporary (454).
 *
 * SECURITY: the client's responses are base64 checked by the caller and
 * decoded here into a buffer sized from their length; the library's
 * challenges are encoded into a bounded buffer. The login name comes from
 * the library (it is the name the client gave, checked against the
 * password store); control characters are replaced with '?' before it is
 * logged or put into a header. The library's own log messages are passed
 * to msg_warn (escaped there).
 *
 * DIAGNOSTICS: "SASL per-process initialization failed" (refusal at
 * start, smtpd_sasl.c), "SASL per-connection initialization failed"
 * (warning); the library's errors as warnings.
 */
#include <sasl/sasl.h>
#include <sasl/saslutil.h>
#include <string.h>

#include "mem.h"
#include "msg.h"
#include "smtpd_sasl.h"

static sasl_conn_t *cyrus_conn;

/* The library's log callback: errors and warnings as warnings. */
static int
cyrus_sasl_log(void *context, int level, const char *message)
{
    if (level <= SASL_LOG_WARN)
        msg_warn("SASL authentication problem: %s", message);
    else if (level <= SASL_LOG_NOTE && msg_verbose)
        msg_info("SASL authentication info: %s", message);
    return SASL_OK;
}

static sasl_callback_t cyrus_callbacks[] = {
    /* the library's generic callback type: cast through void (*)(void) */
    {SASL_CB_LOG, (int (*)(void)) (void (*)(void)) cyrus_sasl_log, NULL},
    {SASL_CB_LIST_END, NULL, NULL},
};

int
cyrus_sasl_init(const char *app_name, const char *config_path)
{
    int     st;

    if (*config_path && (st = sasl_set_path(SASL_PATH_TYPE_CONFIG, (char *) config_path))
        != SASL_OK) {
        msg_warn("failed to set Cyrus SASL configuration path: \"%s\"", config_path);
        return -1;
    }
    if ((st = sasl_server_init(cyrus_callbacks, app_name)) != SASL_OK) {
        msg_warn("SASL per-process initialization failed: %s",
                 sasl_errstring(st, NULL, NULL));
        return -1;
    }
    return 0;
}

int
cyrus_sasl_open(const char *service, const char *realm, const char *lip,
                const char *lport, const char *rip, const char *rport)
{
    char   *local = *lip ? mem_printf("%s;%s", lip, lport) : NULL;
    char   *remote = rip && rport && *rport ? mem_printf("%s;%s", rip, rport) : NULL;
    int     st;

    cyrus_sasl_close();
    st = sasl_server_new(service, NULL, *realm ? realm : NULL, local, remote, NULL, 0,
                         &cyrus_conn);
    mem_free(local);
    mem_free(remote);
    if (st != SASL_OK) {
        msg_warn("SASL per-connection initialization failed: %s",
                 sasl_errstring(st, NULL, NULL));
        cyrus_conn = NULL;
        return -1;
    }
    return 0;
}

int
cyrus_sasl_is_open(void)
{
    return cyrus_conn != NULL;
}

void
cyrus_sasl_close(void)
{
    if (cyrus_conn != NULL)
        sasl_dispose(&cyrus_conn);
    cyrus_conn = NULL;
}

/* The security options as Cyrus flags, set on the context. */
static void
cyrus_sasl_props(const SASL_SEC *sec)
{
    sasl_security_properties_t props;
    int     bits = sec->forbid | sec->require;

    memset(&props, 0, sizeof(props));
    props.min_ssf = 0;
    props.max_ssf = 0;                  /* no SASL security layer: TLS does that */
    props.maxbufsize = 0;
    props.security_flags = ((bits & DOVECOT_MECH_PLAINTEXT) ? SASL_SEC_NOPLAINTEXT : 0)
        | ((bits & DOVECOT_MECH_ACTIVE) ? SASL_SEC_NOACTIVE : 0)
        | ((bits & DOVECOT_MECH_DICTIONARY) ? SASL_SEC_NODICTIONARY : 0)
        | ((bits & DOVECOT_MECH_ANONYMOUS) ? SASL_SEC_NOANONYMOUS : 0)
        | ((bits & DOVECOT_MECH_FORWARD_SECRECY) ? SASL_SEC_FORWARD_SECRECY : 0)
        | ((bits & DOVECOT_MECH_MUTUAL_AUTH) ? SASL_SEC_MUTUAL_AUTH : 0);
    (void) sasl_setprop(cyrus_conn, SASL_SEC_PROPS, &props);
}

/* The mechanisms, as the security options in force allow; the options
 * also apply to the exchange that follows (the library checks them). */
void
cyrus_sasl_mechs(const SASL_SEC *sec, ARGV *list)
{
    const char *mechs;
    unsigned len;
    int     count;

    if (cyrus_conn == NULL)
        return;
    cyrus_sasl_props(sec);
    if (sasl_listmech(cyrus_conn, NULL, "", " ", "", &mechs, &len, &count) != SASL_OK)
        return;
    ARGV   *words = argv_split(mechs, " ");
    for (size_t i = 0; i < words->argc; i++)
        argv_add(list, words->argv[i]);
    argv_free(words);
}

/* The login name the library knows (printable), or "". */
static void
cyrus_sasl_user(VSTRING *user)
{
    const void *name = NULL;

    vstring_truncate(user, 0);
    if (sasl_getprop(cyrus_conn, SASL_USERNAME, &name) == SASL_OK && name != NULL)
        for (const unsigned char *cp = name; *cp; cp++)
            vstring_addch(user, *cp < 0x20 || *cp == 0x7f ? '?' : *cp);
}

/* The library's result, with its output (a challenge) encoded. */
static int
cyrus_sasl_result(int st, const char *out, unsigned outlen, VSTRING *chal, VSTRING *user,
                  VSTRING *reason)
{
    unsigned enclen;
    char   *enc;

    vstring_truncate(chal, 0);
    if (st == SASL_CONTINUE) {
        enc = mem_alloc((size_t) outlen / 3 * 4 + 8);
        if (sasl_encode64(out, outlen, enc, outlen / 3 * 4 + 8, &enclen) != SASL_OK) {
            mem_free(enc);
            return SMTPD_SASL_ERROR;
        }
        vstring_ncpy(chal, enc, enclen);
        mem_free(enc);
        return LEN(chal) == enclen ? SMTPD_SASL_CONT : SMTPD_SASL_ERROR;
    }
    cyrus_sasl_user(user);
    if (st == SASL_OK)
        return LEN(user) > 0 ? SMTPD_SASL_OK : SMTPD_SASL_ERROR;
    vstring_strcpy(reason, sasl_errstring(st, NULL, NULL));
    return st == SASL_TRYAGAIN || st == SASL_UNAVAIL ? SMTPD_SASL_TEMP : SMTPD_SASL_FAIL;
}

/* Decode the client's base64 (checked by the caller); NULL: bad data. */
static char *
cyrus_sasl_decode(const char *resp, unsigned *len)
{
    size_t  max = strlen(resp) / 4 * 3 + 4;
    char   *buf = mem_alloc(max);

    if (sasl_decode64(resp, (unsigned) strlen(resp), buf, (unsigned) max, len) != SASL_OK) {
        mem_free(buf);
        return NULL;
    }
    return buf;
}

int
cyrus_sasl_start(const char *mech, const char *resp, VSTRING *chal, VSTRING *user,
                 VSTRING *reason)
{
    const char *out = NULL;
    unsigned outlen = 0, inlen = 0;
    char   *in = NULL;
    int     st;

    if (resp && (in = cyrus_sasl_decode(resp, &inlen)) == NULL) {
        vstring_strcpy(reason, "Invalid base64 data in initial response");
        return SMTPD_SASL_FAIL;
    }
    st = sasl_server_start(cyrus_conn, mech, in, inlen, &out, &outlen);
    mem_free(in);
    return cyrus_sasl_result(st, out, outlen, chal, user, reason);
}

int
cyrus_sasl_step(const char *resp, VSTRING *chal, VSTRING *user, VSTRING *reason)
{
    const char *out = NULL;
    unsigned outlen = 0, inlen = 0;
    char   *in;
    int     st;

    if ((in = cyrus_sasl_decode(resp, &inlen)) == NULL) {
        vstring_strcpy(reason, "Invalid base64 data in continued response");
        return SMTPD_SASL_ABORT_FAIL;
    }
    st = sasl_server_step(cyrus_conn, in, inlen, &out, &outlen);
    mem_free(in);
    return cyrus_sasl_result(st, out, outlen, chal, user, reason);
}
