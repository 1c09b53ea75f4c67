/*
 * test_user_acl.c - unit tests for lib/user_acl.c: the user lists of
 * authorized_submit_users, authorized_mailq_users, authorized_flush_users.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "user_acl.h"
#include "unit.h"

UNIT_TEST(names_and_negation)
{
    CHECK_INT(user_acl_match("t", "root, phjonas", "phjonas"), 1);
    CHECK_INT(user_acl_match("t", "root, PHJonas", "phjonas"), 1);      /* case */
    CHECK_INT(user_acl_match("t", "root phjonas", "phedison"), 0);
    CHECK_INT(user_acl_match("t", "!phedison, phedison", "phedison"), 0);
    CHECK_INT(user_acl_match("t", "!phedison static:anyone", "phjonas"), 1);
    CHECK_INT(user_acl_match("t", "!!phedison", "phedison"), 1);
    CHECK_INT(user_acl_match("t", "phedisonx", "phedison"), 0);         /* whole names */
}

UNIT_TEST(empty_list_refuses)
{
    CHECK_INT(user_acl_match("t", "", "root"), 0);
    CHECK_INT(user_acl_match("t", " , ", "phjonas"), 0);
}

UNIT_TEST(static_matches_everyone)
{
    CHECK_INT(user_acl_match("t", "static:anyone", "phedison"), 1);
    /* the word after "static:" is the value, not a user: everyone */
    CHECK_INT(user_acl_match("t", "static:root", "phedison"), 1);
    CHECK_INT(user_acl_match("t", "phjonas, static:anyone", "unknown"), 1);
}

UNIT_TEST(tables)
{
    CHECK_INT(user_acl_match("t", "inline:{ phjonas=yes }", "phjonas"), 1);
    CHECK_INT(user_acl_match("t", "inline:{ phjonas=yes }", "PHJONAS"), 1);
    CHECK_INT(user_acl_match("t", "inline:{ phjonas=yes }", "phedison"), 0);
    CHECK_INT(user_acl_match("t", "!inline:{ phjonas=yes }, static:x", "phjonas"), 0);
    /* a table that fails refuses */
    CHECK_INT(user_acl_match("t", "hash:/nonexistent/table, static:anyone", "phjonas"), -1);
}

UNIT_TEST(files)
{
    char    path[] = "/tmp/user_acl_testXXXXXX";
    int     fd = mkstemp(path);
    FILE   *fp = fdopen(fd, "w");
    char    spec[100];

    fputs("# who may\nphjonas  # the admin\n!phedison\n", fp);
    fclose(fp);
    snprintf(spec, sizeof(spec), "%s, static:anyone", path);
    CHECK_INT(user_acl_match("t", spec, "phjonas"), 1);
    CHECK_INT(user_acl_match("t", spec, "phedison"), 0);   /* refused inside the file */
    CHECK_INT(user_acl_match("t", spec, "phalice"), 1);    /* on to static:anyone */
    unlink(path);
    CHECK_INT(user_acl_match("t", spec, "phjonas"), -1);   /* file gone: refuse */
}

UNIT_TEST(check_by_uid)
{
    /* uid 0 has a passwd entry ("root"); the default value allows */
    CHECK(user_acl_check("authorized_flush_users", "static:anyone", 0) == NULL);
}

UNIT_TESTS {
    {"names_and_negation", names_and_negation},
    {"empty_list_refuses", empty_list_refuses},
    {"static_matches_everyone", static_matches_everyone},
    {"tables", tables},
    {"files", files},
    {"check_by_uid", check_by_uid},
    UNIT_END
};
