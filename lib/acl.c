/* POSIX ACLs in the kernel's xattr form (see acl.h). */
#include "lib/acl.h"

#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#define ACL_VERSION   2
#define TAG_USER_OBJ  0x01
#define TAG_USER      0x02
#define TAG_GROUP_OBJ 0x04
#define TAG_GROUP     0x08
#define TAG_MASK      0x10
#define TAG_OTHER     0x20
#define HEADER	      4
#define ENTRY	      8

/* Entry i's fields; value is checked (rfs_acl_check) or being checked. */
static unsigned int tag(const unsigned char *v, size_t i)
{
	uint16_t t;

	memcpy(&t, v + HEADER + i * ENTRY, sizeof(t));
	return le16toh(t);
}

static unsigned int perm(const unsigned char *v, size_t i)
{
	uint16_t p;

	memcpy(&p, v + HEADER + i * ENTRY + 2, sizeof(p));
	return le16toh(p);
}

static void set_perm(unsigned char *v, size_t i, unsigned int p)
{
	uint16_t le = htole16((uint16_t)(p & 7));

	memcpy(v + HEADER + i * ENTRY + 2, &le, sizeof(le));
}

static uint32_t id(const unsigned char *v, size_t i)
{
	uint32_t x;

	memcpy(&x, v + HEADER + i * ENTRY + 4, sizeof(x));
	return le32toh(x);
}

static size_t count(size_t size)
{
	return (size - HEADER) / ENTRY;
}

int rfs_acl_check(const void *value, size_t size)
{
	const unsigned char *v = value;
	unsigned int last = 0, seen = 0;
	uint32_t version, last_id = 0;

	if (size < HEADER || (size - HEADER) % ENTRY)
		return -EINVAL;
	memcpy(&version, v, sizeof(version));
	if (le32toh(version) != ACL_VERSION)
		return -EINVAL;
	/* Tags ascending (the owner's entry first, other's last), each base
	 * tag once, named ones by ascending id. */
	for (size_t i = 0; i < count(size); i++) {
		unsigned int t = tag(v, i);
		bool named = t == TAG_USER || t == TAG_GROUP;

		if (perm(v, i) & ~7u || t < last)
			return -EINVAL;
		if (!named && t != TAG_USER_OBJ && t != TAG_GROUP_OBJ && t != TAG_MASK &&
		    t != TAG_OTHER)
			return -EINVAL;
		if (t == last && (!named || id(v, i) <= last_id))
			return -EINVAL;
		if (named)
			last_id = id(v, i);
		seen |= t;
		last = t;
	}
	if ((seen & (TAG_USER_OBJ | TAG_GROUP_OBJ | TAG_OTHER)) !=
	    (TAG_USER_OBJ | TAG_GROUP_OBJ | TAG_OTHER))
		return -EINVAL;
	if (seen & (TAG_USER | TAG_GROUP) && !(seen & TAG_MASK))
		return -EINVAL;
	return 0;
}

bool rfs_acl_to_mode(const void *value, size_t size, mode_t *mode)
{
	const unsigned char *v = value;
	mode_t m = *mode & ~(mode_t)0777;
	bool plain = true;

	for (size_t i = 0; i < count(size); i++) {
		switch (tag(v, i)) {
		case TAG_USER_OBJ:
			m |= perm(v, i) << 6;
			break;
		case TAG_GROUP_OBJ: /* the group bits, unless a mask (later) gives them */
		case TAG_MASK:
			m = (m & ~(mode_t)070) | perm(v, i) << 3;
			plain = plain && tag(v, i) == TAG_GROUP_OBJ;
			break;
		case TAG_OTHER:
			m |= perm(v, i);
			break;
		default:
			plain = false;
		}
	}
	*mode = m;
	return plain;
}

/* The entry that holds the group class's bits: the mask, else the owning group. */
static size_t group_class(const unsigned char *v, size_t size)
{
	size_t group = 0;

	for (size_t i = 0; i < count(size); i++) {
		if (tag(v, i) == TAG_MASK)
			return i;
		if (tag(v, i) == TAG_GROUP_OBJ)
			group = i;
	}
	return group;
}

void rfs_acl_chmod(void *value, size_t size, mode_t mode)
{
	unsigned char *v = value;

	for (size_t i = 0; i < count(size); i++) {
		if (tag(v, i) == TAG_USER_OBJ)
			set_perm(v, i, (mode >> 6) & 7);
		else if (tag(v, i) == TAG_OTHER)
			set_perm(v, i, mode & 7);
	}
	set_perm(v, group_class(v, size), (mode >> 3) & 7);
}

bool rfs_acl_inherit(const void *dflt, size_t size, void *access, mode_t *mode)
{
	unsigned char *v = access;
	mode_t m = *mode & 0777;
	bool plain = true;
	size_t g;

	memcpy(v, dflt, size);
	for (size_t i = 0; i < count(size); i++) {
		unsigned int p = perm(v, i);

		if (tag(v, i) == TAG_USER_OBJ) {
			p &= (m >> 6) & 7;
			set_perm(v, i, p);
			m = (m & ~(mode_t)0700) | (mode_t)p << 6;
		} else if (tag(v, i) == TAG_OTHER) {
			p &= m & 7;
			set_perm(v, i, p);
			m = (m & ~(mode_t)07) | p;
		} else if (tag(v, i) != TAG_GROUP_OBJ) {
			plain = false; /* named entries, a mask */
		}
	}
	/* The group bits and the mask (or the owning group) limit each other. */
	g = group_class(v, size);
	set_perm(v, g, perm(v, g) & ((m >> 3) & 7));
	m = (m & ~(mode_t)070) | (mode_t)perm(v, g) << 3;
	*mode = (*mode & ~(mode_t)0777) | m;
	return plain;
}
