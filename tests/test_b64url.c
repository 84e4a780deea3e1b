/* test_b64url: known answers (RFC 4648 section 10, RFC 7515 appendix C),
 * every byte value in every position, the canonical-form rules, and
 * round trips. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "b64url.h"
#include "test.h"

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Decodes in[0..len) and checks the result is exactly want[0..wlen). */
static int
decodes_to(const char *in, size_t len, const void *want, size_t wlen)
{
	unsigned char *out = NULL;
	size_t outlen = 0;
	struct err e = { 0 };
	int ok;

	if (b64url_decode(in, len, &out, &outlen, &e) == -1)
		return 0;
	ok = e.code == ERR_OK && outlen == wlen &&
	     (wlen == 0 || memcmp(out, want, wlen) == 0) && out[outlen] == '\0';
	free(out);
	return ok;
}

/* Decoding in[0..len) fails as non-canonical and leaves nothing behind. */
static int
rejected(const char *in, size_t len)
{
	unsigned char *out = (unsigned char *)"sentinel";
	size_t outlen = 7;
	struct err e = { 0 };

	return b64url_decode(in, len, &out, &outlen, &e) == -1 &&
	       e.code == ERR_TOKEN_MALFORMED && out == NULL && outlen == 0 &&
	       e.msg[0] != '\0';
}

/* Encodes data and checks the text and b64url_encoded_len agree. */
static int
encodes_to(const void *data, size_t len, const char *want)
{
	char *s = b64url_encode(data, len);
	int ok = s != NULL && strcmp(s, want) == 0 &&
	         b64url_encoded_len(len) == strlen(want);

	free(s);
	return ok;
}

#define S(lit) lit, sizeof(lit) - 1

/* RFC 4648 section 10, without the padding (RFC 7515 section 2). */
static void
test_rfc4648_vectors(void)
{
	static const struct {
		const char *raw, *enc;
	} v[] = {
		{ "", "" },
		{ "f", "Zg" },
		{ "fo", "Zm8" },
		{ "foo", "Zm9v" },
		{ "foob", "Zm9vYg" },
		{ "fooba", "Zm9vYmE" },
		{ "foobar", "Zm9vYmFy" },
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		CHECK(encodes_to(v[i].raw, strlen(v[i].raw), v[i].enc));
		CHECK(decodes_to(
		    v[i].enc, strlen(v[i].enc), v[i].raw, strlen(v[i].raw)));
	}
	/* The padded forms of the same vectors are not base64url. */
	CHECK(rejected(S("Zg==")));
	CHECK(rejected(S("Zg=")));
	CHECK(rejected(S("Zm8=")));
	CHECK(rejected(S("Zm9vYg==")));
	CHECK(rejected(S("Zm9vYmE=")));
}

/* RFC 7515 appendix C, and the two characters that differ from base64. */
static void
test_url_alphabet(void)
{
	static const unsigned char c_bytes[] = { 3, 236, 255, 224, 193 };
	static const unsigned char high[] = { 0xfb, 0xff, 0xbf };

	CHECK(encodes_to(c_bytes, sizeof(c_bytes), "A-z_4ME"));
	CHECK(decodes_to(S("A-z_4ME"), c_bytes, sizeof(c_bytes)));
	CHECK(encodes_to(high, sizeof(high), "-_-_"));
	CHECK(decodes_to(S("-_-_"), high, sizeof(high)));
	/* The same bytes in the standard alphabet (RFC 4648 section 4). */
	CHECK(rejected(S("A+z/4ME")));
	CHECK(rejected(S("+/+/")));
	CHECK(rejected(S("-_+/")));
}

static void
test_encoded_len(void)
{
	CHECK(b64url_encoded_len(0) == 0);
	CHECK(b64url_encoded_len(1) == 2);
	CHECK(b64url_encoded_len(2) == 3);
	CHECK(b64url_encoded_len(3) == 4);
	CHECK(b64url_encoded_len(4) == 6);
	CHECK(b64url_encoded_len(32) == 43);   /* a SHA-256 thumbprint */
	CHECK(b64url_encoded_len(256) == 342); /* an RS256 signature */
	/* Too large to encode: the "impossible" answer, never a wrap. */
	CHECK(b64url_encoded_len(SIZE_MAX) == SIZE_MAX);
	CHECK(b64url_encoded_len(SIZE_MAX / 4 * 3) == SIZE_MAX);
	CHECK(b64url_encoded_len(SIZE_MAX / 4 * 3 - 3) < SIZE_MAX);
	CHECK(b64url_encode("x", SIZE_MAX) == NULL);
}

/* Each of the 256 byte values in each of the four positions of a block:
 * exactly the 64 alphabet characters are accepted. */
static void
test_every_byte(void)
{
	for (int pos = 0; pos < 4; pos++) {
		int accepted = 0;

		for (int b = 0; b < 256; b++) {
			char in[4] = { 'A', 'A', 'A', 'A' };
			unsigned char *out = NULL;
			size_t outlen = 0;
			struct err e = { 0 };
			int in_alphabet = b != 0 && strchr(alphabet, b) != NULL;

			in[pos] = (char)b;
			if (b64url_decode(in, 4, &out, &outlen, &e) == 0) {
				accepted++;
				CHECK(in_alphabet);
				CHECK(outlen == 3);
			} else {
				CHECK(!in_alphabet);
				CHECK(e.code == ERR_TOKEN_MALFORMED);
			}
			free(out);
		}
		CHECK(accepted == 64);
	}
}

/* RFC 4648 section 3.5: the bits after the last whole byte must be zero,
 * or several texts decode to the same bytes. */
static void
test_trailing_bits(void)
{
	int ok2 = 0, ok3 = 0;

	CHECK(decodes_to(S("Zg"), "f", 1));
	CHECK(rejected(S("Zh")));
	CHECK(rejected(S("Zv")));
	CHECK(decodes_to(S("Zm8"), "fo", 2));
	CHECK(rejected(S("Zm9")));
	CHECK(rejected(S("Zm-")));
	for (int i = 0; i < 64; i++) {
		char two[2] = { 'A', alphabet[i] };
		char three[3] = { 'A', 'A', alphabet[i] };
		unsigned char *out = NULL;
		size_t outlen;
		struct err e = { 0 };

		if (b64url_decode(two, 2, &out, &outlen, &e) == 0) {
			ok2++;
			CHECK((i & 0x0f) == 0);
		}
		free(out);
		out = NULL;
		e = (struct err){ 0 };
		if (b64url_decode(three, 3, &out, &outlen, &e) == 0) {
			ok3++;
			CHECK((i & 0x03) == 0);
		}
		free(out);
	}
	CHECK(ok2 == 4);
	CHECK(ok3 == 16);
}

static void
test_lengths(void)
{
	CHECK(decodes_to(S(""), "", 0));
	CHECK(decodes_to(NULL, 0, "", 0));
	CHECK(rejected(S("Z")));
	CHECK(rejected(S("Zm9vY")));
	CHECK(rejected(S("Zm9vYmFyZ")));
	CHECK(decodes_to(S("Zm9vYg"), "foob", 4));
	CHECK(decodes_to(S("Zm9vYmE"), "fooba", 5));
}

static void
test_bad_bytes(void)
{
	CHECK(decodes_to(S("Zm9vYmFy"), "foobar", 6));
	CHECK(rejected(S("Zm9v YmFy")));
	CHECK(rejected(S("Zm9vYmFy ")));
	CHECK(rejected(S(" Zm9vYmFy")));
	CHECK(rejected(S("Zm9v\nYmFy")));
	CHECK(rejected(S("Zm9v\r\nYmFy")));
	CHECK(rejected(S("Zm9v\tYmF")));
	CHECK(rejected(S("Zm9vYmF=")));
	CHECK(rejected(S("Zm9v=mFy")));
	CHECK(rejected(S("Zm9v.mFy")));
	CHECK(rejected(S("Zm9v\x80mFy")));
	CHECK(rejected(S("Zm9v\xffmFy")));
	/* A NUL inside the given length is a byte like any other: rejected,
	 * never taken as the end of the input. */
	CHECK(rejected(S("Zm9v\0mFy")));
	CHECK(rejected(S("Zm\0\0")));
	CHECK(rejected(S("Zm9vYg\0\0")));
	/* The length is authoritative: bytes after it are not read. */
	CHECK(decodes_to("Zm9vYg==garbage", 6, "foob", 4));
}

/* Pseudo-random but reproducible (xorshift), so a failure replays. */
static uint32_t rng_state = 0x2545f491;

static uint32_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

static void
test_round_trip(void)
{
	unsigned char raw[300];
	int failures = 0;

	for (size_t len = 0; len < sizeof(raw); len++) {
		char *enc;

		for (size_t i = 0; i < len; i++)
			raw[i] = (unsigned char)rng();
		enc = b64url_encode(raw, len);
		if (enc == NULL || strlen(enc) != b64url_encoded_len(len) ||
		    strspn(enc, alphabet) != strlen(enc) ||
		    !decodes_to(enc, strlen(enc), raw, len))
			failures++;
		free(enc);
	}
	CHECK(failures == 0);
}

/* Canonical means one text per byte string: a random text over the
 * alphabet decodes if and only if encoding the result gives it back. */
static void
test_canonical_property(void)
{
	int failures = 0, accepted = 0;

	for (int n = 0; n < 20000; n++) {
		char text[16];
		size_t len = rng() % sizeof(text);
		unsigned char *out = NULL;
		size_t outlen = 0;
		struct err e = { 0 };
		char *again;

		for (size_t i = 0; i < len; i++)
			text[i] = alphabet[rng() % 64];
		if (b64url_decode(text, len, &out, &outlen, &e) == 0) {
			accepted++;
			again = b64url_encode(out, outlen);
			if (again == NULL || strlen(again) != len ||
			    memcmp(again, text, len) != 0)
				failures++;
			free(again);
		} else if (len % 4 != 1) {
			/* Over the alphabet, only stray bits in the last
			 * character can make a text non-canonical. */
			size_t last = (size_t)(strchr(alphabet, text[len - 1]) -
			                       alphabet);
			unsigned int mask = len % 4 == 2 ? 0x0f : 0x03;

			if (len % 4 == 0 || (last & mask) == 0)
				failures++;
		}
		free(out);
	}
	CHECK(failures == 0);
	CHECK(accepted > 0);
}

int
main(void)
{
	RUN(test_rfc4648_vectors);
	RUN(test_url_alphabet);
	RUN(test_encoded_len);
	RUN(test_every_byte);
	RUN(test_trailing_bits);
	RUN(test_lengths);
	RUN(test_bad_bytes);
	RUN(test_round_trip);
	RUN(test_canonical_property);
	return test_report();
}
