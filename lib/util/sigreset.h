/*
 * sigreset.h - signal state for a new child process, before it runs
 * another program.
 *
 * sigreset(sigs, count) puts the listed signals (every signal when sigs
 * is NULL) back to their default disposition and blocks none, so that a
 * handler or an ignored SIGPIPE of the parent does not reach the child.
 * master resets the signals it catches (a daemon keeps what master was
 * started with otherwise); spawn resets all before a user command.
 *
 * DIAGNOSTICS: none; a signal that cannot be reset is skipped silently.
 */
#ifndef POSTHORN_SIGRESET_H
#define POSTHORN_SIGRESET_H

#include <stddef.h>

void    sigreset(const int *sigs, size_t count);

#endif
