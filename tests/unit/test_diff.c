/* Unit tests for conf/diff.c: what a reload adds, changes, removes and keeps. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>

#include "tests/unit/check_main.h"
#include "conf/config.h"
#include "conf/diff.h"

static void load(const char *text, struct rfs_config *cfg)
{
	char err[RFS_ERR_MAX] = "";

	ck_assert_msg(rfs_config_load_string(text, "t.ini", cfg, err, sizeof(err)) == 0, "%s", err);
}

static struct rfs_diff *diff_of(const char *a, const char *b, struct rfs_config *old,
				struct rfs_config *next)
{
	struct rfs_diff *p;

	load(a, old);
	load(b, next);
	ck_assert_int_eq(rfs_diff_new(old, next, &p), 0);
	return p;
}

#define VIEW(name, extra) "[view:" name "]\nfile = /data/f\nlength = 4096\n" extra

START_TEST(views_by_name)
{
	struct rfs_config old, next;
	struct rfs_diff *p = diff_of(
		VIEW("kept", "") VIEW("moved", "offset = 0\n") VIEW("gone", ""),
		VIEW("moved", "offset = 8192\n") VIEW("kept", "") VIEW("new", ""), &old, &next);

	/* next: moved, kept, new */
	ck_assert_int_eq(p->views[0].op, RFS_DIFF_CHANGED);
	ck_assert_int_eq(p->views[1].op, RFS_DIFF_SAME);
	ck_assert_int_eq(p->views[2].op, RFS_DIFF_ADDED);
	ck_assert(!p->views[0].late && !p->views[2].late);
	/* old: kept, moved, gone */
	ck_assert_int_eq(p->old_views[0], RFS_DIFF_SAME);
	ck_assert_int_eq(p->old_views[1], RFS_DIFF_CHANGED);
	ck_assert_int_eq(p->old_views[2], RFS_DIFF_REMOVED);
	rfs_diff_free(p);
	rfs_config_free(&old);
	rfs_config_free(&next);
}
END_TEST

START_TEST(view_fields)
{
	static const char *const changes[] = {
		"[view:v]\nfile = /data/g\nlength = 4096\n",
		"[view:v]\nfile = /data/f\nlength = 8192\n",
		"[view:v]\nfile = /data/f\n",
		"[view:v]\nfile = /data/f\nlength = 4096\naccess = ro\n",
		"[view:v]\nfile = /data/f\nlength = 4096\nmode = 0600\n",
		"[region:r]\nsize = 1M\n[view:v]\nregion = r\nlength = 4096\n",
	};

	for (size_t i = 0; i < sizeof(changes) / sizeof(changes[0]); i++) {
		struct rfs_config old, next;
		struct rfs_diff *p = diff_of(VIEW("v", ""), changes[i], &old, &next);
		size_t v = next.n_views - 1;

		ck_assert_msg(p->views[v].op == RFS_DIFF_CHANGED, "change %zu", i);
		ck_assert_int_eq(p->old_views[0], RFS_DIFF_CHANGED);
		rfs_diff_free(p);
		rfs_config_free(&old);
		rfs_config_free(&next);
	}
}
END_TEST

START_TEST(late_windows)
{
	struct rfs_config old, next;
	struct rfs_diff *p = diff_of("[region:old]\nsize = 1M\n",
				     "[region:old]\nsize = 1M\n"
				     "[region:new]\nsize = 8K\n"
				     "[view:a]\nregion = old\nlength = 4096\n"
				     "[view:b]\nregion = new\nlength = 4096\n"
				     "[view:c]\nregion = new\noffset = 4096\nlength = 8192\n"
				     "[view:d]\nregion = new\noffset = 8192\n",
				     &old, &next);

	ck_assert(!p->views[0].late);			      /* its region is there already */
	ck_assert(p->views[1].late && !p->views[1].past_end); /* fits */
	ck_assert(p->views[2].late && p->views[2].past_end);  /* 4096 + 8192 > 8K */
	ck_assert(p->views[3].late && p->views[3].past_end);  /* to the end: starts at it */
	ck_assert_int_eq(p->regions[0], RFS_DIFF_SAME);
	ck_assert_int_eq(p->regions[1], RFS_DIFF_ADDED);
	rfs_diff_free(p);
	rfs_config_free(&old);
	rfs_config_free(&next);
}
END_TEST

START_TEST(regions_dirs)
{
	struct rfs_config old, next;
	struct rfs_diff *p = diff_of("[region:a]\nsize = 1M\n[region:b]\nsize = 1M\n"
				     "[dir:d]\nlifetime = close\n[dir:e]\n",
				     "[region:a]\nsize = 2M\n[dir:d]\nlifetime = close\n"
				     "[dir:f]\n",
				     &old, &next);

	ck_assert_int_eq(p->regions[0], RFS_DIFF_CHANGED);
	ck_assert_int_eq(p->old_regions[0], RFS_DIFF_CHANGED);
	ck_assert_int_eq(p->old_regions[1], RFS_DIFF_REMOVED);
	ck_assert_int_eq(p->dirs[0], RFS_DIFF_SAME);
	ck_assert_int_eq(p->dirs[1], RFS_DIFF_ADDED);
	ck_assert_int_eq(p->old_dirs[0], RFS_DIFF_SAME);
	ck_assert_int_eq(p->old_dirs[1], RFS_DIFF_REMOVED);
	rfs_diff_free(p);
	rfs_config_free(&old);
	rfs_config_free(&next);
}
END_TEST

START_TEST(empty_and_same)
{
	struct rfs_config old, next;
	struct rfs_diff *p = diff_of("", "", &old, &next);

	rfs_diff_free(p);
	rfs_config_free(&old);
	rfs_config_free(&next);
	p = diff_of(VIEW("v", "") "[region:r]\nsize = 1M\n[dir:d]\n",
		    VIEW("v", "") "[region:r]\nsize = 1M\n[dir:d]\n", &old, &next);
	ck_assert_int_eq(p->views[0].op, RFS_DIFF_SAME);
	ck_assert_int_eq(p->old_views[0], RFS_DIFF_SAME);
	ck_assert_int_eq(p->regions[0], RFS_DIFF_SAME);
	ck_assert_int_eq(p->dirs[0], RFS_DIFF_SAME);
	rfs_diff_free(p);
	rfs_config_free(&old);
	rfs_config_free(&next);
	rfs_diff_free(NULL);
}
END_TEST

static Suite *diff_suite(void)
{
	Suite *s = suite_create("diff");
	TCase *tc = tcase_create("plan");

	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, views_by_name);
	tcase_add_test(tc, view_fields);
	tcase_add_test(tc, late_windows);
	tcase_add_test(tc, regions_dirs);
	tcase_add_test(tc, empty_and_same);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return rfs_check_run(diff_suite());
}
