/*
 * smtpd_space.c - is there room in the queue file system for a message?
 *
 * Interface (smtpd.h):
 *   smtpd_space_check(state, reply)  at MAIL FROM, after the sender
 *       restrictions: 0, or -1 with "452 4.3.1 Insufficient system
 *       storage" in reply, logged as a NOQUEUE reject plus Postfix's
 *       "warning: not enough free space in mail queue: N bytes <
 *       1.5*message size limit".
 *   smtpd_space_ok(...)  the rule itself, for the unit tests.
 *
 * The rule is Postfix's: mail is refused when the free blocks of the
 * file system that holds the queue (smtpd runs in queue_directory) do
 * not exceed queue_minfree, or are not more than 1.5 times
 * message_size_limit. posthorn also applies the 1.5 factor to the size
 * the client announced with SIZE= (it can matter only with
 * message_size_limit = 0, where Postfix checks queue_minfree alone).
 * The check is made at each MAIL FROM, so service resumes by itself as
 * soon as space returns.
 *
 * SECURITY: SIZE= comes from the client; it was parsed as a bounded
 * number (smtpd_esmtp.c) and is only compared here.
 *
 * DIAGNOSTICS: warnings only: statvfs failing on the queue directory, and
 * "not enough free space in mail queue" with the client's 452 4.3.1.
 */
#include <sys/statvfs.h>

#include "msg.h"
#include "smtpd.h"

#define SMTPD_SPACE_FACTOR 1.5

int
smtpd_space_ok(unsigned long block_size, unsigned long blocks_free,
               long minfree, long size_limit, long msg_size)
{
    double  usable = (double) blocks_free / SMTPD_SPACE_FACTOR;

    if (block_size == 0)
        return 1;
    if ((unsigned long) minfree / block_size >= blocks_free)
        return 0;
    if ((double) ((unsigned long) size_limit / block_size) >= usable)
        return 0;
    if (msg_size > 0 && (double) ((unsigned long) msg_size / block_size) >= usable)
        return 0;
    return 1;
}

int
smtpd_space_check(SMTPD_STATE *state, VSTRING *reply)
{
    struct statvfs fs;

    if (statvfs(".", &fs) < 0) {
        msg_warn("statvfs queue directory: %m");
        return 0;                               /* cleanup will tell */
    }
    if (smtpd_space_ok(fs.f_frsize, fs.f_bavail, var_queue_minfree,
                       var_message_limit, state->msg_size))
        return 0;
    vstring_strcpy(reply, "452 4.3.1 Insufficient system storage");
    smtpd_chat_log_reject(state, STR(reply));
    msg_warn("not enough free space in mail queue: %lu bytes < %g*message size limit",
             (unsigned long) fs.f_bavail * (unsigned long) fs.f_frsize,
             SMTPD_SPACE_FACTOR);
    return -1;
}
