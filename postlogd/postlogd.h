/*
 * postlogd.h - private interface of postlogd, the maillog_file writer.
 *
 * DIAGNOSTICS: fatal at start for an unusable maillog_file
 * (postlogd_file.c); an empty maillog_file is a warning (records are
 * discarded).
 */
#ifndef POSTHORN_POSTLOGD_H
#define POSTHORN_POSTLOGD_H

#include "argv.h"

/* postlogd_file.c */
void    postlogd_open(const char *service, ARGV *args);  /* pre_init, as root */
void    postlogd_write(const char *buf, int len);        /* one datagram */

#endif
