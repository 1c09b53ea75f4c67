/*
 * postlogd.h - private interface of postlogd, the maillog_file writer.
 */
#ifndef POSTHORN_POSTLOGD_H
#define POSTHORN_POSTLOGD_H

#include "argv.h"

/* postlogd_file.c */
void    postlogd_open(const char *service, ARGV *args);  /* pre_init, as root */
void    postlogd_write(const char *buf, int len);        /* one datagram */

#endif
