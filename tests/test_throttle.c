/* test_throttle: free failures, doubling, cap, forgetting, bounded size. */
#include <stdio.h>
#include <string.h>

#include "secret.h"
#include "test.h"
#include "throttle.h"

static const struct throttle_policy policy[THROTTLE_KINDS] = {
	[THROTTLE_USER] = { 3, 1, 8, 100 },
	[THROTTLE_ADDR] = { 5, 2, 30, 100 },
};

/* A table of max_entries under p; NULL after a failed check. */
static struct throttle *
table_new(const struct throttle_policy *p, size_t max_entries)
{
	struct err e = { 0 };
	struct throttle *t = throttle_new(p, max_entries, &e);

	CHECK(t != NULL);
	return t;
}

static int64_t
fail(struct throttle *t, enum throttle_kind k, const char *key, int64_t now)
{
	return throttle_failure(t, k, key, strlen(key), now);
}

static int64_t
wait_for(struct throttle *t, enum throttle_kind k, const char *key, int64_t now)
{
	return throttle_wait(t, k, key, strlen(key), now);
}

static void
test_free_then_doubling_then_cap(void)
{
	struct throttle *t = table_new(policy, 100);

	if (t == NULL)
		return;
	for (int i = 0; i < 3; i++)
		CHECK(fail(t, THROTTLE_USER, "alice", 1000) == 0);
	CHECK(wait_for(t, THROTTLE_USER, "alice", 1000) == 0);
	CHECK(fail(t, THROTTLE_USER, "alice", 1000) == 1);
	CHECK(wait_for(t, THROTTLE_USER, "alice", 1000) == 1);
	CHECK(wait_for(t, THROTTLE_USER, "alice", 1001) == 0);
	CHECK(fail(t, THROTTLE_USER, "alice", 1001) == 2);
	CHECK(fail(t, THROTTLE_USER, "alice", 1003) == 4);
	CHECK(fail(t, THROTTLE_USER, "alice", 1007) == 8);
	/* Capped: the real user never waits longer than max_delay. */
	CHECK(fail(t, THROTTLE_USER, "alice", 1015) == 8);
	for (int i = 0; i < 100; i++)
		fail(t, THROTTLE_USER, "alice", 1015);
	CHECK(wait_for(t, THROTTLE_USER, "alice", 1015) == 8);
	CHECK(wait_for(t, THROTTLE_USER, "alice", 1023) == 0);
	/* Another user, and the same text as an address, are not held. */
	CHECK(wait_for(t, THROTTLE_USER, "bob", 1015) == 0);
	CHECK(wait_for(t, THROTTLE_ADDR, "alice", 1015) == 0);
	throttle_free(t);
}

/* A cap that the doubling does not land on: 2, 4, 8, 16, then 30, never
 * 32 (the user policy's cap of 8 is reached exactly and would not show a
 * missing clamp). */
static void
test_cap_between_doublings(void)
{
	struct throttle *t = table_new(policy, 100);
	const int64_t want[] = { 2, 4, 8, 16, 30, 30 };
	int64_t now = 500;

	if (t == NULL)
		return;
	for (int i = 0; i < 5; i++)
		CHECK(fail(t, THROTTLE_ADDR, "192.0.2.7", now) == 0);
	for (size_t i = 0; i < sizeof(want) / sizeof(*want); i++) {
		CHECK(fail(t, THROTTLE_ADDR, "192.0.2.7", now) == want[i]);
		CHECK(wait_for(t, THROTTLE_ADDR, "192.0.2.7", now) == want[i]);
		now += want[i];
	}
	throttle_free(t);
}

static void
test_window_forgets_and_success_resets(void)
{
	struct throttle *t = table_new(policy, 100);

	if (t == NULL)
		return;
	for (int i = 0; i < 4; i++)
		fail(t, THROTTLE_USER, "carol", 0);
	CHECK(wait_for(t, THROTTLE_USER, "carol", 0) == 1);
	/* A quiet window later the failures are forgotten. */
	CHECK(fail(t, THROTTLE_USER, "carol", 99) > 0);
	CHECK(fail(t, THROTTLE_USER, "carol", 300) == 0);
	CHECK(throttle_size(t) == 1);
	for (int i = 0; i < 4; i++)
		fail(t, THROTTLE_USER, "carol", 300);
	CHECK(wait_for(t, THROTTLE_USER, "carol", 300) > 0);
	throttle_success(t, THROTTLE_USER, "carol", 5);
	CHECK(wait_for(t, THROTTLE_USER, "carol", 300) == 0);
	CHECK(throttle_size(t) == 0);
	throttle_free(t);
}

/* The window is inclusive of its end: failures exactly window seconds old
 * are forgotten, one second younger they count. A block longer than the
 * window (allowed: max_delay may exceed it) is served to its end even
 * though the failures behind it are older than the window. */
static void
test_window_boundary_and_long_blocks(void)
{
	static const struct throttle_policy long_blocks[THROTTLE_KINDS] = {
		[THROTTLE_USER] = { 0, 50, 200, 60 },
		[THROTTLE_ADDR] = { 0, 50, 200, 60 },
	};
	struct throttle *t = table_new(policy, 100);

	if (t == NULL)
		return;
	for (int i = 0; i < 3; i++) {
		CHECK(fail(t, THROTTLE_USER, "erin", 1000) == 0);
		CHECK(fail(t, THROTTLE_USER, "frank", 1000) == 0);
	}
	CHECK(fail(t, THROTTLE_USER, "erin", 1100) == 0);  /* forgotten */
	CHECK(fail(t, THROTTLE_USER, "frank", 1099) == 1); /* the 4th */
	throttle_free(t);

	if ((t = table_new(long_blocks, 100)) == NULL)
		return;
	CHECK(fail(t, THROTTLE_USER, "gina", 0) == 50);
	CHECK(fail(t, THROTTLE_USER, "gina", 50) == 100);
	/* The last failure is 61 s old, past the window: still blocked. */
	CHECK(wait_for(t, THROTTLE_USER, "gina", 111) == 39);
	CHECK(wait_for(t, THROTTLE_USER, "gina", 149) == 1);
	CHECK(wait_for(t, THROTTLE_USER, "gina", 150) == 0);
	throttle_free(t);
}

static void
test_keys_compared_with_length(void)
{
	struct throttle *t = table_new(policy, 100);
	const char nul[] = "dave\0x";

	if (t == NULL)
		return;
	for (int i = 0; i < 4; i++)
		throttle_failure(t, THROTTLE_USER, nul, sizeof(nul) - 1, 10);
	CHECK(throttle_wait(t, THROTTLE_USER, nul, sizeof(nul) - 1, 10) > 0);
	CHECK(wait_for(t, THROTTLE_USER, "dave", 10) == 0);
	throttle_free(t);
}

static void
test_memory_is_bounded(void)
{
	struct throttle *t = table_new(policy, 16);
	char key[32];

	if (t == NULL)
		return;
	for (int i = 0; i < 6; i++)
		fail(t, THROTTLE_ADDR, "10.0.0.1", 50);
	CHECK(wait_for(t, THROTTLE_ADDR, "10.0.0.1", 50) == 2);
	for (int i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "user%d", i);
		fail(t, THROTTLE_USER, key, 60 + i / 100);
		CHECK(throttle_size(t) <= 16);
	}
	CHECK(throttle_size(t) == 16);
	/* The newest keys survive; the oldest were evicted. */
	CHECK(wait_for(t, THROTTLE_ADDR, "10.0.0.1", 70) == 0);
	for (int i = 0; i < 4; i++)
		fail(t, THROTTLE_USER, "user999", 69);
	CHECK(wait_for(t, THROTTLE_USER, "user999", 69) > 0);
	throttle_free(t);
}

/* A full table forgets the key whose last failure is oldest, never the
 * one under attack (its failures are the newest). */
static void
test_full_table_evicts_the_oldest(void)
{
	struct throttle *t = table_new(policy, 16);
	char key[32];

	if (t == NULL)
		return;
	for (int i = 0; i < 15; i++) {
		snprintf(key, sizeof(key), "old%d", i);
		fail(t, THROTTLE_USER, key, 90);
	}
	for (int i = 0; i < 6; i++)
		fail(t, THROTTLE_USER, "victim", 100);
	CHECK(throttle_size(t) == 16);
	CHECK(wait_for(t, THROTTLE_USER, "victim", 100) == 4);
	fail(t, THROTTLE_USER, "intruder", 100);
	CHECK(throttle_size(t) == 16);
	CHECK(wait_for(t, THROTTLE_USER, "victim", 100) == 4);
	throttle_free(t);
}

/* Entries are found by their whole key: with as many buckets as entries a
 * bucket is one hash byte, so comparing less than the whole key would
 * let a key that never failed find another key's entry. */
static void
test_keys_compared_in_full(void)
{
	struct throttle *t = table_new(policy, 256);
	char key[32];
	int held = 0;

	if (t == NULL)
		return;
	for (int i = 0; i < 256; i++) {
		snprintf(key, sizeof(key), "blocked%d", i);
		for (int j = 0; j < 4; j++)
			fail(t, THROTTLE_USER, key, 10);
	}
	CHECK(throttle_size(t) == 256);
	CHECK(wait_for(t, THROTTLE_USER, "blocked7", 10) == 1);
	for (int i = 0; i < 200; i++) {
		snprintf(key, sizeof(key), "innocent%d", i);
		held += wait_for(t, THROTTLE_USER, key, 10) != 0;
	}
	CHECK(held == 0);
	throttle_free(t);
}

/* Attempts in flight count: a burst of concurrent guesses cannot all pass
 * the gate before the first failure is recorded. */
static void
test_attempts_in_flight_count(void)
{
	struct throttle *t = table_new(policy, 100);

	if (t == NULL)
		return;
	/* A key that never failed is not held, however many are in flight
	 * (one user's concurrent logins). */
	for (int i = 0; i < 5; i++) {
		CHECK(wait_for(t, THROTTLE_USER, "bob", 1000) == 0);
		throttle_begin(t, THROTTLE_USER, "bob", 3, 1000);
	}
	for (int i = 0; i < 5; i++)
		throttle_end(t, THROTTLE_USER, "bob", 3);
	CHECK(throttle_size(t) == 0);
	/* One failure of three free: two more attempts may be in flight. */
	fail(t, THROTTLE_USER, "bob", 1000);
	for (int i = 0; i < 2; i++) {
		CHECK(wait_for(t, THROTTLE_USER, "bob", 1000) == 0);
		throttle_begin(t, THROTTLE_USER, "bob", 3, 1000);
	}
	CHECK(wait_for(t, THROTTLE_USER, "bob", 1000) == 1);
	CHECK(wait_for(t, THROTTLE_USER, "carol", 1000) == 0); /* other key */
	for (int i = 0; i < 2; i++) {
		throttle_end(t, THROTTLE_USER, "bob", 3);
		fail(t, THROTTLE_USER, "bob", 1000);
	}
	/* Nothing in flight, free failures used: one attempt at a time. */
	CHECK(wait_for(t, THROTTLE_USER, "bob", 1000) == 0);
	throttle_begin(t, THROTTLE_USER, "bob", 3, 1000);
	CHECK(wait_for(t, THROTTLE_USER, "bob", 1000) == 1);
	throttle_end(t, THROTTLE_USER, "bob", 3);
	throttle_success(t, THROTTLE_USER, "bob", 3);
	CHECK(wait_for(t, THROTTLE_USER, "bob", 1000) == 0);
	CHECK(throttle_size(t) == 0);
	/* An attempt that succeeds leaves nothing behind; an end with no
	 * entry (forgotten, evicted) is harmless. */
	throttle_begin(t, THROTTLE_ADDR, "10.0.0.1", 8, 1000);
	CHECK(throttle_size(t) == 1);
	throttle_end(t, THROTTLE_ADDR, "10.0.0.1", 8);
	CHECK(throttle_size(t) == 0);
	throttle_end(t, THROTTLE_ADDR, "10.0.0.1", 8);
	CHECK(throttle_size(t) == 0);
	throttle_free(t);
}

int
main(void)
{
	if (secret_init() == -1)
		return 1;
	RUN(test_free_then_doubling_then_cap);
	RUN(test_cap_between_doublings);
	RUN(test_window_forgets_and_success_resets);
	RUN(test_window_boundary_and_long_blocks);
	RUN(test_keys_compared_with_length);
	RUN(test_full_table_evicts_the_oldest);
	RUN(test_keys_compared_in_full);
	RUN(test_memory_is_bounded);
	RUN(test_attempts_in_flight_count);
	return test_report();
}
