/*
 * command_status.h - the verdict on an external command's exit, as
 * Postfix's local(8) and pipe(8) give it.
 *
 * command_status(): exit 0 delivered; a <sysexits.h> code maps to its
 * enhanced status and text (75 EX_TEMPFAIL defers "temporary failure",
 * 67 EX_NOUSER bounces 5.1.1 "user unknown", 69 EX_UNAVAILABLE bounces
 * 5.3.0 "service unavailable", ...); any other code bounces 5.3.0
 * "Command died with status N: "command""; a signal defers 4.3.0
 * "Command died with signal N: "command"". The command's output, made
 * one printable line (control characters, its final newline included,
 * become spaces, as Postfix 3.7 logs it), follows as ". Command output: ...".
 *
 * DIAGNOSTICS: none; the verdict is the caller's to log.
 */
#ifndef POSTHORN_COMMAND_STATUS_H
#define POSTHORN_COMMAND_STATUS_H

#include "vstring.h"

/* DELIVER_SENT, DELIVER_DEFER or DELIVER_BOUNCE with dsn and why set
 * (output may be NULL; it is changed in place). */
int     command_status(int wait_status, const char *command, VSTRING *output,
                       VSTRING *dsn, VSTRING *why);

#endif
