/*
 * postqueue.c - postqueue(1): the unprivileged queue tool.
 *
 *   postqueue [-v] [-c config_dir] -p | -j | -f | -i queue_id | -s site
 *
 * -p sendmail-style listing, -j JSON lines (postqueue_list.c), -f flush,
 * -i deliver one deferred message now, -s flush a site
 * (postqueue_flush.c). Installed set-gid $setgid_group: it talks only to
 * public/showq and public/qmgr, which that group may reach.
 *
 * Exit status 0, or 69 with a "fatal:" line on standard error (as
 * Postfix's postqueue, usage errors included).
 *
 * SECURITY: set-gid. setgid_env_sanitize() runs first (descriptors,
 * umask, environment); a configuration directory from a non-root
 * invoker must be listed in alternate_config_directories
 * (postqueue_env.c); -v is for root only. Listing needs
 * authorized_mailq_users, flushing authorized_flush_users (root and
 * mail_owner always may).
 *
 * DIAGNOSTICS: fatal (exit 69, postqueue_fatal()): a usage error, a
 * queue_directory that cannot be entered; see postqueue_env.c, _list.c and
 * _flush.c for the others.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "mail_params.h"
#include "msg.h"
#include "postqueue.h"
#include "setgid_env.h"

int
main(int argc, char **argv)
{
    const char *config_dir;
    const char *arg = NULL;
    int     mode = 0;
    int     ch;

    if (setgid_env_sanitize() < 0)
        _exit(POSTQUEUE_EX_FATAL);
    msg_init("postqueue", MSG_STDERR);
    if (argc > 0)
        argv[0] = (char *) "postqueue";     /* getopt messages */
    config_dir = setgid_env_saved("MAIL_CONFIG");
    opterr = 1;
    while ((ch = getopt(argc, argv, "c:fi:jps:v")) != -1) {
        switch (ch) {
        case 'c':
            config_dir = optarg;
            break;
        case 'f':
        case 'j':
        case 'p':
        case 'i':
        case 's':
            if (mode != 0)
                postqueue_fatal(POSTQUEUE_USAGE);
            mode = ch;
            arg = optarg;
            break;
        case 'v':
            if (getuid() == 0)
                msg_verbose++;
            break;
        default:
            postqueue_fatal(POSTQUEUE_USAGE);
        }
    }
    if (mode == 0 || optind < argc)
        postqueue_fatal(POSTQUEUE_USAGE);
    postqueue_check_config_dir(config_dir);
    config_load(config_dir);
    msg_logging_init();
    postqueue_params_init();
    mail_params_init();                 /* hash_queue_names/depth */
    postqueue_check_user(mode != 'p' && mode != 'j');
    if (chdir(var_queue_dir) < 0)
        postqueue_fatal("chdir %s: %m", var_queue_dir);
    switch (mode) {
    case 'p':
        postqueue_list(POSTQUEUE_FMT_TEXT, config_directory());
        break;
    case 'j':
        postqueue_list(POSTQUEUE_FMT_JSON, config_directory());
        break;
    case 'f':
        postqueue_flush();
        break;
    case 'i':
        postqueue_flush_id(arg);
        break;
    case 's':
        postqueue_flush_site(arg);
        break;
    }
    return 0;
}
