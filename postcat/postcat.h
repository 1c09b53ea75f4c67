/*
 * postcat.h - postcat(1)'s private interface.
 *
 * DIAGNOSTICS: fatal for usage, open and output errors (postcat.c); a file
 * that is not a valid queue file, a malformed record or a premature end is
 * a warning and ends that file (postcat_print.c).
 */
#ifndef POSTHORN_POSTCAT_H
#define POSTHORN_POSTCAT_H

#include "stream.h"

#define POSTCAT_USAGE \
    "usage: postcat [-b (body text)] [-c config_dir] [-e (envelope records)] " \
    "[-h (header text)] [-o (record offsets)] [-q (access queue)] [-v] [file(s)...]"

#define POSTCAT_ENVELOPE  (1 << 0)      /* -e */
#define POSTCAT_HEADER    (1 << 1)      /* -h */
#define POSTCAT_BODY      (1 << 2)      /* -b */
#define POSTCAT_OFFSET    (1 << 3)      /* -o */

#define POSTCAT_RECORD_MAX  (1024 * 1024)

/* Print one queue or maildrop file read from fp, shown as name.
 * 0, or -1 when it is not a (complete) queue file. */
int     postcat_file(STREAM *fp, const char *name, int flags, STREAM *out);
/* Find a queue id in the queues (cwd = queue_directory): "queue/id". */
const char *postcat_find(const char *id);

#endif
