/* SPDX-License-Identifier: Apache-2.0 */
/* err.c - names for the error codes in err.h. */
#include "core/err.h"

const char *sl_strerror(int err)
{
	switch (err) {
	case SL_OK: return "ok";
	case SL_EAGAIN: return "need more data";
	case SL_EPROTO: return "malformed input";
	case SL_ELIMIT: return "limit exceeded";
	case SL_EINVAL: return "invalid value";
	case SL_ENOTFOUND: return "not found";
	case SL_EEXIST: return "already exists";
	case SL_EIO: return "i/o error";
	case SL_EAUTH: return "not authorized";
	case SL_EFULL: return "no capacity";
	case SL_EUNSUPP: return "not supported";
	}
	return "unknown error";
}
