/*
 * smtp_tls.c - TLS in the SMTP/LMTP client: levels, policy, handshake.
 *
 * Interface (smtp.h):
 *   smtp_tls_init(lmtp)      pre_init, as root before any chroot: read the
 *                            smtp_tls_* (lmtp_tls_*) parameters, load the
 *                            CA file and CA directory (lib/tls)
 *   smtp_tls_policy()        the policy for one next hop: the level and
 *                            the names the certificate must match
 *   smtp_tls_policy_free()
 *   smtp_tls_wrapper()       smtp_tls_wrappermode: TLS before the greeting
 *   smtp_tls_start()         the handshake after "220" to STARTTLS (or at
 *                            once in wrapper mode) and the certificate check
 *
 * Levels as Postfix: none; may (STARTTLS when offered, plain text when
 * not; a failed handshake is retried in plain text on a new connection);
 * encrypt (no mail without TLS: "TLS is required, but was not offered by
 * host ..."); verify (the certificate must chain to smtp_tls_CAfile /
 * smtp_tls_CApath and match smtp_tls_verify_cert_match, by default the
 * server's host name); secure (the same with smtp_tls_secure_cert_match,
 * by default "nexthop, dot-nexthop"). When smtp_tls_security_level is
 * empty the legacy smtp_enforce_tls (verify with smtp_tls_enforce_peername,
 * else encrypt) and smtp_use_tls (may) decide. smtp_tls_policy_maps is
 * looked up with the next hop as written ("example.com", "[host]:port"),
 * then for a domain its parent domains as ".parent"; the value is a level
 * and optional "match=name:name", "protocols=...", "ciphers=grade".
 * "dane" and "dane-only" are resolved per MX host by smtp_dane.c into
 * may, encrypt, or encrypt with TLSA records (pol->dane: the certificate
 * must match one, else "Server certificate not trusted"; a match is
 * "Verified", or "Trusted" after an unvalidated MX answer). An invalid
 * level defers the mail (fail closed). fingerprint:
 * no CA, no names, no expiry check; the server certificate's fingerprint
 * or public-key fingerprint (smtp_tls_fingerprint_digest, computed in
 * lib/tls) must be one in the policy's match= attributes ("|" between
 * them, several match= add up) or else smtp_tls_fingerprint_cert_match;
 * otherwise the mail is deferred "Server certificate not verified".
 *
 * Protocols and ciphers: smtp_tls_protocols / smtp_tls_ciphers for may,
 * the "mandatory" ones from encrypt up; a grade selects
 * tls_<grade>_cipherlist. TLS sessions are not kept in the connection
 * cache (Postfix's smtp_tls_connection_reuse = no). With
 * smtp_tls_session_cache_database (lmtp_...) set, tlsmgr keeps the
 * sessions, so any smtp process offers the last session made with a
 * server under the same policy again (lib/tls tls_scache.c).
 *
 * SECURITY: verify, secure and fingerprint fail closed: a certificate that does not
 * chain to a configured CA, or whose names do not match, stops the
 * session before MAIL FROM, and the next address is tried. Postfix 3.7
 * gives "Server certificate not verified" in both cases (checked against
 * Debian's postfix), and so does posthorn. No plain-text
 * fallback above "may". The server's certificate is parsed by OpenSSL only.
 *
 * DIAGNOSTICS: "Untrusted|Trusted|Verified TLS connection established to
 * host[addr]:port: TLSv1.3 with cipher ..." at smtp_tls_loglevel >= 1;
 * "host[addr]:port: subject_CN=..., issuer_CN=..., fingerprint=...,
 * pkey_fingerprint=..." at 2; "server certificate verification failed
 * for ...: num=65:no matching DANE TLSA records" for a fingerprint that
 * does not match;
 * warnings for an invalid level or policy entry; lib/tls's handshake and
 * certificate messages.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "maps.h"
#include "mem.h"
#include "msg.h"
#include "smtp.h"
#include "tls.h"

static struct {
    const char *level;
    int     use_tls;
    int     enforce_tls;
    int     enforce_peername;
    int     wrappermode;
    long    loglevel;
    long    starttls_timeout;
    const char *verify_match;
    const char *secure_match;
    const char *policy_maps;
    const char *protocols;
    const char *mand_protocols;
    const char *ciphers;
    const char *mand_ciphers;
    const char *fpt_match;
    const char *fpt_digest;
    TLS_CLIENT_INIT files;
} tp;

static const char *tls_cipherlists[5];
static const char *var_tlsmgr_service;
static const char *const tls_grades[5] = {"high", "medium", "low", "export", "null"};

static const CONFIG_VAR smtp_tls_global_vars[] = {
    CONFIG_VAR_STR("tls_high_cipherlist", &tls_cipherlists[0]),
    CONFIG_VAR_STR("tls_medium_cipherlist", &tls_cipherlists[1]),
    CONFIG_VAR_STR("tls_low_cipherlist", &tls_cipherlists[2]),
    CONFIG_VAR_STR("tls_export_cipherlist", &tls_cipherlists[3]),
    CONFIG_VAR_STR("tls_null_cipherlist", &tls_cipherlists[4]),
    CONFIG_VAR_STR("tlsmgr_service_name", &var_tlsmgr_service),
    CONFIG_VAR_END,
};

static int smtp_tls_inited;
static int smtp_tls_default_level;
static TLS_CLIENT_CTX *smtp_tls_ctx;    /* NULL: TLS cannot work */
static MAPS *smtp_tls_policy_table;
static const char *smtp_tls_prefix = "smtp";

/* Without the "smtp_" / "lmtp_" prefix (smtp_param_read_prefixed()). */
static const CONFIG_VAR smtp_tls_vars[] = {
    CONFIG_VAR_STR("tls_security_level", &tp.level),
    CONFIG_VAR_BOOL("use_tls", &tp.use_tls),
    CONFIG_VAR_BOOL("enforce_tls", &tp.enforce_tls),
    CONFIG_VAR_BOOL("tls_enforce_peername", &tp.enforce_peername),
    CONFIG_VAR_BOOL("tls_wrappermode", &tp.wrappermode),
    CONFIG_VAR_INT("tls_loglevel", &tp.loglevel),
    CONFIG_VAR_TIME("starttls_timeout", &tp.starttls_timeout),
    CONFIG_VAR_STR("tls_verify_cert_match", &tp.verify_match),
    CONFIG_VAR_STR("tls_secure_cert_match", &tp.secure_match),
    CONFIG_VAR_STR("tls_policy_maps", &tp.policy_maps),
    CONFIG_VAR_STR("tls_protocols", &tp.protocols),
    CONFIG_VAR_STR("tls_mandatory_protocols", &tp.mand_protocols),
    CONFIG_VAR_STR("tls_ciphers", &tp.ciphers),
    CONFIG_VAR_STR("tls_mandatory_ciphers", &tp.mand_ciphers),
    CONFIG_VAR_STR("tls_CAfile", &tp.files.CAfile),
    CONFIG_VAR_STR("tls_CApath", &tp.files.CApath),
    CONFIG_VAR_STR("tls_fingerprint_cert_match", &tp.fpt_match),
    CONFIG_VAR_STR("tls_fingerprint_digest", &tp.fpt_digest),
    CONFIG_VAR_END,
};

/* "none", "may", ...: SMTP_TLS_*, or -1 (with *unsupported for the
 * levels posthorn does not implement). */
static int
smtp_tls_parse_level(const char *name, int *unsupported)
{
    static const struct {
        const char *name;
        int     level;
    } levels[] = {
        {"none", SMTP_TLS_NONE}, {"may", SMTP_TLS_MAY}, {"encrypt", SMTP_TLS_ENCRYPT},
        {"verify", SMTP_TLS_VERIFY}, {"secure", SMTP_TLS_SECURE},
        {"fingerprint", SMTP_TLS_FINGERPRINT}, {"dane", SMTP_TLS_DANE},
        {"dane-only", SMTP_TLS_DANE_ONLY},
    };

    *unsupported = 0;
    for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
        if (strcasecmp(name, levels[i].name) == 0)
            return levels[i].level;
    return -1;
}

static int
smtp_tls_main_level(void)
{
    int     level, unsupported;

    if (*tp.level == 0)
        return tp.enforce_tls ? (tp.enforce_peername ? SMTP_TLS_VERIFY : SMTP_TLS_ENCRYPT)
            : tp.use_tls ? SMTP_TLS_MAY : SMTP_TLS_NONE;
    if ((level = smtp_tls_parse_level(tp.level, &unsupported)) < 0)
        msg_warn("%s_tls_security_level: %s TLS level \"%s\": no mail is delivered",
                 smtp_tls_prefix, unsupported ? "unsupported" : "invalid", tp.level);
    return level;
}

void
smtp_tls_init(int lmtp)
{
    smtp_tls_prefix = lmtp ? "lmtp" : "smtp";
    smtp_param_read_prefixed(smtp_tls_vars, lmtp);
    config_read_vars(smtp_tls_global_vars);
    smtp_tls_inited = 1;
    smtp_dane_init(lmtp);
    smtp_tls_default_level = smtp_tls_main_level();
    if (tp.wrappermode && smtp_tls_default_level >= 0
        && smtp_tls_default_level < SMTP_TLS_ENCRYPT) {
        msg_warn("%s_tls_wrappermode requires \"%s_tls_security_level = encrypt\" "
                 "(or stronger)", smtp_tls_prefix, smtp_tls_prefix);
        smtp_tls_default_level = SMTP_TLS_ENCRYPT;
    }
    if (*tp.policy_maps)
        smtp_tls_policy_table = maps_create(lmtp ? "lmtp_tls_policy_maps"
                                            : "smtp_tls_policy_maps", tp.policy_maps, 0);
    if (smtp_tls_default_level == SMTP_TLS_NONE && smtp_tls_policy_table == NULL)
        return;
    tp.files.loglevel = (int) tp.loglevel;
    tp.files.mgr_path = mem_printf("private/%s", var_tlsmgr_service);
    tp.files.cache_type = smtp_tls_prefix;     /* tlsmgr's smtp or lmtp cache */
    smtp_tls_ctx = tls_client_init(&tp.files);
}

int
smtp_tls_wrapper(void)
{
    return smtp_tls_inited && tp.wrappermode;
}

/* Level and attributes from a policy table value; 0, or -1 (why set). */
static int
smtp_tls_parse_policy(const char *dest, const char *value, SMTP_TLS_POLICY *pol,
                      SMTP_WHY *why)
{
    ARGV   *words = argv_split(value, " \t\r\n");
    int     unsupported, ret = 0;

    pol->level = words->argc ? smtp_tls_parse_level(words->argv[0], &unsupported) : -1;
    for (size_t i = 1; pol->level >= 0 && i < words->argc; i++) {
        const char *w = words->argv[i];

        if (strncasecmp(w, "match=", 6) == 0) {
            /* several match= attributes add up */
            char   *prev = pol->match;

            pol->match = prev ? mem_printf("%s%c%s", prev, pol->level == SMTP_TLS_FINGERPRINT
                                           ? '|' : ':', w + 6) : mem_strdup(w + 6);
            mem_free(prev);
        }
        else if (strncasecmp(w, "protocols=", 10) == 0)
            pol->protocols = mem_strdup(w + 10);
        else if (strncasecmp(w, "ciphers=", 8) == 0)
            pol->ciphers = mem_strdup(w + 8);
        else
            msg_warn("%s_tls_policy_maps: %s: ignoring unknown attribute \"%s\"",
                     smtp_tls_prefix, dest, w);
    }
    if (pol->level < 0) {
        msg_warn("%s_tls_policy_maps: %s: %s TLS security level \"%s\"", smtp_tls_prefix,
                 dest, unsupported ? "unsupported" : "invalid", value);
        smtp_why_set(why, DELIVER_DEFER, "4.7.5", "TLS policy lookup for %s: "
                     "invalid or unsupported TLS security level", dest);
        ret = -1;
    }
    argv_free(words);
    return ret;
}

/* Look up dest, then ".parent" forms of a domain; MAP_* */
static int
smtp_tls_lookup(const char *dest, const SMTP_NEXTHOP *nh, const char **value)
{
    const char *dot;
    char   *key;
    int     ret;

    if ((ret = maps_find(smtp_tls_policy_table, dest, value)) != MAP_NOTFOUND)
        return ret;
    if (dest[0] == '[' || strcasecmp(dest, nh->host) != 0)
        return MAP_NOTFOUND;
    for (dot = strchr(nh->host, '.'); dot != NULL; dot = strchr(dot + 1, '.')) {
        key = mem_strdup(dot);
        ret = maps_find(smtp_tls_policy_table, key, value);
        mem_free(key);
        if (ret != MAP_NOTFOUND)
            return ret;
    }
    return MAP_NOTFOUND;
}

int
smtp_tls_policy(const char *dest, const SMTP_NEXTHOP *nh, SMTP_TLS_POLICY *pol, SMTP_WHY *why)
{
    const char *value;
    int     ret;

    memset(pol, 0, sizeof(*pol));
    snprintf(pol->nexthop, sizeof(pol->nexthop), "%s", nh->host);
    if (!smtp_tls_inited)
        return 0;
    if (smtp_tls_policy_table != NULL
        && (ret = smtp_tls_lookup(dest, nh, &value)) != MAP_NOTFOUND) {
        if (ret == MAP_FAIL) {
            smtp_why_set(why, DELIVER_DEFER, "4.3.0", "TLS policy lookup for %s: "
                         "table lookup problem", dest);
            return -1;
        }
        if (smtp_tls_parse_policy(dest, value, pol, why) < 0)
            return -1;
    } else if ((pol->level = smtp_tls_default_level) < 0) {
        smtp_why_set(why, DELIVER_DEFER, "4.7.5", "server configuration problem: "
                     "invalid or unsupported TLS security level \"%s\"", tp.level);
        return -1;
    }
    if (tp.wrappermode && pol->level < SMTP_TLS_ENCRYPT)
        pol->level = SMTP_TLS_ENCRYPT;
    return 0;
}

void
smtp_tls_policy_free(SMTP_TLS_POLICY *pol)
{
    mem_free(pol->match);
    mem_free(pol->protocols);
    mem_free(pol->ciphers);
    memset(pol, 0, sizeof(*pol));
}

/* The names to match: hostname, nexthop and dot-nexthop resolved. */
static ARGV *
smtp_tls_match_names(const SMTP_TLS_POLICY *pol, const SMTP_SESSION *sess)
{
    const char *spec = pol->match ? pol->match
        : pol->level == SMTP_TLS_SECURE ? tp.secure_match : tp.verify_match;
    ARGV   *words = argv_split(spec, " \t\r\n,:");
    ARGV   *names = argv_alloc();
    size_t  hlen = strcspn(sess->namaddr, "[");

    for (size_t i = 0; i < words->argc; i++) {
        const char *w = words->argv[i];

        if (strcasecmp(w, "hostname") == 0)
            argv_add_owned(names, mem_strndup(sess->namaddr, hlen));
        else if (strcasecmp(w, "nexthop") == 0)
            argv_add(names, pol->nexthop);
        else if (strcasecmp(w, "dot-nexthop") == 0)
            argv_add_owned(names, mem_printf(".%s", pol->nexthop));
        else
            argv_add(names, w);
    }
    argv_free(words);
    return names;
}

/* The OpenSSL cipher list of a grade ("medium"), or NULL after a warning. */
static const char *
smtp_tls_cipherlist(const char *grade)
{
    for (int i = 0; i < 5; i++)
        if (strcasecmp(grade, tls_grades[i]) == 0)
            return tls_cipherlists[i];
    msg_warn("invalid cipher grade \"%s\": aborting TLS session", grade);
    return NULL;
}

static void
smtp_tls_log(const SMTP_SESSION *sess, const SMTP_TLS_POLICY *pol)
{
    static const char *const trust[] = {"Untrusted", "Trusted", "Verified"};
    VSTRING *summary = vstring_alloc(256);
    VSTRING *details = vstring_alloc(256);
    int     level = tls_sess_trust(sess->tls);

    if (pol->dane_insecure_mx && level > TLS_CERT_TRUSTED)
        level = TLS_CERT_TRUSTED;   /* the MX name could be forged */
    tls_sess_summary(sess->tls, summary);
    tls_sess_details(sess->tls, details);
    msg_info("%s TLS connection established to %s: %s%s%s",
             trust[level], sess->relay, STR(summary),
             LEN(details) ? " " : "", STR(details));
    vstring_free(summary);
    vstring_free(details);
}

/* The fingerprint level: policy match= ("|"), else the main.cf list. */
static void
smtp_tls_fprints(const SMTP_TLS_POLICY *pol, TLS_CLIENT_START *start)
{
    if (config_compat_break(smtp_tls_prefix[0] == 'l' ? "lmtp_tls_fingerprint_digest"
                            : "smtp_tls_fingerprint_digest", "3.6"))
        msg_info("using backwards-compatible default setting %s_tls_fingerprint_digest=md5 "
                 "to compute certificate fingerprints", smtp_tls_prefix);
    start->fprints = tls_fprint_parse(pol->match ? pol->match : tp.fpt_match, " \t\r\n,|");
}

static int
smtp_tls_fail(SMTP_SESSION *sess, SMTP_WHY *why, const char *dsn, const char *text)
{
    smtp_why_set(why, DELIVER_DEFER, dsn, "%s", text);
    snprintf(why->relay, sizeof(why->relay), "%s", sess->relay);
    return SMTP_SESS_RETRY;
}

int
smtp_tls_start(SMTP_STATE *st, SMTP_SESSION *sess, SMTP_WHY *why)
{
    const SMTP_TLS_POLICY *pol = st->tls;
    int     mandatory = pol->level >= SMTP_TLS_ENCRYPT;
    int     must_match = pol->level >= SMTP_TLS_VERIFY;
    TLS_CLIENT_START start;
    const TLS_PEER *peer;

    memset(&start, 0, sizeof(start));
    start.peer = sess->relay;
    start.protocols = pol->protocols ? pol->protocols
        : mandatory ? tp.mand_protocols : tp.protocols;
    start.cipherlist = smtp_tls_cipherlist(pol->ciphers ? pol->ciphers
                                           : mandatory ? tp.mand_ciphers : tp.ciphers);
    start.log_verify = must_match || pol->dane || tp.loglevel >= 2;
    start.dane = pol->dane;
    if (smtp_tls_ctx == NULL || start.cipherlist == NULL)
        return pol->level == SMTP_TLS_MAY ? SMTP_SESS_PLAIN
            : smtp_tls_fail(sess, why, "4.7.5", "Cannot start TLS: TLS engine unavailable");
    start.digest = tp.fpt_digest;
    if (pol->level == SMTP_TLS_FINGERPRINT)
        smtp_tls_fprints(pol, &start);
    else if (must_match)
        start.match = smtp_tls_match_names(pol, sess);
    stream_set_timeout(sess->fp, (int) tp.starttls_timeout);
    sess->tls = tls_client_start(smtp_tls_ctx, sess->fp, &start);
    argv_free(start.match);
    argv_free(start.fprints);
    if (sess->tls == NULL)
        return pol->level == SMTP_TLS_MAY ? SMTP_SESS_PLAIN
            : smtp_tls_fail(sess, why, "4.7.5", "Cannot start TLS: handshake failure");
    peer = tls_sess_peer(sess->tls);
    if (tp.loglevel >= 2 && peer->present)
        msg_info("%s: subject_CN=%s, issuer_CN=%s, fingerprint=%s, pkey_fingerprint=%s",
                 sess->relay, peer->CN, peer->issuer_CN, peer->fprint, peer->pkey_fprint);
    if (tp.loglevel >= 1)
        smtp_tls_log(sess, pol);
    if (pol->dane && tls_sess_trust(sess->tls) < TLS_CERT_MATCHED)
        return smtp_tls_fail(sess, why, "4.7.5", "Server certificate not trusted");
    /* Postfix 3.7 says "not verified" for an untrusted chain too */
    if (must_match && tls_sess_trust(sess->tls) < TLS_CERT_MATCHED)
        return smtp_tls_fail(sess, why, "4.7.5", "Server certificate not verified");
    return -1;
}
