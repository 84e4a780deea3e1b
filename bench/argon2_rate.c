/* argon2_rate: the physical limit of /login: argon2id verifications per
 * second at a given cost on N threads, with no HTTP or database around. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "password.h"
#include "secret.h"

struct worker {
	const char *hash;
	double seconds;
	long done;
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *
run(void *arg)
{
	struct worker *w = arg;
	double end = now_s() + w->seconds;

	while (now_s() < end) {
		if (!password_verify(w->hash, "password123", 11))
			abort(); /* the hash was made from this password */
		w->done++;
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	struct password_cost cost = { 2, 19456 * 1024 };
	char hash[PASSWORD_HASH_MAX];
	struct worker w[64];
	pthread_t t[64];
	struct err e = { 0 };
	int threads = 1;
	double seconds = 3, start, elapsed;
	long total = 0;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--threads") == 0)
			threads = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--seconds") == 0)
			seconds = atof(argv[i + 1]);
		else if (strcmp(argv[i], "--opslimit") == 0)
			cost.opslimit = strtoull(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--memlimit-kib") == 0)
			cost.memlimit = strtoull(argv[i + 1], NULL, 10) * 1024;
	}
	if (threads < 1 || threads > 64 || secret_init() == -1 ||
	    password_hash(&cost, "password123", 11, hash, &e) == -1) {
		fprintf(stderr,
		    "usage: argon2_rate [--threads N] [--seconds S] "
		    "[--opslimit T] [--memlimit-kib M]\n");
		return 2;
	}
	start = now_s();
	for (int i = 0; i < threads; i++) {
		w[i] = (struct worker){ hash, seconds, 0 };
		pthread_create(&t[i], NULL, run, &w[i]);
	}
	for (int i = 0; i < threads; i++) {
		pthread_join(t[i], NULL);
		total += w[i].done;
	}
	elapsed = now_s() - start;
	printf("argon2id verify t=%llu m=%zuKiB p=1 threads=%d: %.1f/s "
	       "(%.2f ms each per thread)\n",
	    cost.opslimit, cost.memlimit / 1024, threads,
	    (double)total / elapsed,
	    1000.0 * elapsed * threads / (double)total);
	return 0;
}
