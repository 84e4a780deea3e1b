/* b64url: canonical base64url without padding (RFC 7515 section 2,
 * RFC 4648 section 5). Decoding accepts exactly one spelling per byte
 * string: no padding, no '+' '/' or whitespace, zero trailing bits. */
#ifndef JWT_B64URL_H
#define JWT_B64URL_H

#include <stddef.h>

#include "err.h"

/* Length of the encoding of n bytes (without NUL). */
size_t b64url_encoded_len(size_t n);

/* Returns a malloc'd NUL-terminated encoding, or NULL on out of memory. */
char *b64url_encode(const void *data, size_t len);

/* Decodes in[0..inlen) into a malloc'd buffer (NUL-terminated for
 * convenience, the NUL not counted in *outlen). Errors: ERR_TOKEN_MALFORMED
 * for any non-canonical input (length % 4 == 1, bad alphabet, padding,
 * non-zero trailing bits), ERR_NOMEM. */
int b64url_decode(const char *in, size_t inlen, unsigned char **out,
    size_t *outlen, struct err *e);

/* Bytes that inlen base64url characters decode to (at most). */
size_t b64url_decoded_len(size_t inlen);

/* As b64url_decode, into the caller's out[0..cap) (no NUL added): nothing
 * is allocated. cap below b64url_decoded_len(inlen) is ERR_INTERNAL. */
int b64url_decode_to(const char *in, size_t inlen, unsigned char *out,
    size_t cap, size_t *outlen, struct err *e);

#endif
