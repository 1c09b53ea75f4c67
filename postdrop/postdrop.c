/*
 * postdrop.c - the Postfix mail posting utility: copies a message in the
 * maildrop record format from stdin into $queue_directory/maildrop/ and
 * wakes up the pickup service.
 *
 *     postdrop [-rv] [-c config_dir]
 *
 * Installed set-gid $setgid_group (never set-uid): the maildrop directory
 * is writable for that group only, and public/ is searchable for it.
 * The file is owned by the invoking user; pickup logs that uid.
 *
 * Exit status: 0 queued; 64 usage; 65 malformed input; 69 the file
 * reached $message_size_limit; 75 queue trouble (temporary); 77
 * submission not allowed.
 *
 * As in Postfix, the maildrop file (envelope and content records) is
 * capped at $message_size_limit with the process file size limit
 * (lib/file_limit.h): a bigger submission gets "warning: uid=N: File too
 * large", leaves nothing in maildrop/, and sendmail reports "message
 * file too big".
 *
 * SECURITY: see postdrop_env.c (environment, descriptors, umask,
 * configuration directory) and postdrop_copy.c (input checking). argv[0]
 * is never used for anything but the usage text.
 *
 * DIAGNOSTICS: fatal: a usage error, -v by a non-root user, a
 * configuration directory that is not absolute or not allowed, a file size
 * limit that cannot be set, a queue_directory that cannot be entered. A
 * pickup that cannot be woken is a warning (it finds the file on its next
 * scan).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "connect.h"
#include "file_limit.h"
#include "mail_proto.h"
#include "mail_params.h"
#include "msg.h"
#include "postdrop.h"
#include "queue.h"
#include "setgid_env.h"
#include "vstring.h"



static void
postdrop_trigger_pickup(void)
{
    const char *service = var_pickup_service;
    char    path[256];
    char    wakeup[1] = {TRIGGER_REQ_WAKEUP};

    if (*service == 0 || strchr(service, '/') != NULL || strlen(service) > 100)
        service = SERVICE_PICKUP;
    snprintf(path, sizeof(path), "%s/%s", MAIL_CLASS_PUBLIC, service);
    /* Not access(): that checks the real ids, not our set-gid group. */
    if (trigger_send(path, wakeup, 1) < 0) {
        if (errno == ENOENT)
            msg_warn("unable to look up %s: %m", path);
        else
            msg_warn("unable to trigger %s: %m", path);
    }
}

int
main(int argc, char **argv)
{
    const char *config_dir;
    VSTRING *id;
    STREAM *in;
    int     ch, status, verbose = 0;

    if (setgid_env_sanitize() < 0)
        _exit(POSTDROP_EX_SOFTWARE);
    msg_init("postdrop", MSG_STDERR);
    config_dir = setgid_env_saved("MAIL_CONFIG");
    while ((ch = getopt(argc, argv, "c:rv")) != -1) {
        switch (ch) {
        case 'c':
            config_dir = optarg;
            break;
        case 'r':
            break;              /* the record protocol is the only one */
        case 'v':
            if (getuid() != 0)
                msg_fatal_status(POSTDROP_EX_USAGE, "-v option is reserved for the super-user");
            verbose++;
            break;
        default:
            msg_fatal_status(POSTDROP_EX_USAGE, "usage: postdrop [-rv] [-c config_dir]");
        }
    }
    if (optind != argc)
        msg_fatal_status(POSTDROP_EX_USAGE, "usage: postdrop [-rv] [-c config_dir]");
    if (config_dir != NULL && *config_dir != '/')
        msg_fatal_status(POSTDROP_EX_USAGE, "configuration directory must be absolute: %s",
                       config_dir);
    if (!setgid_env_config_dir_ok(config_dir))
        msg_fatal_status(POSTDROP_EX_NOPERM,
                       "%s: not listed in alternate_config_directories of %s/main.cf",
                       config_dir, CONFIG_DEFAULT_DIR);
    config_load(config_dir);
    msg_verbose = verbose;
    msg_logging_init();
    postdrop_params_init();
    mail_params_init();                 /* hash_queue_names/depth */
    postdrop_check_user(getuid(), "postdrop");
    if (file_limit_cap(var_message_limit) < 0)
        msg_fatal_status(POSTDROP_EX_TEMPFAIL, "set file size limit: %m");

    if (chdir(var_queue_dir) < 0)
        msg_fatal_status(POSTDROP_EX_TEMPFAIL, "chdir %s: %m", var_queue_dir);
    id = vstring_alloc(QUEUE_ID_MAX + 1);
    in = stream_fdopen(STDIN_FILENO);
    status = postdrop_enqueue(in, id);
    stream_free_keep_fd(in);
    if (status == POSTDROP_EX_OK) {
        if (msg_verbose)
            msg_info("%s: queued in %s", STR(id), QUEUE_MAILDROP);
        postdrop_trigger_pickup();
    }
    vstring_free(id);
    exit(status);
}
