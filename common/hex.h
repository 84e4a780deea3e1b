/* hex: the value of one hexadecimal digit, for the three decoders that
 * meet them (JSON \u escapes, form and path percent-escapes). */
#ifndef JWT_HEX_H
#define JWT_HEX_H

/* 0..15 for 0-9, a-f, A-F; -1 for anything else (a negative char too). */
static inline int
hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

#endif
