/*
 * policy-spf.c - an SPF policy service for check_policy_service, built
 * on libspf2: main() and the request loop.
 *
 *     policy-spf [-npSTv] [-c config_dir] [-f level] [-h level] [-s networks]
 *
 * Run by the spawn service, one process per connection, requests on
 * standard input and answers on standard output:
 *
 *     policy  unix  -  n  n  -  0  spawn
 *       user=nobody argv=/usr/libexec/posthorn/policy-spf
 *
 *     smtpd_recipient_restrictions = ..., reject_unauth_destination,
 *       check_policy_service unix:private/policy
 *
 * Options (the defaults are Debian's policyd-spf defaults, except -T):
 *   -f level   MAIL FROM results that reject: "fail" (default),
 *              "softfail" (fail and softfail) or "none" (header only).
 *   -h level   the same for the HELO identity, or "nocheck" to skip it.
 *   -n         header only: never reject or defer (-f none -h none, and
 *              temperror and permerror prepend a header too).
 *   -T         temperror prepends a header instead of deferring
 *              (default: "defer_if_permit 4.7.24 ...", a 450 reply).
 *   -p         permerror rejects with 550 5.7.24 (default: header).
 *   -s list    more client networks not checked (commas or spaces),
 *              besides the default 127.0.0.0/8, ::ffff:127.0.0.0/104, ::1.
 *   -S         no default skip networks (only -s).
 *   -c dir     main.cf directory for the logging settings (default:
 *              $MAIL_CONFIG, which spawn passes, else /etc/postfix).
 *   -v         more logging.
 * Decisions and texts: policy_spf_decide.c. Logged with syslog(3) as
 * "postfix/policy-spf[pid]: <instance>: <action>" ($syslog_name,
 * $syslog_facility), as policyd-spf logs; not to maillog_file, because
 * the postlog socket is not open to the spawn user.
 *
 * SECURITY: runs as the spawn user= (nobody), needs no privileges and
 * opens nothing but main.cf and the resolver. Input: policy_spf_request.c.
 * Under spawn, standard error is the smtpd connection too: when it is a
 * socket it is replaced by /dev/null, and libspf2's messages (which it
 * would print there) go to the log, so nothing but answers reaches smtpd.
 *
 * DIAGNOSTICS: fatal: a bad option, a protocol error in a request
 * (smtpd then logs the failed policy query and applies
 * smtpd_policy_service_default_action). Exit status 0 at end of input.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "mem.h"
#include "msg.h"
#include "policy_spf.h"

#define POLICY_SPF_USAGE \
    "usage: policy-spf [-npSTv] [-c config_dir] [-f level] [-h level] [-s networks]"
#define POLICY_SPF_SKIP_DEFAULT "127.0.0.0/8, [::ffff:127.0.0.0]/104, ::1"
#define POLICY_SPF_IDLE 3600    /* seconds to wait for a request */

static int
parse_level(const char *arg, int helo)
{
    if (strcmp(arg, "fail") == 0)
        return SPF_REJECT_FAIL;
    if (strcmp(arg, "softfail") == 0)
        return SPF_REJECT_SOFTFAIL;
    if (strcmp(arg, "none") == 0)
        return SPF_REJECT_NONE;
    if (helo && strcmp(arg, "nocheck") == 0)
        return SPF_HELO_NO_CHECK;
    msg_fatal("bad %s level \"%s\": use fail, softfail, none%s", helo ? "-h" : "-f", arg,
              helo ? " or nocheck" : "");
}

/* Options into conf; returns the -c directory or NULL. */
static const char *
parse_options(int argc, char **argv, POLICY_SPF_CONF *conf)
{
    VSTRING *why = vstring_alloc(300);
    const char *dir = NULL, *extra = NULL;
    int     ch, no_default = 0;

    memset(conf, 0, sizeof(*conf));
    conf->helo_reject = conf->mfrom_reject = SPF_REJECT_FAIL;
    conf->temperror_defer = 1;
    while ((ch = getopt(argc, argv, "c:f:h:npSs:Tv")) != -1) {
        switch (ch) {
        case 'c': dir = optarg; break;
        case 'f': conf->mfrom_reject = parse_level(optarg, 0); break;
        case 'h': conf->helo_reject = parse_level(optarg, 1); break;
        case 'n': conf->header_only = 1; break;
        case 'p': conf->permerror_reject = 1; break;
        case 'S': no_default = 1; break;
        case 's': extra = optarg; break;
        case 'T': conf->temperror_defer = 0; break;
        case 'v': msg_verbose++; break;
        default: msg_fatal(POLICY_SPF_USAGE);
        }
    }
    if (optind != argc)
        msg_fatal(POLICY_SPF_USAGE);
    if ((!no_default && policy_spf_add_skip(conf, POLICY_SPF_SKIP_DEFAULT, why) != 0)
        || (extra && policy_spf_add_skip(conf, extra, why) != 0))
        msg_fatal("%s", STR(why));
    vstring_free(why);
    return dir;
}

/* Logging: syslog only; standard error away from the smtpd connection. */
static void
log_setup(void)
{
    struct stat st;
    int     fd;

    config_override("maillog_file", "");
    msg_logging_init();
    if (fstat(STDERR_FILENO, &st) == 0 && S_ISSOCK(st.st_mode)) {
        if ((fd = open("/dev/null", O_WRONLY)) < 0 || dup2(fd, STDERR_FILENO) < 0)
            msg_fatal("open /dev/null: %m");
        if (fd != STDERR_FILENO)
            close(fd);
    }
}

int
main(int argc, char **argv)
{
    POLICY_SPF_CONF conf;
    POLICY_SPF *ps;
    POLICY_SPF_REQ *req = policy_spf_req_alloc();
    VSTRING *action = vstring_alloc(VSTRING_UNLIMITED);
    STREAM *in, *out;
    void   *spf;
    const char *why;
    int     n;

    msg_init("policy-spf", 0);
    config_load(parse_options(argc, argv, &conf));
    log_setup();
    spf = policy_spf_check_init();
    ps = policy_spf_alloc(&conf, policy_spf_check, spf);
    in = stream_fdopen(0);
    out = stream_fdopen(1);
    stream_set_timeout(in, POLICY_SPF_IDLE);
    while ((n = policy_spf_read(in, req, &why)) > 0) {
        policy_spf_decide(ps, req, action);
        stream_printf(out, "action=%s\n\n", STR(action));
        if (stream_flush(out) != 0)
            msg_fatal("write the reply: %m");
    }
    if (n < 0)
        msg_fatal("bad request: %s", why);
    policy_spf_free(ps);
    policy_spf_check_free(spf);
    policy_spf_req_free(req);
    vstring_free(action);
    stream_free_keep_fd(in);
    stream_free_keep_fd(out);
    return 0;
}
