/* secret: handling of secret bytes: wipe, constant-time compare, random. */
#ifndef JWT_SECRET_H
#define JWT_SECRET_H

#include <stddef.h>

/* Must be called once before any other function here (sodium_init). */
int secret_init(void);

/* 1 if equal; time depends only on the lengths, never on the contents. */
int secret_equal(const void *a, size_t alen, const void *b, size_t blen);

void secret_wipe(void *p, size_t len);

/* Wipes a NUL-terminated heap string and frees it; NULL does nothing. */
void secret_free_str(char *s);

/* Fills buf from the system CSPRNG (libsodium randombytes). */
void secret_random(void *buf, size_t len);

#endif
