/*
 * samba-odj unit tests: the DC locator's order (dc/locator.c): SRV
 * records by priority, and by weight at random within a priority, as
 * RFC 2782 says, with a given random source.
 */

#include "odj_test.h"
#include "dc/dc.h"

/* The random source: a fixed sequence */
struct seq {
	const uint32_t *v;
	size_t n, i;
};

static uint32_t next(void *private_data)
{
	struct seq *s = private_data;

	return s->v[s->i++ % s->n];
}

static void order(struct odj_dc_candidate *c, size_t n, const uint32_t *v,
		  size_t nv)
{
	struct seq s = { .v = v, .n = nv };

	odj_srv_order(c, n, next, &s);
}

/* Lower priority first, whatever the weights */
static void test_priority(void **state)
{
	struct odj_dc_candidate c[] = {
		{ .name = "c", .priority = 20, .weight = 100 },
		{ .name = "a", .priority = 0, .weight = 0 },
		{ .name = "b", .priority = 10, .weight = 5 },
	};
	const uint32_t zero[] = { 0 };

	order(c, 3, zero, 1);
	assert_string_equal(c[0].name, "a");
	assert_string_equal(c[1].name, "b");
	assert_string_equal(c[2].name, "c");
}

/*
 * Within a priority: running sums of the weights, zero weights first;
 * the first whose sum reaches the random number (mod total + 1) is next
 */
static void test_weight(void **state)
{
	struct odj_dc_candidate c[] = {
		{ .name = "dc1", .priority = 20, .weight = 10 },
		{ .name = "dc2", .priority = 20, .weight = 90 },
	};
	const uint32_t low[] = { 5 };		/* <= 10: dc1 */
	const uint32_t high[] = { 50 };		/* > 10: dc2 */

	order(c, 2, low, 1);
	assert_string_equal(c[0].name, "dc1");
	assert_string_equal(c[1].name, "dc2");
	c[0] = (struct odj_dc_candidate) { .name = "dc1", .priority = 20,
					   .weight = 10 };
	c[1] = (struct odj_dc_candidate) { .name = "dc2", .priority = 20,
					   .weight = 90 };
	order(c, 2, high, 1);
	assert_string_equal(c[0].name, "dc2");
	assert_string_equal(c[1].name, "dc1");
}

/* Weight 0 comes last unless the draw is exactly 0 */
static void test_zero_weight(void **state)
{
	struct odj_dc_candidate c[] = {
		{ .name = "heavy", .priority = 0, .weight = 100 },
		{ .name = "zero", .priority = 0, .weight = 0 },
	};
	const uint32_t one[] = { 1 };

	order(c, 2, one, 1);
	assert_string_equal(c[0].name, "heavy");
	assert_string_equal(c[1].name, "zero");
}

/* Over many draws the weights are the shares (90 % for weight 90) */
static void test_weight_shares(void **state)
{
	uint32_t draws[1000];
	size_t i, first_dc2 = 0;
	struct seq s = { .v = draws, .n = 1000 };

	for (i = 0; i < 1000; i++) {
		draws[i] = (uint32_t)(i * 2654435761u);
	}
	for (i = 0; i < 500; i++) {
		struct odj_dc_candidate c[] = {
			{ .name = "dc1", .priority = 20, .weight = 10 },
			{ .name = "dc2", .priority = 20, .weight = 90 },
		};

		odj_srv_order(c, 2, next, &s);
		first_dc2 += strcmp(c[0].name, "dc2") == 0;
	}
	assert_in_range(first_dc2, 400, 475);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		odj_test(test_priority),
		odj_test(test_weight),
		odj_test(test_zero_weight),
		odj_test(test_weight_shares),
	};

	cmocka_set_message_output(CM_OUTPUT_STDOUT);
	return odj_test_run(tests);
}
