/* mailbox: a one-slot lock-free handoff of owned references between the
 * control thread and a worker. */
#include "mailbox.h"

#include <stddef.h>

void
mailbox_init(struct mailbox *mb, void (*release)(void *item))
{
	atomic_init(&mb->item, NULL);
	mb->release = release;
}

void
mailbox_post(struct mailbox *mb, void *item)
{
	void *stale = atomic_exchange(&mb->item, item);

	/* The exchange hands the stale pointer to us alone: the worker can
	 * no longer take it, so releasing it here cannot race. */
	if (stale != NULL)
		mb->release(stale);
}

void *
mailbox_take(struct mailbox *mb)
{
	/* The common case, nothing new, must stay one plain load on the
	 * request path. */
	if (atomic_load_explicit(&mb->item, memory_order_relaxed) == NULL)
		return NULL;
	return atomic_exchange_explicit(&mb->item, NULL, memory_order_acq_rel);
}

void
mailbox_drain(struct mailbox *mb)
{
	void *item = mailbox_take(mb);

	if (item != NULL)
		mb->release(item);
}
