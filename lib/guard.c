#include "lib/guard.h"

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>

/*
 * Per-thread guard state. This is the one piece of mutable state outside
 * the daemon object: a signal handler cannot be handed a context pointer,
 * and only the faulting thread's own state may be consulted. The jump
 * buffer pointer is volatile so that the handler never sees a value the
 * compiler kept in a register across sigsetjmp.
 */
static __thread sigjmp_buf *volatile guard_jmp;
static __thread uintptr_t volatile guard_lo;
static __thread uintptr_t volatile guard_hi;

static void on_sigbus(int sig, siginfo_t *si, void *uctx)
{
	uintptr_t addr = (uintptr_t)si->si_addr;

	(void)uctx;
	if (guard_jmp && addr >= guard_lo && addr < guard_hi)
		siglongjmp(*guard_jmp, 1);
	/* Not ours: restore the default action; returning re-executes the fault. */
	signal(sig, SIG_DFL);
}

static void install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigbus;
	/* SA_NODEFER: we leave the handler by siglongjmp without restoring a
	 * saved mask (saving it would cost a syscall per copy), so SIGBUS must
	 * not stay blocked afterwards. */
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
}

int rfs_guard_init(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	return -pthread_once(&once, install);
}

/* noinline keeps the setjmp frame simple and the locals on the stack. */
__attribute__((noinline)) int rfs_guarded_copy(void *dst, const void *src, size_t n, const void *lo,
					       size_t span)
{
	sigjmp_buf jb;

	if (sigsetjmp(jb, 0)) {
		sigset_t bus;

		guard_jmp = NULL;
		/* SA_NODEFER should leave SIGBUS unblocked, but a runtime that
		 * wraps handlers (ThreadSanitizer) may block it while ours runs:
		 * unblock it here, a syscall paid only on a fault. */
		sigemptyset(&bus);
		sigaddset(&bus, SIGBUS);
		pthread_sigmask(SIG_UNBLOCK, &bus, NULL);
		return -EIO;
	}
	guard_lo = (uintptr_t)lo;
	guard_hi = (uintptr_t)lo + span;
	guard_jmp = &jb;
	memcpy(dst, src, n);
	guard_jmp = NULL;
	return 0;
}
