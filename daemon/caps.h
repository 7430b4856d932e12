/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef XPP_CAPS_H
#define XPP_CAPS_H

/* Drops every capability the running daemon does not need (caps.c). */
int caps_drop(void);
/* Raises a permitted capability into the effective set, for a moment. */
int caps_raise(int cap);
void caps_lower(int cap);

#endif
