/*
 * user_acl.h - may the invoking user do this? The user lists of
 * authorized_submit_users, authorized_mailq_users and
 * authorized_flush_users.
 *
 * A list (the parameter's expanded value) holds, separated by commas
 * and/or white space:
 *   name          a login name, compared without regard to case
 *   type:table    the (lowercased) login name is looked up; any value
 *                 matches, so static:anyone matches everyone
 *   /file/name    more entries, read from the file (# comments)
 *   !entry        a match on entry ends the search as "not allowed"
 * The first entry that matches decides; no match (an empty list
 * included) means "not allowed". As in Postfix, a list that starts with
 * "static:" allows everyone without any lookup.
 *
 *   user_acl_match(title, spec, name)
 *       1 allowed, 0 not, -1 a table failed (a warning names it; the
 *       caller refuses).
 *   user_acl_check(title, spec, uid)
 *       the list spec (the value the caller read at start; title, its
 *       parameter name, for warnings) against the login name of
 *       uid ("unknown" when uid has no passwd entry). NULL when allowed;
 *       otherwise the name to report ("User NAME(uid) is not allowed
 *       ..."), valid until the next call.
 *
 * SECURITY: the list comes from main.cf (trusted); the name from the
 * passwd entry of the real uid, never from the environment. It is only
 * compared and used as a table key. /file nesting is bounded
 * (USER_ACL_MAX_DEPTH).
 *
 * DIAGNOSTICS: nothing is fatal; an unreadable list or table is a warning
 * and the user is refused.
 */
#ifndef POSTHORN_USER_ACL_H
#define POSTHORN_USER_ACL_H

#include <sys/types.h>

int     user_acl_match(const char *title, const char *spec, const char *name);
const char *user_acl_check(const char *title, const char *spec, uid_t uid);

#endif
