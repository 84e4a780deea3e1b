/* b64url: canonical base64url without padding (RFC 7515 section 2, RFC 4648
 * section 5). Every request decodes three of these, so decoding is one table
 * lookup per character and a single validity test at the end. */
#include "b64url.h"

#include <stdint.h>
#include <stdlib.h>

static const char b64url_alphabet[64] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* 0..63 for the 64 characters of the URL-safe alphabet (RFC 4648 section 5
 * table 2), XX (0x80) for every other byte: '=', '+', '/', whitespace, NUL and
 * all of 0x80..0xff. Bit 7 marks an invalid byte, so a block of four is
 * checked with one test on the OR of its values. */
#define XX 0x80
/* One row per 16 byte values, 0x00 first. */
/* clang-format off */
static const uint8_t b64url_value[256] = {
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, 62, XX, XX,
	52, 53, 54, 55, 56, 57, 58, 59, 60, 61, XX, XX, XX, XX, XX, XX,
	XX,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14,
	15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, XX, XX, XX, XX, 63,
	XX, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
	41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
};
/* clang-format on */

/* Largest input whose encoding length fits in a size_t with room for the
 * NUL: n / 3 * 4 + 3 + 1 must not wrap. */
#define B64URL_MAX_RAW (SIZE_MAX / 4 * 3 - 3)

size_t
b64url_encoded_len(size_t n)
{
	/* SIZE_MAX is never a real answer below the limit, so it doubles as
	 * "too large" for b64url_encode. */
	if (n > B64URL_MAX_RAW)
		return SIZE_MAX;
	/* RFC 4648 section 3.5 without the padding RFC 7515 section 2
	 * omits: a final group of 1 or 2 bytes takes 2 or 3 characters. */
	return n / 3 * 4 + (n % 3 == 0 ? 0 : n % 3 + 1);
}

char *
b64url_encode(const void *data, size_t len)
{
	const unsigned char *in = data;
	size_t olen = b64url_encoded_len(len), i = 0;
	char *out, *o;

	if (olen == SIZE_MAX || (out = malloc(olen + 1)) == NULL)
		return NULL;
	o = out;
	for (; len - i >= 3; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
		             in[i + 2];
		*o++ = b64url_alphabet[v >> 18];
		*o++ = b64url_alphabet[(v >> 12) & 63];
		*o++ = b64url_alphabet[(v >> 6) & 63];
		*o++ = b64url_alphabet[v & 63];
	}
	if (len - i == 1) {
		*o++ = b64url_alphabet[in[i] >> 2];
		*o++ = b64url_alphabet[(in[i] & 3) << 4];
	} else if (len - i == 2) {
		uint32_t v = (uint32_t)in[i] << 8 | in[i + 1];
		*o++ = b64url_alphabet[v >> 10];
		*o++ = b64url_alphabet[(v >> 4) & 63];
		*o++ = b64url_alphabet[(v << 2) & 63];
	}
	*o = '\0';
	return out;
}

int
b64url_decode(const char *in, size_t inlen, unsigned char **out, size_t *outlen,
    struct err *e)
{
	unsigned char *buf;
	size_t cap = b64url_decoded_len(inlen);

	*out = NULL;
	*outlen = 0;
	/* The output is never longer than the input, so this cannot wrap. */
	if ((buf = malloc(cap + 1)) == NULL)
		return err_set(e, ERR_NOMEM, "base64url: out of memory");
	if (b64url_decode_to(in, inlen, buf, cap, outlen, e) == -1) {
		free(buf);
		return -1;
	}
	buf[*outlen] = '\0';
	*out = buf;
	return 0;
}

size_t
b64url_decoded_len(size_t inlen)
{
	return inlen / 4 * 3 + (inlen % 4 > 1 ? inlen % 4 - 1 : 0);
}

int
b64url_decode_to(const char *in, size_t inlen, unsigned char *out, size_t cap,
    size_t *outlen, struct err *e)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t full = inlen / 4, rest = inlen % 4;
	unsigned char *o = out;
	uint32_t bad = 0, v;

	*outlen = 0;
	/* One leftover character carries only 6 bits: no byte string encodes
	 * to that length (RFC 4648 section 4). */
	if (rest == 1)
		return err_set(e, ERR_TOKEN_MALFORMED,
		    "base64url: impossible length %zu", inlen);
	if (b64url_decoded_len(inlen) > cap)
		return err_set(e, ERR_INTERNAL,
		    "base64url: %zu characters do not fit %zu bytes", inlen,
		    cap);
	for (size_t i = 0; i < full; i++, p += 4) {
		uint32_t a = b64url_value[p[0]], b = b64url_value[p[1]];
		uint32_t c = b64url_value[p[2]], d = b64url_value[p[3]];

		bad |= a | b | c | d;
		v = a << 18 | b << 12 | c << 6 | d;
		o[0] = (unsigned char)(v >> 16);
		o[1] = (unsigned char)(v >> 8);
		o[2] = (unsigned char)v;
		o += 3;
	}
	if (rest == 2) {
		uint32_t a = b64url_value[p[0]], b = b64url_value[p[1]];

		bad |= a | b;
		/* Only the top 2 bits of b belong to the byte: the other 4
		 * must be zero or two strings decode to the same bytes (RFC
		 * 4648 section 3.5). */
		bad |= (b & 0x0f) != 0 ? XX : 0;
		*o++ = (unsigned char)(a << 2 | (b & 0x3f) >> 4);
	} else if (rest == 3) {
		uint32_t a = b64url_value[p[0]], b = b64url_value[p[1]];
		uint32_t c = b64url_value[p[2]];

		bad |= a | b | c;
		bad |= (c & 0x03) != 0 ? XX : 0;
		v = a << 12 | b << 6 | c;
		*o++ = (unsigned char)(v >> 10);
		*o++ = (unsigned char)(v >> 2);
	}
	if (bad & XX)
		return err_set(e, ERR_TOKEN_MALFORMED,
		    "base64url: not canonical base64url");
	*outlen = (size_t)(o - out);
	return 0;
}
