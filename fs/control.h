/*
 * The control plane: a sealed directory .regionfs/ at the mount root with
 *   control  write commands, one a line (commands.h); read the last result
 *   stats    one line per mapping, a header first
 *   stats.json  the same rows as one JSON document
 *   metrics  Prometheus text exposition
 *   holders  who holds each file open (fs/holders.h)
 * stats, metrics and holders show each reader only the files it could find with ls
 * and stat; .regionfs itself is left out of the root's listing.
 * Reads are served from a snapshot taken at open, with direct I/O so the
 * kernel never caches one snapshot for the next reader.
 */
#ifndef REGIONFS_CONTROL_H
#define REGIONFS_CONTROL_H

#include "fs/fs.h"

int rfs_control_init(struct rfs_daemon *d);

void rfs_control_open(fuse_req_t req, struct rfs_node *node, struct fuse_file_info *fi);
void rfs_control_read(fuse_req_t req, size_t size, off_t off, struct fuse_file_info *fi);
void rfs_control_write(fuse_req_t req, const char *buf, size_t size, struct fuse_file_info *fi);
/* close(): runs a last line the writer left without its newline. */
void rfs_control_flush(fuse_req_t req, struct fuse_file_info *fi);
void rfs_control_release(fuse_req_t req, struct fuse_file_info *fi);
struct rfs_handle;
/* A successor's object for a predecessor's open h of a control file
 * (fs/restart.c), or NULL. */
void *rfs_control_adopt(struct rfs_daemon *d, const struct rfs_handle *h);

#endif
