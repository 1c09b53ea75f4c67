/*
 * pickup_scan.c - one scan of the maildrop queue.
 *
 * Interface (pickup.h):
 *   pickup_scan()  every complete file in maildrop/ to cleanup, repeated
 *                  while a pass finds work (mail dropped meanwhile);
 *                  stops early when cleanup cannot be reached
 *   pickup_one()   one file: open, check, copy, then remove it, move it
 *                  to corrupt/ (malformed), or leave it (try again later)
 *
 * SECURITY: names come from readdir() of a directory local users can
 * write to (through postdrop); pickup_file_open() accepts queue-id
 * names only, and never follows symlinks.
 *
 * DIAGNOSTICS: none fatal; a maildrop directory that cannot be opened, a
 * file that cannot be removed or moved, and a malformed file (saved in the
 * corrupt queue, with the uid) are warnings.
 */
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "msg.h"
#include "pickup.h"

#define PICKUP_MAX_PASSES 100

int
pickup_one(const char *name)
{
    PICKUP_FILE pf;
    int     result;

    result = pickup_file_open(&pf, name);
    if (result == PICKUP_KEEP)
        return result;
    if (result != PICKUP_CORRUPT)
        result = pickup_file_check(&pf, var_line_limit) < 0 ?
            PICKUP_CORRUPT : pickup_copy(&pf);
    pickup_file_close(&pf);
    switch (result) {
    case PICKUP_REMOVE:
        if (unlink(pf.path) < 0 && errno != ENOENT)
            msg_warn("remove %s: %m", pf.path);
        break;
    case PICKUP_CORRUPT:
        msg_warn("%s: uid=%ld: %s; saving it in the %s queue", pf.path,
                 (long) pf.st.st_uid, pf.why ? pf.why : "malformed file", QUEUE_CORRUPT);
        if (queue_file_move(QUEUE_MAILDROP, QUEUE_CORRUPT, pf.name, 1) < 0) {
            msg_warn("move %s to %s: %m", pf.path, QUEUE_CORRUPT);
            result = PICKUP_KEEP;
        }
        break;
    default:
        break;
    }
    return result;
}

void
pickup_scan(void)
{
    DIR    *dir;
    struct dirent *de;
    int     pass, found, result = PICKUP_KEEP;

    for (pass = 0; pass < PICKUP_MAX_PASSES; pass++) {
        if ((dir = opendir(QUEUE_MAILDROP)) == NULL) {
            msg_warn("open directory %s: %m", QUEUE_MAILDROP);
            return;
        }
        found = 0;
        while ((de = readdir(dir)) != NULL) {
            if (de->d_name[0] == '.')
                continue;
            result = pickup_one(de->d_name);
            if (result == PICKUP_RETRY)
                break;
            if (result != PICKUP_KEEP)
                found++;
        }
        closedir(dir);
        if (result == PICKUP_RETRY || found == 0)
            return;
    }
}
