/*
 * receive_opts.c - receive_override_options. Interface: receive_opts.h.
 * The value is read once by mail_params_init() (mail_params.h), after
 * the service's -o overrides.
 *
 * SECURITY: the value comes from main.cf/master.cf (trusted); names are
 * compared, nothing else is done with them.
 *
 * DIAGNOSTICS: an unknown option name is a warning (once per process);
 * a call before mail_params_init() panics.
 */
#include <strings.h>

#include "argv.h"
#include "mail_params.h"
#include "mail_proto.h"
#include "msg.h"
#include "receive_opts.h"

static const char *const receive_opts_known[] = {
    RECEIVE_OPT_NO_UNKN_RCPT, RECEIVE_OPT_NO_ADDR_MAP, RECEIVE_OPT_NO_HDR_BODY,
    RECEIVE_OPT_NO_MILTERS, 0,
};

int
receive_opts_has(const char *name)
{
    static int warned;
    ARGV   *list;
    int     found = 0;

    mail_params_need("receive_opts_has");
    list = argv_split_list(mail_params.receive_override_options);

    for (size_t i = 0; i < list->argc; i++) {
        const char *const *kp;

        for (kp = receive_opts_known; *kp; kp++)
            if (strcasecmp(*kp, list->argv[i]) == 0)
                break;
        if (*kp == 0 && !warned)
            msg_warn("unknown receive_override_options value: %s", list->argv[i]);
        if (strcasecmp(list->argv[i], name) == 0)
            found = 1;
    }
    warned = 1;
    argv_free(list);
    return found;
}

int
receive_opts_cleanup(int flags)
{
    if (receive_opts_has(RECEIVE_OPT_NO_ADDR_MAP))
        flags &= ~CLEANUP_FLAG_MAP_OK;
    if (receive_opts_has(RECEIVE_OPT_NO_HDR_BODY))
        flags &= ~CLEANUP_FLAG_FILTER;
    if (receive_opts_has(RECEIVE_OPT_NO_MILTERS))
        flags &= ~(CLEANUP_FLAG_MILTER | CLEANUP_FLAG_SMTPD_MILTERS);
    return flags;
}
