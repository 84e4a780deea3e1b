/* mailbox: hands a reference-counted object (a key set, a route table) from
 * the control thread to one worker without a lock. The control thread posts
 * a new reference; the worker takes it at the start of its next request.
 * Whoever gets the pointer out of the atomic slot owns that reference. */
#ifndef RESOURCE_MAILBOX_H
#define RESOURCE_MAILBOX_H

#include <stdatomic.h>

struct mailbox {
	_Atomic(void *) item;
	void (*release)(void *item); /* drops one reference */
};

void mailbox_init(struct mailbox *mb, void (*release)(void *item));

/* Takes the caller's reference to item (not NULL). An item posted earlier
 * and never taken is released: only the newest matters. */
void mailbox_post(struct mailbox *mb, void *item);

/* Worker side: the newest posted item, now the caller's, or NULL when
 * nothing new was posted. Costs one relaxed load when empty. */
void *mailbox_take(struct mailbox *mb);

/* Releases an item never taken (at shutdown). */
void mailbox_drain(struct mailbox *mb);

#endif
