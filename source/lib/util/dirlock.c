/*
 * Directory locks: an exclusive flock() on a directory, taken once per
 * directory by a process.
 *
 * A join locks the directory of its journal, then the directory of
 * secrets.tdb.  Where smb.conf makes them one ("private dir" = "state
 * directory"), a second flock() on another descriptor of the same
 * directory would wait for ourselves forever (flock() locks belong to
 * an open file description).  So the second lock of a directory this
 * process holds is a reference to the first, and the flock() goes with
 * the last reference.  (odj is single-threaded.)
 */

#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

struct held_dir {
	struct held_dir *next;
	dev_t dev;
	ino_t ino;
	int fd;
	unsigned refs;
};

static struct held_dir *held;

struct odj_dir_lock {
	struct held_dir *h;
};

static int dir_lock_destructor(struct odj_dir_lock *lock)
{
	struct held_dir **p = NULL;

	if (--lock->h->refs > 0) {
		return 0;
	}
	for (p = &held; *p != NULL; p = &(*p)->next) {
		if (*p == lock->h) {
			*p = lock->h->next;
			break;
		}
	}
	close(lock->h->fd);	/* releases the flock() */
	free(lock->h);
	return 0;
}

static struct held_dir *find_held(const struct stat *st)
{
	struct held_dir *h = NULL;

	for (h = held; h != NULL; h = h->next) {
		if (h->dev == st->st_dev && h->ino == st->st_ino) {
			return h;
		}
	}
	return NULL;
}

NTSTATUS odj_dir_lock(TALLOC_CTX *mem_ctx, const char *dir,
		      struct odj_dir_lock **_lock, char **why)
{
	struct odj_dir_lock *lock = talloc_zero(mem_ctx, struct odj_dir_lock);
	struct held_dir *h = NULL;
	struct stat st;
	int fd, ret;

	if (lock == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1 || fstat(fd, &st) != 0) {
		int err = errno;

		odj_why(mem_ctx, why, "cannot open the directory %s: %s", dir,
			strerror(err));
		if (fd != -1) {
			close(fd);
		}
		TALLOC_FREE(lock);
		return map_nt_error_from_unix_common(err);
	}
	h = find_held(&st);
	if (h != NULL) {
		close(fd);
		h->refs++;
		lock->h = h;
		talloc_set_destructor(lock, dir_lock_destructor);
		*_lock = lock;
		return NT_STATUS_OK;
	}
	do {
		ret = flock(fd, LOCK_EX);
	} while (ret != 0 && errno == EINTR);
	h = ret == 0 ? calloc(1, sizeof(*h)) : NULL;
	if (h == NULL) {
		int err = ret != 0 ? errno : ENOMEM;

		odj_why(mem_ctx, why, "cannot lock the directory %s: %s", dir,
			strerror(err));
		close(fd);
		TALLOC_FREE(lock);
		return map_nt_error_from_unix_common(err);
	}
	*h = (struct held_dir) {
		.next = held, .dev = st.st_dev, .ino = st.st_ino, .fd = fd,
		.refs = 1,
	};
	held = h;
	lock->h = h;
	talloc_set_destructor(lock, dir_lock_destructor);
	*_lock = lock;
	return NT_STATUS_OK;
}
