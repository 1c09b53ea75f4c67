/*
 * postconf_edit.c - edit main.cf in place (postconf -e, -X, -#).
 *
 * Interface: postconf.h (postconf_edit_main). The file is read as
 * physical lines; an entry is a line that starts with a name followed by
 * '=', plus the lines after it that start with white space and are
 * neither blank nor comments. Every other line (comments, blank lines,
 * other parameters) is copied unchanged.
 *   -e name=value  the first entry for name becomes "name = value", later
 *                  entries for it are dropped; a name not present is
 *                  appended at the end.
 *   -X name        every entry for name is removed.
 *   -# name        every entry for name is commented out ('#' in front of
 *                  each of its lines).
 * The new text goes to main.cf.tmp (same mode and owner as main.cf),
 * which is fsync()ed and renamed over main.cf, so readers see the old or
 * the new file, never a mix. An exclusive flock() on main.cf keeps two
 * concurrent editors from losing each other's changes.
 *
 * SECURITY: run by the administrator on a root-owned directory; the
 * temporary file is created with O_EXCL|O_NOFOLLOW after removing a stale
 * one, so a planted symlink is not followed.
 *
 * DIAGNOSTICS: fatal: a bad -e/-X/-# request (no '=', a missing or bad
 * name), a main.cf that cannot be read (too large, a NUL byte), locked,
 * written or renamed into place, or keeps changing. A chmod/chown of the
 * new file that fails is a warning.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "mem.h"
#include "msg.h"
#include "postconf.h"
#include "vstring.h"

#define PC_EDIT_FILE_MAX (64 * 1024 * 1024)

typedef struct PC_EDIT {
    char  **names;              /* parameter names to change */
    char  **values;             /* new values (-e), else NULL entries */
    int    *done;               /* -e: name was written */
    int     count;
    PC_EDIT_MODE mode;
} PC_EDIT;

/* Split "name=value" / "name = value" into trimmed parts. */
static void
postconf_edit_split(const char *arg, char **name, char **value, int need_value)
{
    const char *eq = strchr(arg, '=');
    const char *ne, *v;

    if (eq == NULL) {
        if (need_value)
            msg_fatal("-e option: missing '=' after parameter name: \"%s\"", arg);
        eq = arg + strlen(arg);
    }
    while (isspace((unsigned char) *arg))
        arg++;
    for (ne = eq; ne > arg && isspace((unsigned char) ne[-1]); ne--)
         /* void */ ;
    if (ne == arg)
        msg_fatal("missing parameter name in \"%s\"", arg);
    *name = mem_strndup(arg, ne - arg);
    if (strcspn(*name, " \t\r\n") != strlen(*name))
        msg_fatal("bad parameter name: \"%s\"", *name);
    if (*eq == 0) {
        *value = NULL;
        return;
    }
    for (v = eq + 1; isspace((unsigned char) *v); v++)
         /* void */ ;
    *value = mem_strdup(v);
    for (size_t n = strlen(*value); n > 0 && isspace((unsigned char) (*value)[n - 1]); n--)
        (*value)[n - 1] = 0;
}

/* The name of an entry line ("name = ..." at column 0), or -1. */
static int
postconf_edit_match(PC_EDIT *ed, const char *line, size_t len)
{
    size_t  n = 0;
    int     i;

    if (len == 0 || isspace((unsigned char) *line) || *line == '#')
        return -1;
    while (n < len && line[n] != '=' && !isspace((unsigned char) line[n]))
        n++;
    for (i = 0; i < ed->count; i++)
        if (strlen(ed->names[i]) == n && strncmp(line, ed->names[i], n) == 0)
            return i;
    return -1;
}

static int
postconf_is_continuation(const char *line, size_t len)
{
    size_t  i = 0;

    if (len == 0 || !isspace((unsigned char) *line))
        return 0;
    while (i < len && isspace((unsigned char) line[i]))
        i++;
    return i < len && line[i] != '#';
}

/* "name = value", or "name =" for an empty value. */
static void
postconf_edit_entry(VSTRING *out, const char *name, const char *value)
{
    vstring_sprintf_append(out, *value ? "%s = %s\n" : "%s =%s\n", name, value);
}

/* Produce the edited text of main.cf. */
static void
postconf_edit_text(PC_EDIT *ed, const char *text, VSTRING *out)
{
    const char *line, *end;
    int     idx = -1, i;
    size_t  len;

    for (line = text; *line; line = end) {
        end = strchr(line, '\n');
        end = end ? end + 1 : line + strlen(line);
        len = end - line;
        if (idx >= 0 && postconf_is_continuation(line, len)) {
            if (ed->mode == PC_EDIT_COMMENT) {
                vstring_addch(out, '#');
                vstring_ncat(out, line, len);
            }
            continue;
        }
        if ((idx = postconf_edit_match(ed, line, len)) < 0) {
            vstring_ncat(out, line, len);
            continue;
        }
        if (ed->mode == PC_EDIT_COMMENT) {
            vstring_addch(out, '#');
            vstring_ncat(out, line, len);
        } else if (ed->mode == PC_EDIT_SET && !ed->done[idx]++) {
            postconf_edit_entry(out, ed->names[idx], ed->values[idx]);
        }
        if (LEN(out) && STR(out)[LEN(out) - 1] != '\n')
            vstring_addch(out, '\n');
    }
    for (i = 0; ed->mode == PC_EDIT_SET && i < ed->count; i++) {
        if (ed->done[i])
            continue;
        if (LEN(out) && STR(out)[LEN(out) - 1] != '\n')
            vstring_addch(out, '\n');
        postconf_edit_entry(out, ed->names[i], ed->values[i]);
        ed->done[i] = 1;
    }
}

char   *
postconf_read_fd(int fd, const char *path)
{
    VSTRING *vs = vstring_alloc(PC_EDIT_FILE_MAX);
    char    buf[8192];
    ssize_t n;

    while ((n = read(fd, buf, sizeof(buf))) > 0)
        if (vstring_ncat(vs, buf, n) < 0)
            msg_fatal("%s: file too large", path);
    if (n < 0)
        msg_fatal("read %s: %m", path);
    if (strlen(STR(vs)) != LEN(vs))
        msg_fatal("%s: file contains a null byte", path);
    return vstring_export(vs);
}

/* Write text to path.tmp, fsync, rename over path. */
void
postconf_write_atomic(const char *path, const char *text, size_t len, const struct stat *st)
{
    char   *tmp = mem_printf("%s.tmp", path);
    int     fd;
    ssize_t n;
    size_t  off = 0;

    if (unlink(tmp) < 0 && errno != ENOENT)
        msg_fatal("remove %s: %m", tmp);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
              st ? (st->st_mode & 07777) : 0644);
    if (fd < 0)
        msg_fatal("create %s: %m", tmp);
    if (st != NULL) {
        if (fchmod(fd, st->st_mode & 07777) < 0)
            msg_warn("chmod %s: %m", tmp);
        if (fchown(fd, st->st_uid, st->st_gid) < 0 && geteuid() == 0)
            msg_warn("chown %s: %m", tmp);
    }
    while (off < len) {
        if ((n = write(fd, text + off, len - off)) <= 0) {
            (void) unlink(tmp);
            msg_fatal("write %s: %m", tmp);
        }
        off += (size_t) n;
    }
    if (fsync(fd) < 0 || close(fd) < 0) {
        (void) unlink(tmp);
        msg_fatal("write %s: %m", tmp);
    }
    if (rename(tmp, path) < 0) {
        (void) unlink(tmp);
        msg_fatal("rename %s to %s: %m", tmp, path);
    }
    mem_free(tmp);
}

/* Open and lock main.cf or master.cf; retry when another editor replaced it meanwhile. */
int
postconf_lock_file(const char *path)
{
    struct stat fst, pst;
    int     fd, tries;

    for (tries = 0; tries < 100; tries++) {
        if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0)
            msg_fatal("open %s: %m", path);
        if (flock(fd, LOCK_EX) < 0)
            msg_fatal("lock %s: %m", path);
        if (fstat(fd, &fst) == 0 && stat(path, &pst) == 0
            && fst.st_dev == pst.st_dev && fst.st_ino == pst.st_ino)
            return fd;
        close(fd);
    }
    msg_fatal("%s: file keeps changing, giving up", path);
}

int
postconf_edit_main(PC_EDIT_MODE mode, char **args)
{
    PC_EDIT ed;
    char   *path = mem_printf("%s/main.cf", config_directory());
    char   *text;
    VSTRING *out = vstring_alloc(PC_EDIT_FILE_MAX);
    struct stat st;
    int     fd, i, have_st;

    memset(&ed, 0, sizeof(ed));
    ed.mode = mode;
    for (ed.count = 0; args[ed.count]; ed.count++)
         /* void */ ;
    ed.names = mem_array(ed.count + 1, sizeof(char *));
    ed.values = mem_array(ed.count + 1, sizeof(char *));
    ed.done = mem_array(ed.count + 1, sizeof(int));
    for (i = 0; i < ed.count; i++)
        postconf_edit_split(args[i], &ed.names[i], &ed.values[i], mode == PC_EDIT_SET);

    fd = postconf_lock_file(path);
    have_st = fstat(fd, &st) == 0;
    text = postconf_read_fd(fd, path);
    postconf_edit_text(&ed, text, out);
    if (vstring_ncat(out, "", 0) < 0 || out->overflow)
        msg_fatal("%s: edited file too large", path);
    postconf_write_atomic(path, STR(out), LEN(out), have_st ? &st : NULL);
    close(fd);                              /* releases the lock */

    for (i = 0; i < ed.count; i++) {
        mem_free(ed.names[i]);
        mem_free(ed.values[i]);
    }
    mem_free(ed.names);
    mem_free(ed.values);
    mem_free(ed.done);
    mem_free(text);
    mem_free(path);
    vstring_free(out);
    return 0;
}
