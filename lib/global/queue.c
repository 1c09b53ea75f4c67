/*
 * queue.c - queue directory names, queue ids, queue file creation,
 * readiness and moves.
 *
 * Interface: queue.h. Paths are relative to $queue_directory (the caller
 * has chdir'ed there).
 *
 * A new file in incoming/ is a recycled one when qmgr has retired one to
 * recycle/ (queue_file_retire(); renamed to its new id, overwritten, cut
 * to its new length by queue_file_trim() -- see "Recycled queue files"
 * below); otherwise, and in the other queues, it is created without a
 * name (O_TMPFILE, mode 0600) in the queue directory. Its id is then
 * made from the microseconds of the current time and its inode number,
 * and the file is linked to that name (linkat AT_EMPTY_PATH, through
 * fd_link()): one directory operation per message, and the
 * inode is allocated outside the directory's lock. link never replaces an
 * existing file, so an id collision just means "try again with a new
 * time". Where the file system has no O_TMPFILE, or the kernel refuses
 * to link an open file (before Linux 6.10 that needs CAP_DAC_READ_SEARCH;
 * /proc/self/fd is tried next, which a chroot without /proc lacks), the
 * file is created under a temporary name that can never be a queue id
 * ("tmp.<pid>.<n>": it has dots), with O_CREAT|O_EXCL|O_NOFOLLOW, linked
 * to its id name the same way and the temporary name removed. The first
 * failure picks the fallback for the rest of the process.
 *
 * SECURITY: queue ids come from clients; queue_id_ok() accepts only
 * [0-9A-Za-z]{1,QUEUE_ID_MAX}, so no id can hold '/' or "..". Queue names
 * are checked against the fixed list before they become part of a path.
 *
 * DIAGNOSTICS: a file in recycle/ that cannot be reused and is moved to
 * corrupt/ is a warning; otherwise none: a bad queue id or name is a 0
 * (not ok) or -1 return; system call failures are -1 with errno for the
 * caller to log.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/time.h>
#include <unistd.h>

#include "argv.h"
#include "fd_link.h"
#include "mail_params.h"
#include "mem.h"
#include "msg.h"
#include "queue.h"

#define QUEUE_CREATE_TRIES 1000

static const char *queue_names[] = {
    QUEUE_MAILDROP, QUEUE_INCOMING, QUEUE_ACTIVE, QUEUE_DEFERRED,
    QUEUE_HOLD, QUEUE_CORRUPT, QUEUE_BOUNCE, QUEUE_DEFER, QUEUE_TRACE, 0,
};

int
queue_name_ok(const char *queue)
{
    if (queue == NULL)
        return 0;
    for (const char **q = queue_names; *q; q++)
        if (strcmp(*q, queue) == 0)
            return 1;
    return 0;
}

int
queue_id_ok(const char *id)
{
    size_t  n;

    if (id == NULL)
        return 0;
    for (n = 0; id[n]; n++) {
        unsigned char ch = id[n];

        if (n >= QUEUE_ID_MAX)
            return 0;
        if (!((ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z')))
            return 0;
    }
    return n > 0;
}

/* ---- hashed queues ------------------------------------------------------- */

int
queue_hash_depth(const char *queue)
{
    static ARGV *names;
    static const char *parsed;          /* the value names came from */

    mail_params_need("queue_hash_depth");
    if (names == NULL || parsed != mail_params.hash_queue_names) {
        argv_free(names);
        names = argv_split(mail_params.hash_queue_names, ", \t\r\n");
        parsed = mail_params.hash_queue_names;
    }
    for (size_t i = 0; i < names->argc; i++)
        if (strcmp(names->argv[i], queue) == 0)
            return (int) mail_params.hash_queue_depth;
    return 0;
}

const char *
queue_dir_path(VSTRING *path, const char *queue, const char *id)
{
    int     depth = queue_hash_depth(queue);
    size_t  len = strlen(id);

    vstring_strcpy(path, queue);
    for (int i = 0; i < depth; i++) {
        vstring_addch(path, '/');
        vstring_addch(path, (size_t) i < len ? id[i] : '_');
    }
    return STR(path);
}

const char *
queue_path(VSTRING *path, const char *queue, const char *id)
{
    queue_dir_path(path, queue, id);
    vstring_addch(path, '/');
    vstring_cat(path, id);
    return STR(path);
}

int
queue_mkdirs(const char *path)
{
    char    dir[512];
    struct stat top;
    char   *slash;
    char   *first;

    if (strlen(path) >= sizeof(dir)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(dir, path);
    if ((first = strchr(dir, '/')) == NULL)
        return 0;
    *first = 0;
    if (stat(dir, &top) < 0)
        return -1;
    *first = '/';
    for (slash = strchr(first + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
        *slash = 0;
        if (mkdir(dir, 0700) == 0) {
            char   *up = strrchr(dir, '/');
            int     rc;

            if (geteuid() == 0 && chown(dir, top.st_uid, top.st_gid) < 0)
                return -1;
            *up = 0;                    /* the new entry is durable too */
            rc = queue_sync_dir(dir);
            *up = '/';
            if (rc < 0)
                return -1;
        } else if (errno != EEXIST) {
            return -1;
        }
        *slash = '/';
    }
    return 0;
}

/* One directory level of queue_walk(). */
static int
queue_walk_dir(const char *dir, int depth, QUEUE_WALK_FN fn, void *ctx)
{
    DIR    *dp;
    struct dirent *de;
    ARGV   *subdirs = argv_alloc();
    int     ret = 0;

    if ((dp = opendir(dir)) == NULL) {
        argv_free(subdirs);
        return 0;
    }
    while (ret == 0 && (de = readdir(dp)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (depth > 0 && de->d_name[1] == 0)
            argv_add(subdirs, de->d_name);
        else
            ret = fn(dir, de->d_name, ctx);
    }
    closedir(dp);
    for (size_t i = 0; ret == 0 && i < subdirs->argc; i++) {
        char    sub[512];
        struct stat st;

        snprintf(sub, sizeof(sub), "%s/%s", dir, subdirs->argv[i]);
        if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode))
            ret = queue_walk_dir(sub, depth - 1, fn, ctx);
        else
            ret = fn(dir, subdirs->argv[i], ctx);
    }
    argv_free(subdirs);
    return ret;
}

int
queue_walk(const char *queue, QUEUE_WALK_FN fn, void *ctx)
{
    return queue_walk_dir(queue, queue_hash_depth(queue), fn, ctx);
}

static int
queue_scan_one(const char *dir, const char *name, void *ctx)
{
    (void) dir;
    if (queue_id_ok(name))
        argv_add((ARGV *) ctx, name);
    return 0;
}

ARGV   *
queue_scan_ids(const char *queue)
{
    ARGV   *ids = argv_alloc();

    (void) queue_walk(queue, queue_scan_one, ids);
    return ids;
}

/* ---- incremental scans ---------------------------------------------------- */

/* One open directory of a scan: "queue" or "queue/h1[/h2...]". */
typedef struct QUEUE_SCAN_DIR {
    DIR    *dp;
    VSTRING *path;
} QUEUE_SCAN_DIR;

struct QUEUE_SCAN {
    int     depth;              /* the queue's hash depth */
    int     level;              /* index of the innermost open directory; -1: done */
    QUEUE_SCAN_DIR *dirs;       /* depth + 1 of them */
    VSTRING *id;                /* the name queue_scan_next() returned */
};

/* Open dir as the next level down; 0, or -1 when it is no directory. */
static int
queue_scan_push(QUEUE_SCAN *scan, const char *name)
{
    QUEUE_SCAN_DIR *up = scan->dirs + scan->level;
    QUEUE_SCAN_DIR *down = up + 1;
    struct stat st;

    vstring_strcpy(down->path, STR(up->path));
    vstring_addch(down->path, '/');
    vstring_cat(down->path, name);
    if (lstat(STR(down->path), &st) < 0 || !S_ISDIR(st.st_mode))
        return -1;
    if ((down->dp = opendir(STR(down->path))) != NULL)
        scan->level++;
    return 0;                           /* an unreadable subdirectory is skipped */
}

QUEUE_SCAN *
queue_scan_open(const char *queue)
{
    QUEUE_SCAN *scan = mem_alloc(sizeof(*scan));

    scan->depth = queue_hash_depth(queue);
    scan->dirs = mem_array((size_t) scan->depth + 1, sizeof(*scan->dirs));
    for (int i = 0; i <= scan->depth; i++)
        scan->dirs[i].path = vstring_alloc(64);
    scan->id = vstring_alloc(QUEUE_ID_MAX + 1);
    vstring_strcpy(scan->dirs[0].path, queue);
    scan->level = (scan->dirs[0].dp = opendir(queue)) != NULL ? 0 : -1;
    return scan;
}

const char *
queue_scan_next(QUEUE_SCAN *scan)
{
    struct dirent *de;
    const char *name;

    while (scan->level >= 0) {
        if ((de = readdir(scan->dirs[scan->level].dp)) == NULL) {
            closedir(scan->dirs[scan->level].dp);
            scan->dirs[scan->level--].dp = NULL;
            continue;
        }
        name = de->d_name;
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
            continue;
        if (scan->level < scan->depth && name[1] == 0 && queue_scan_push(scan, name) == 0)
            continue;
        if (queue_id_ok(name)) {
            vstring_strcpy(scan->id, name);
            return STR(scan->id);
        }
    }
    return NULL;
}

void
queue_scan_close(QUEUE_SCAN *scan)
{
    if (scan == NULL)
        return;
    for (int i = 0; i <= scan->depth; i++) {
        if (scan->dirs[i].dp != NULL)
            closedir(scan->dirs[i].dp);
        vstring_free(scan->dirs[i].path);
    }
    mem_free(scan->dirs);
    vstring_free(scan->id);
    mem_free(scan);
}

int
queue_file_ready(int fd)
{
    if (fchmod(fd, QUEUE_MODE_READY) < 0)
        return -1;
    return fsync(fd);
}

int
queue_file_is_ready(const char *path)
{
    struct stat st;

    if (stat(path, &st) < 0)
        return -1;
    return (st.st_mode & S_IXUSR) ? 1 : 0;
}

/*
 * Recycled queue files (QUEUE_RECYCLE, see queue.h): qmgr retires a
 * delivered message's file there (mode QUEUE_MODE_RECYCLED) instead of
 * unlinking it, and queue_file_create() renames one to a new id in
 * incoming/ instead of allocating an inode. On ext4 without a journal
 * every inode allocation searches past the inodes freed in the last
 * minutes (docs/PERFORMANCE.md section 26); a reused file is neither
 * freed nor allocated. Its blocks are kept too, up to
 * QUEUE_RECYCLE_KEEP bytes (so the directory never holds more than about
 * QUEUE_RECYCLE_MAX * QUEUE_RECYCLE_KEEP of disk, whatever the size of
 * the messages): the next message overwrites them and queue_file_trim()
 * cuts what is left past its end.
 * Freeing blocks at retire time (truncate) cost qmgr a wait for the disk
 * on a file system mounted with "discard", which trims freed blocks
 * synchronously (section 28), and block allocation again for the next
 * message.
 */
#define QUEUE_RECYCLE_MAX   1000        /* files kept, at most */
#define QUEUE_RECYCLE_SLACK 100         /* unlinked after a count at the bound */
#define QUEUE_RECYCLE_BATCH 8           /* names a process tries per read */
#define QUEUE_RECYCLE_READ  2048        /* bytes of directory per read */
#define QUEUE_RECYCLE_KEEP  65536       /* bytes of a retired file kept, at most */

static int queue_recycle_off;           /* renameat2 NOREPLACE refused here */

static int
queue_is_recycled(const char *temp)
{
    return strncmp(temp, QUEUE_RECYCLE "/", sizeof(QUEUE_RECYCLE)) == 0;
}

/* The number of files in QUEUE_RECYCLE (-1: no directory): the whole
 * directory is read, so qmgr counts only now and then
 * (queue_file_retire()). */
static long
queue_recycle_count(void)
{
    DIR    *dp = opendir(QUEUE_RECYCLE);
    struct dirent *de;
    long    count = 0;

    if (dp == NULL)
        return -1;
    while ((de = readdir(dp)) != NULL)
        count += queue_id_ok(de->d_name);
    closedir(dp);
    return count;
}

/*
 * Up to max names of files in QUEUE_RECYCLE, from one small read of the
 * directory (a block or two of it, however many files wait there),
 * starting at a per-process offset among the names read, so that
 * concurrent cleanups try different files first: 0, or -1 (no directory).
 */
static int
queue_recycle_sample(ARGV *names, size_t max)
{
    union {
        struct dirent64 de;             /* alignment */
        char    buf[QUEUE_RECYCLE_READ];
    }       u;
    const char *found[QUEUE_RECYCLE_READ / 24];    /* 24: the smallest record */
    size_t  n = 0;
    ssize_t len;
    int     fd = open(QUEUE_RECYCLE, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (fd < 0)
        return -1;
    len = getdents64(fd, u.buf, sizeof(u.buf));
    for (ssize_t off = 0; off < len;) {
        struct dirent64 *de = (struct dirent64 *) (u.buf + off);

        if (de->d_reclen == 0)
            break;
        if (queue_id_ok(de->d_name) && n < sizeof(found) / sizeof(found[0]))
            found[n++] = de->d_name;
        off += de->d_reclen;
    }
    for (size_t i = 0; i < n && i < max; i++)
        argv_add(names, found[((size_t) getpid() + i) % n]);
    (void) close(fd);
    return 0;
}

/*
 * A file of ours in recycle/ that is not reusable (queue_recycle_open())
 * is never used and never cut: with a second name (after a crash on a
 * file system without a journal both the old and the new name of a
 * reused file can survive; the other one is the live message) its
 * recycle/ name is removed; any other mode (the ready mode; 0600 with
 * content: a cleanup took the file, its name here survived a crash --
 * qmgr sets QUEUE_MODE_RECYCLED before it renames a file here, and a
 * cleanup sets 0600 as soon as it has taken one) goes to corrupt/, as
 * Postfix does with a queue file it cannot use, for the administrator to
 * look at. (Before section 28 qmgr emptied a file and set 0600: such a
 * file, empty, is still reused.)
 */
static void
queue_recycle_reject(const char *path, const struct stat *st)
{
    VSTRING *to = vstring_alloc(256);

    if (S_ISREG(st->st_mode) && st->st_nlink > 1) {
        (void) unlink(path);
    } else {
        vstring_sprintf(to, "%s/%s", QUEUE_CORRUPT, path + sizeof(QUEUE_RECYCLE));
        if (renameat2(AT_FDCWD, path, AT_FDCWD, STR(to), RENAME_NOREPLACE) == 0)
            msg_warn("%s: not a reusable queue file; moved to %s", path, STR(to));
    }
    vstring_free(to);
}

/*
 * Open a recycled file that is safe to reuse: a regular file with one
 * link, mode QUEUE_MODE_RECYCLED (or 0600 and empty: retired by an older
 * qmgr); others of ours are put out of the way
 * (queue_recycle_reject()), another owner's are left alone (root's
 * postdrop can read recycle/: the files are not its to take or judge).
 * temp gets its path; fd or -1 (none). An empty directory is read again
 * only after 10 ms.
 */
static int
queue_recycle_open(VSTRING *temp)
{
    static ARGV *names;
    static struct timeval next_scan;
    struct timeval now;
    struct stat st;
    int     fd;

    if (queue_recycle_off)
        return -1;
    if (names == NULL)
        names = argv_alloc();
    for (int scans = 0; scans < 2;) {
        if (names->argc == 0) {
            gettimeofday(&now, NULL);
            if (timercmp(&now, &next_scan, <))
                return -1;
            scans++;
            if (queue_recycle_sample(names, QUEUE_RECYCLE_BATCH) < 0 || names->argc == 0) {
                next_scan = now;
                next_scan.tv_usec += 10000;
                if (next_scan.tv_usec >= 1000000) {
                    next_scan.tv_sec++;
                    next_scan.tv_usec -= 1000000;
                }
                return -1;
            }
        }
        vstring_sprintf(temp, "%s/%s", QUEUE_RECYCLE, names->argv[names->argc - 1]);
        argv_truncate(names, names->argc - 1);
        if ((fd = open(STR(temp), O_RDWR | O_NOFOLLOW | O_CLOEXEC)) < 0)
            continue;                           /* taken by another process */
        if (fstat(fd, &st) < 0) {
            (void) close(fd);
            continue;
        }
        if (st.st_uid != geteuid()) {
            (void) close(fd);
            return -1;                          /* not ours: none of them are */
        }
        if (S_ISREG(st.st_mode) && st.st_nlink == 1
            && ((st.st_mode & 07777) == QUEUE_MODE_RECYCLED
                || ((st.st_mode & 07777) == QUEUE_MODE_NEW && st.st_size == 0)))
            return fd;
        (void) close(fd);
        queue_recycle_reject(STR(temp), &st);
    }
    return -1;
}

int
queue_file_retire(const char *queue, const char *id)
{
    static long kept = -1;              /* files in QUEUE_RECYCLE, at most */
    static int unlink_next;             /* retires that unlink without a count */
    struct stat st;
    VSTRING *path = vstring_alloc(256);
    VSTRING *to = vstring_alloc(256);
    int     ret;

    if (!queue_name_ok(queue) || !queue_id_ok(id)) {
        errno = EINVAL;
        return -1;
    }
    queue_path(path, queue, id);

    /*
     * kept counts up only (cleanups take files unseen): at the bound,
     * count again. When the directory is full (or missing), unlink the
     * next QUEUE_RECYCLE_SLACK files before counting again: a full
     * directory stays full while mail flows (one file in, one out per
     * message), and counting it for every message would read all of it
     * each time.
     */
    if (unlink_next > 0) {
        unlink_next--;
    } else if (kept < 0 || kept >= QUEUE_RECYCLE_MAX) {
        kept = queue_recycle_count();
        if (kept < 0 || kept >= QUEUE_RECYCLE_MAX) {
            kept = QUEUE_RECYCLE_MAX;
            unlink_next = QUEUE_RECYCLE_SLACK;
        }
    }
    vstring_sprintf(to, "%s/%s", QUEUE_RECYCLE, id);
    /* The mode first: a recycled file must never look ready anywhere. */
    if (kept < QUEUE_RECYCLE_MAX && chmod(STR(path), QUEUE_MODE_RECYCLED) == 0
        && stat(STR(path), &st) == 0
        && (st.st_size <= QUEUE_RECYCLE_KEEP || truncate(STR(path), QUEUE_RECYCLE_KEEP) == 0)
        && rename(STR(path), STR(to)) == 0) {
        kept++;
        ret = 0;
    } else if ((ret = unlink(STR(path))) < 0 && errno == ENOENT) {
        ret = 0;
    }
    vstring_free(path);
    vstring_free(to);
    return ret;
}

/*
 * How this process links a new queue file to its id: an unnamed file
 * given its name by fd_link() (its method kept here), or, once that
 * method is FD_LINK_NONE, a named temporary file (never back up).
 */
static FD_LINK_HOW queue_link_how = FD_LINK_EMPTY_PATH;

/* Open a fresh file in queue, named in temp or unnamed (temp empty); fd or -1. */
static int
queue_temp_open(const char *queue, VSTRING *temp)
{
    static unsigned long serial;
    int     fd;

    (void) vstring_strcpy(temp, "");
    if (queue_link_how != FD_LINK_NONE) {
        fd = open(queue, O_TMPFILE | O_RDWR | O_CLOEXEC, QUEUE_MODE_NEW);
        if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
            return fd;
        queue_link_how = FD_LINK_NONE;          /* no O_TMPFILE here */
    }
    for (int tries = 0; tries < QUEUE_CREATE_TRIES; tries++) {
        vstring_sprintf(temp, "%s/tmp.%ld.%lu", queue, (long) getpid(), serial++);
        fd = open(STR(temp), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                  QUEUE_MODE_NEW);
        if (fd >= 0 || errno != EEXIST)
            return fd;
        /* A leftover of an earlier process with our pid: it is garbage. */
        (void) unlink(STR(temp));
    }
    errno = EEXIST;
    return -1;
}

/* Give the open file fd (named temp, or unnamed) the name path; 0 or -1
 * (EAGAIN: this kernel cannot link an open file after all, start over). */
static int
queue_link(int fd, const char *temp, const char *path)
{
    if (queue_is_recycled(temp))
        return renameat2(AT_FDCWD, temp, AT_FDCWD, path, RENAME_NOREPLACE);
    if (*temp)
        return link(temp, path);
    if (fd_link(fd, path, &queue_link_how) == 0)
        return 0;
    if (errno == EOPNOTSUPP)
        errno = EAGAIN;                         /* named files from now on */
    return -1;
}

/* queue_link() with the hash directories made on demand; 0 or -1. */
static int
queue_link_mkdirs(int fd, const char *temp, const char *path)
{
    if (queue_link(fd, temp, path) == 0)
        return 0;
    if (errno != ENOENT)
        return -1;
    if (queue_mkdirs(path) < 0)
        return -1;
    return queue_link(fd, temp, path);
}

/* Link the new file to its queue id name; 0 or -1 (EAGAIN: start over). */
static int
queue_temp_publish(const char *queue, int fd, const char *temp, VSTRING *id)
{
    VSTRING *path = vstring_alloc(1024);
    struct stat st;
    struct timeval tv;
    int     ret = -1;

    if (fstat(fd, &st) < 0) {
        vstring_free(path);
        return -1;
    }
    for (int tries = 0; tries < QUEUE_CREATE_TRIES; tries++) {
        gettimeofday(&tv, NULL);
        vstring_sprintf(id, "%05lX%lX", (unsigned long) tv.tv_usec & 0xfffff,
                        (unsigned long) st.st_ino);
        queue_path(path, queue, STR(id));
        if (queue_link_mkdirs(fd, temp, STR(path)) == 0) {
            ret = 0;
            break;
        }
        if (errno != EEXIST)
            break;
        usleep(10);
    }
    vstring_free(path);
    return ret;
}

/*
 * A recycled file renamed to a new id in queue, mode 0600 (taken: no
 * longer reusable should its recycle/ name survive a crash): fd, or -1.
 * Only the process whose rename succeeds writes to it (a cleanup that
 * opened the same one loses the rename and lets it be); it still holds
 * its last message until the caller overwrites it and cuts it to length
 * (queue_file_trim()).
 */
static int
queue_recycle_take(const char *queue, VSTRING *temp, VSTRING *id)
{
    int     fd;

    for (int tries = 0; tries < 4 && (fd = queue_recycle_open(temp)) >= 0; tries++) {
        if (queue_temp_publish(queue, fd, STR(temp), id) == 0) {
            if (fchmod(fd, QUEUE_MODE_NEW) == 0)
                return fd;
            (void) unlink(queue_path(temp, queue, STR(id)));
            (void) close(fd);
            continue;
        }
        if (errno == EINVAL || errno == ENOSYS)
            queue_recycle_off = 1;              /* no RENAME_NOREPLACE here */
        (void) close(fd);
    }
    return -1;
}

STREAM *
queue_file_create(const char *queue, VSTRING *id)
{
    VSTRING *temp;
    STREAM *s;
    int     fd = -1;
    int     saved;

    if (!queue_name_ok(queue)) {
        errno = EINVAL;
        return NULL;
    }
    temp = vstring_alloc(1024);
    if (strcmp(queue, QUEUE_INCOMING) == 0 && (fd = queue_recycle_take(queue, temp, id)) >= 0)
        vstring_strcpy(temp, "");               /* the recycled name is gone */
    for (int attempt = 0; attempt < 3 && fd < 0; attempt++) {
        if ((fd = queue_temp_open(queue, temp)) < 0)
            break;
        if (queue_temp_publish(queue, fd, STR(temp), id) < 0) {
            saved = errno;
            if (*STR(temp))
                (void) unlink(STR(temp));
            (void) close(fd);
            fd = -1;
            errno = saved;
            if (saved != EAGAIN)
                break;
        }
    }
    if (fd < 0) {
        vstring_free(temp);
        return NULL;
    }
    if (*STR(temp))
        (void) unlink(STR(temp));
    vstring_free(temp);
    if ((s = stream_fdopen(fd)) == NULL) {
        saved = errno;
        (void) close(fd);
        errno = saved;
    }
    return s;
}

int
queue_file_trim(int fd, off_t end)
{
    struct stat st;

    if (fstat(fd, &st) < 0)
        return -1;
    return st.st_size > end ? ftruncate(fd, end) : 0;
}

int
queue_sync_dir(const char *dir)
{
    int     fd;
    int     ret;

    if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
        return -1;
    ret = fsync(fd);
    (void) close(fd);
    return ret;
}

#define QUEUE_EXT4_MAGIC  0xEF53L         /* also ext2/ext3: see PERFORMANCE.md */
#define QUEUE_XFS_MAGIC   0x58465342L

int
queue_fs_syncs_names(long f_type)
{
    return f_type == QUEUE_EXT4_MAGIC || f_type == QUEUE_XFS_MAGIC;
}

int
queue_fd_syncs_names(int fd)
{
    static int answer = -1;
    struct statfs sfs;

    if (answer < 0) {
        if (fstatfs(fd, &sfs) < 0)
            return 0;                   /* unknown: sync the directory too */
        answer = queue_fs_syncs_names((long) sfs.f_type);
    }
    return answer;
}

int
queue_file_move(const char *from_queue, const char *to_queue, const char *id, int durable)
{
    VSTRING *from;
    VSTRING *to;
    int     ret = -1;

    if (!queue_name_ok(from_queue) || !queue_name_ok(to_queue) || !queue_id_ok(id)) {
        errno = EINVAL;
        return -1;
    }
    from = vstring_alloc(256);
    to = vstring_alloc(256);
    queue_path(from, from_queue, id);
    queue_path(to, to_queue, id);
    if (rename(STR(from), STR(to)) == 0
        || (errno == ENOENT && access(STR(from), F_OK) == 0
            && queue_mkdirs(STR(to)) == 0 && rename(STR(from), STR(to)) == 0))
        ret = durable ? queue_sync_dir(queue_dir_path(to, to_queue, id)) : 0;
    vstring_free(from);
    vstring_free(to);
    return ret;
}

int
queue_file_touch(const char *queue, const char *id)
{
    VSTRING *path = vstring_alloc(256);
    int     ret;

    /* utimensat(NULL), not utimes(NULL): the same for the kernel, but
     * libfaketime (tests/first-of-month.sh) turns utimes(NULL) into 1969 */
    ret = utimensat(AT_FDCWD, queue_path(path, queue, id), NULL, 0);
    vstring_free(path);
    return ret;
}
