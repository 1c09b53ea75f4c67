/*
 * postconf.c - Postfix configuration utility: main() and option parsing.
 *
 * Usage (as Postfix's postconf):
 *   postconf [-dhHnx] [-c config_dir] [-o name=value] [name ...]
 *   postconf -e name=value ...      edit main.cf (also "name = value")
 *   postconf -X name ...            remove parameters from main.cf
 *   postconf -# name ...            comment out parameters in main.cf
 *   postconf -M [service[/type] ...] print master.cf entries
 *   postconf -m | -l | -a | -A      map types, lock methods, SASL types
 *
 * The configuration directory is -c, else $MAIL_CONFIG, else /etc/postfix.
 * postconf needs no other posthorn program and no running system.
 *
 * SECURITY: run by administrators; -e writes main.cf through a temporary
 * file and rename(), so a reader never sees a half-written file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "maps.h"
#include "mem.h"
#include "msg.h"
#include "postconf.h"

static int
postconf_compare(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

static void
postconf_show_maps(void)
{
    ARGV   *types = dict_types();
    size_t  i;

    qsort(types->argv, types->argc, sizeof(char *), postconf_compare);
    for (i = 0; i < types->argc; i++)
        if (i == 0 || strcmp(types->argv[i], types->argv[i - 1]) != 0)
            printf("%s\n", types->argv[i]);
    argv_free(types);
}

static void
postconf_usage(void)
{
    msg_fatal("usage: postconf [-dhHnx] [-c config_dir] [-e|-X|-#] [-M] [-m] [-l] "
              "[-o name=value] [name ...]");
}

int
main(int argc, char **argv)
{
    const char *dir = NULL;
    int     ch, flags = 0, status = 0;
    char    mode = 0;               /* e, X, #, M, m, l, a, A */
    ARGV   *overrides = argv_alloc();
    size_t  i;

    msg_init("postconf", MSG_STDERR | MSG_NOSYSLOG);
    while ((ch = getopt(argc, argv, "aAbc:deE#fFhHlmMno:pPtTvxX")) > 0) {
        switch (ch) {
        case 'c': dir = optarg; break;
        case 'd': flags |= PC_FLAG_DEFAULTS; break;
        case 'n': flags |= PC_FLAG_NONDEF; break;
        case 'h': flags |= PC_FLAG_VALUE; break;
        case 'H': flags |= PC_FLAG_NAME; break;
        case 'x': flags |= PC_FLAG_EXPAND; break;
        case 'o': argv_add(overrides, optarg); break;
        case 'v': msg_verbose++; break;
        case 'f': case 'p': break;          /* folding: not done; -p is the default */
        case 'e': case 'X': case '#': case 'M': case 'm': case 'l': case 'a': case 'A':
            if (mode && mode != ch)
                msg_fatal("specify one of -a, -A, -e, -l, -m, -M, -X, -#");
            mode = (char) ch;
            break;
        default:
            postconf_usage();
        }
    }
    if (dir != NULL && setenv("MAIL_CONFIG", dir, 1) < 0)
        msg_fatal("setenv: %m");

    switch (mode) {
    case 'l':
        printf("flock\nfcntl\ndotlock\n");
        return 0;
    case 'a':
        printf("cyrus\n");
        return 0;
    case 'A':
        printf("cyrus\n");
        return 0;
    case 'm':
        postconf_show_maps();
        return 0;
    case 'e':
        return postconf_edit_main(PC_EDIT_SET, argv + optind);
    case 'X':
        return postconf_edit_main(PC_EDIT_REMOVE, argv + optind);
    case '#':
        return postconf_edit_main(PC_EDIT_COMMENT, argv + optind);
    default:
        break;
    }
    if (!(flags & PC_FLAG_DEFAULTS) || mode == 'M')
        config_load(dir);
    else
        config_load_services(config_directory());
    for (i = 0; i < overrides->argc; i++)
        if (config_override_arg(overrides->argv[i]) < 0)
            msg_fatal("-o option requires name=value: \"%s\"", overrides->argv[i]);
    argv_free(overrides);
    if (mode == 'M')
        status = postconf_show_master(argv + optind);
    else
        status = postconf_show_params(flags, argv + optind);
    if (fflush(stdout) != 0 || ferror(stdout))
        msg_fatal("write error on standard output: %m");
    return status;
}
