/*
 * The memfds that outlive a serving process (the journal, slots, counts):
 * made sparse with their header written, and handed on by descriptor.
 */
#ifndef REGIONFS_MEMFD_H
#define REGIONFS_MEMFD_H

#include <stddef.h>
#include <stdint.h>

/* A new close-on-exec memfd called name, size bytes (sparse: only what is
 * written takes memory), starting with the len bytes of header: its
 * descriptor, or -errno. */
int rfs_memfd_new(const char *name, uint64_t size, const void *header, size_t len);
/* A close-on-exec copy of fd, for a table taking over one handed to it. */
int rfs_memfd_dup(int fd);
/* A shared mapping of the first size bytes of memfd *fd; where *fd < 0, a
 * new zeroed memfd called name, its descriptor put in *fd. NULL (errno) on
 * failure, *fd then as it was. */
void *rfs_memfd_map(const char *name, size_t size, int *fd);

#endif
