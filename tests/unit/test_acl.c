/*
 * Unit tests for lib/acl.c: which ACLs are well-formed, the mode an access
 * ACL implies, chmod's rewrite of one, and a new node's ACL and mode from
 * its directory's default ACL (POSIX's create rules).
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/unit/check_main.h"
#include "lib/acl.h"

enum { USER_OBJ = 1, USER = 2, GROUP_OBJ = 4, GROUP = 8, MASK = 0x10, OTHER = 0x20 };
#define ANY 0xffffffffu

struct entry {
	unsigned int tag, perm;
	uint32_t id;
};

/* The xattr form of n entries into buf (little-endian, as on x86); its size. */
static size_t acl(unsigned char *buf, const struct entry *e, size_t n)
{
	uint32_t version = 2;

	memcpy(buf, &version, 4);
	for (size_t i = 0; i < n; i++) {
		uint16_t tag = (uint16_t)e[i].tag, perm = (uint16_t)e[i].perm;

		memcpy(buf + 4 + 8 * i, &tag, 2);
		memcpy(buf + 4 + 8 * i + 2, &perm, 2);
		memcpy(buf + 4 + 8 * i + 4, &e[i].id, 4);
	}
	return 4 + 8 * n;
}

static unsigned int perm_of(const unsigned char *buf, size_t i)
{
	uint16_t p;

	memcpy(&p, buf + 4 + 8 * i + 2, 2);
	return p;
}

#define ACL(buf, ...)                                                                              \
	acl(buf, (const struct entry[]){__VA_ARGS__},                                              \
	    sizeof((const struct entry[]){__VA_ARGS__}) / sizeof(struct entry))

START_TEST(well_formed)
{
	unsigned char b[256];
	size_t n;

	n = ACL(b, {USER_OBJ, 6, ANY}, {GROUP_OBJ, 4, ANY}, {OTHER, 4, ANY});
	ck_assert_int_eq(rfs_acl_check(b, n), 0);
	n = ACL(b, {USER_OBJ, 6, ANY}, {USER, 7, 10}, {USER, 5, 20}, {GROUP_OBJ, 4, ANY},
		{GROUP, 1, 5}, {MASK, 7, ANY}, {OTHER, 0, ANY});
	ck_assert_int_eq(rfs_acl_check(b, n), 0);
	/* named entries need a mask */
	n = ACL(b, {USER_OBJ, 6, ANY}, {USER, 7, 10}, {GROUP_OBJ, 4, ANY}, {OTHER, 4, ANY});
	ck_assert_int_eq(rfs_acl_check(b, n), -EINVAL);
	/* ids ascending, no duplicates */
	n = ACL(b, {USER_OBJ, 6, ANY}, {USER, 7, 20}, {USER, 7, 10}, {GROUP_OBJ, 4, ANY},
		{MASK, 7, ANY}, {OTHER, 4, ANY});
	ck_assert_int_eq(rfs_acl_check(b, n), -EINVAL);
	n = ACL(b, {USER_OBJ, 6, ANY}, {USER, 7, 10}, {USER, 7, 10}, {GROUP_OBJ, 4, ANY},
		{MASK, 7, ANY}, {OTHER, 4, ANY});
	ck_assert_int_eq(rfs_acl_check(b, n), -EINVAL);
	/* a base entry missing, twice, out of order; a bad tag or perm */
	n = ACL(b, {USER_OBJ, 6, ANY}, {OTHER, 4, ANY});
	ck_assert_int_eq(rfs_acl_check(b, n), -EINVAL);
	n = ACL(b, {USER_OBJ, 6, ANY}, {USER_OBJ, 6, ANY}, {GROUP_OBJ, 4, ANY}, {OTHER, 4, ANY});
	ck_assert_int_eq(rfs_acl_check(b, n), -EINVAL);
	n = ACL(b, {GROUP_OBJ, 4, ANY}, {USER_OBJ, 6, ANY}, {OTHER, 4, ANY});
	ck_assert_int_eq(rfs_acl_check(b, n), -EINVAL);
	n = ACL(b, {USER_OBJ, 6, ANY}, {GROUP_OBJ, 4, ANY}, {0x40, 4, ANY});
	ck_assert_int_eq(rfs_acl_check(b, n), -EINVAL);
	n = ACL(b, {USER_OBJ, 8, ANY}, {GROUP_OBJ, 4, ANY}, {OTHER, 4, ANY});
	ck_assert_int_eq(rfs_acl_check(b, n), -EINVAL);
	/* sizes: no entries, a partial entry, a wrong version */
	ck_assert_int_eq(rfs_acl_check(b, 4), -EINVAL);
	ck_assert_int_eq(rfs_acl_check(b, 3), -EINVAL);
	n = ACL(b, {USER_OBJ, 6, ANY}, {GROUP_OBJ, 4, ANY}, {OTHER, 4, ANY});
	ck_assert_int_eq(rfs_acl_check(b, n - 1), -EINVAL);
	b[0] = 1;
	ck_assert_int_eq(rfs_acl_check(b, n), -EINVAL);
}
END_TEST

START_TEST(to_mode)
{
	unsigned char b[256];
	mode_t mode = S_IFREG | S_ISUID | 0777;
	size_t n = ACL(b, {USER_OBJ, 7, ANY}, {GROUP_OBJ, 5, ANY}, {OTHER, 4, ANY});

	ck_assert(rfs_acl_to_mode(b, n, &mode));
	ck_assert_uint_eq(mode, S_IFREG | S_ISUID | 0754);
	/* with a mask, the group bits are the mask's */
	n = ACL(b, {USER_OBJ, 6, ANY}, {USER, 7, 10}, {GROUP_OBJ, 4, ANY}, {MASK, 6, ANY},
		{OTHER, 0, ANY});
	ck_assert(!rfs_acl_to_mode(b, n, &mode));
	ck_assert_uint_eq(mode, S_IFREG | S_ISUID | 0660);
}
END_TEST

START_TEST(chmod_rewrites)
{
	unsigned char b[256];
	size_t n = ACL(b, {USER_OBJ, 6, ANY}, {USER, 7, 10}, {GROUP_OBJ, 4, ANY}, {MASK, 6, ANY},
		       {OTHER, 4, ANY});

	rfs_acl_chmod(b, n, 0710);
	ck_assert_uint_eq(perm_of(b, 0), 7);
	ck_assert_uint_eq(perm_of(b, 1), 7); /* named entries stay */
	ck_assert_uint_eq(perm_of(b, 2), 4); /* the owning group too: the mask moves */
	ck_assert_uint_eq(perm_of(b, 3), 1);
	ck_assert_uint_eq(perm_of(b, 4), 0);
	/* without a mask the group bits are the owning group's */
	n = ACL(b, {USER_OBJ, 6, ANY}, {GROUP_OBJ, 4, ANY}, {OTHER, 4, ANY});
	rfs_acl_chmod(b, n, 0751);
	ck_assert_uint_eq(perm_of(b, 0), 7);
	ck_assert_uint_eq(perm_of(b, 1), 5);
	ck_assert_uint_eq(perm_of(b, 2), 1);
}
END_TEST

START_TEST(inherit_at_create)
{
	unsigned char d[256], a[256];
	size_t n = ACL(d, {USER_OBJ, 7, ANY}, {USER, 7, 65534}, {GROUP_OBJ, 5, ANY}, {MASK, 7, ANY},
		       {OTHER, 0, ANY});
	mode_t mode = S_IFREG | 0666;

	/* a file asked for 0666: the ACL limits the mode and the mode the ACL */
	ck_assert(!rfs_acl_inherit(d, n, a, &mode));
	ck_assert_uint_eq(mode, S_IFREG | 0660);
	ck_assert_uint_eq(perm_of(a, 0), 6);
	ck_assert_uint_eq(perm_of(a, 1), 7); /* named: as given, the mask limits it */
	ck_assert_uint_eq(perm_of(a, 2), 5);
	ck_assert_uint_eq(perm_of(a, 3), 6);
	ck_assert_uint_eq(perm_of(a, 4), 0);
	ck_assert_mem_eq(d + 4, a + 4, 2); /* the default itself unchanged */
	/* a minimal default ACL gives no access ACL, only a mode */
	n = ACL(d, {USER_OBJ, 7, ANY}, {GROUP_OBJ, 5, ANY}, {OTHER, 5, ANY});
	mode = S_IFDIR | 0777;
	ck_assert(rfs_acl_inherit(d, n, a, &mode));
	ck_assert_uint_eq(mode, S_IFDIR | 0755);
	mode = S_IFREG | 0600;
	ck_assert(rfs_acl_inherit(d, n, a, &mode));
	ck_assert_uint_eq(mode, S_IFREG | 0600);
}
END_TEST

static Suite *acl_suite(void)
{
	Suite *s = suite_create("acl");
	TCase *tc = tcase_create("acl");

	tcase_add_test(tc, well_formed);
	tcase_add_test(tc, to_mode);
	tcase_add_test(tc, chmod_rewrites);
	tcase_add_test(tc, inherit_at_create);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return rfs_check_run(acl_suite());
}
