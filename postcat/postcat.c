/*
 * postcat.c - postcat(1): show a queue file.
 *
 *   postcat [-behov] [-c config_dir] [-q] file...
 *
 * -q: the arguments are queue ids, looked up in the queues; otherwise they
 * are file names. -e envelope, -h header, -b body (any combination; none
 * = everything, with section markers); -o record offsets. The format is
 * Postfix's (postcat_print.c).
 *
 * SECURITY: reads queue files (root, or mail_owner for -q); every record
 * is bounded (POSTCAT_RECORD_MAX); ids are checked with queue_id_ok().
 *
 * DIAGNOSTICS: fatal, as Postfix's postcat: a usage error, a bad parameter
 * value, a queue_directory that cannot be entered, a bad or unknown queue
 * id, a file that cannot be opened, and a write error on standard output.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "mail_params.h"
#include "msg.h"
#include "queue.h"
#include "postcat.h"

static int
postcat_one(const char *path, const char *name, int flags, STREAM *out)
{
    STREAM *fp = stream_open(path, O_RDONLY | O_NOFOLLOW, 0);
    int     rc;

    if (fp == NULL)
        msg_fatal("open %s: %m", name);
    rc = postcat_file(fp, name, flags, out);
    (void) stream_close(fp);
    return rc;
}

static const char *var_queue_dir;

static const CONFIG_VAR postcat_vars[] = {
    CONFIG_VAR_STR("queue_directory", &var_queue_dir),
    CONFIG_VAR_END,
};

int
main(int argc, char **argv)
{
    const char *config_dir = getenv("MAIL_CONFIG");
    STREAM *out;
    int     flags = 0, by_id = 0, ch, rc = 0;

    msg_init("postcat", MSG_STDERR);
    if (argc > 0)
        argv[0] = (char *) "postcat";
    while ((ch = getopt(argc, argv, "bc:ehoqrv")) != -1) {
        switch (ch) {
        case 'b': flags |= POSTCAT_BODY; break;
        case 'c': config_dir = optarg; break;
        case 'e': flags |= POSTCAT_ENVELOPE; break;
        case 'h': flags |= POSTCAT_HEADER; break;
        case 'o': flags |= POSTCAT_OFFSET; break;
        case 'q': by_id = 1; break;
        case 'r': break;                /* records are always in file order */
        case 'v': msg_verbose++; break;
        default: msg_fatal(POSTCAT_USAGE);
        }
    }
    if (optind >= argc)
        msg_fatal(POSTCAT_USAGE);
    if ((flags & (POSTCAT_ENVELOPE | POSTCAT_HEADER | POSTCAT_BODY)) == 0)
        flags |= POSTCAT_ENVELOPE | POSTCAT_HEADER | POSTCAT_BODY;
    if (by_id) {
        config_load(config_dir);
        config_read_vars(postcat_vars);
        mail_params_init();             /* hash_queue_names/depth */
        msg_logging_init();
        if (chdir(var_queue_dir) < 0)
            msg_fatal("chdir %s: %m", var_queue_dir);
    }
    out = stream_fdopen(STDOUT_FILENO);
    for (; optind < argc; optind++) {
        const char *path = argv[optind];

        if (by_id) {
            if (!queue_id_ok(path))
                msg_fatal("bad mail queue ID: %s", path);
            if ((path = postcat_find(argv[optind])) == NULL)
                msg_fatal("open queue file %s: No such file or directory", argv[optind]);
        }
        if (postcat_one(path, path, flags, out) < 0)
            rc = 1;
        (void) stream_flush(out);
    }
    if (stream_flush(out) < 0)
        msg_fatal("write standard output: %m");
    stream_free_keep_fd(out);
    return rc;
}
