/* SPDX-License-Identifier: Apache-2.0 */
/*
 * err.h - error codes shared by every module.
 *
 * Functions return 0 (or a positive count) on success and one of these
 * negative codes on failure.  Parsers distinguish "need more data"
 * (SL_EAGAIN) from "bad input" (SL_EPROTO) and "input over a limit"
 * (SL_ELIMIT), so a caller can tell a slow peer from a hostile one.
 */
#ifndef SLUICE_CORE_ERR_H
#define SLUICE_CORE_ERR_H

enum {
	SL_OK = 0,
	SL_EAGAIN = -1,   /* need more input */
	SL_EPROTO = -2,   /* malformed input */
	SL_ELIMIT = -3,   /* input exceeds a configured limit */
	SL_EINVAL = -4,   /* bad argument or value */
	SL_ENOTFOUND = -5,
	SL_EEXIST = -6,
	SL_EIO = -7,
	SL_EAUTH = -8,    /* missing or bad credentials */
	SL_EFULL = -9,    /* admission refused: no room */
	SL_EUNSUPP = -10, /* valid but not supported */
};

const char *sl_strerror(int err);

#endif
