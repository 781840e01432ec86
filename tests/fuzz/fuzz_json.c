/*
 * fuzz_json.c - libFuzzer harness: the JSON reader (util/json.c) that
 * parses the messages of helper processes running in the user's Python
 * (the speedup harness): data gilscope did not write.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/util/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void touch(const struct jv *v, int depth)
{
	size_t i;

	if (depth > JV_MAX_DEPTH + 1)
		abort();	/* deeper than the reader promises */
	if (v->type == JV_STRING && strlen(v->str) > (size_t)1 << 30)
		abort();
	for (i = 0; (v->type == JV_ARRAY || v->type == JV_OBJECT) && i < v->n; i++) {
		if (v->type == JV_OBJECT)
			(void)strlen(v->keys[i]);
		touch(&v->items[i], depth + 1);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jv v;
	double d;
	char *copy = malloc(size ? size : 1);

	if (!copy)
		return 0;
	if (size)
		memcpy(copy, data, size);	/* exactly sized: no NUL after it */
	if (!jv_parse(copy, size, &v)) {
		touch(&v, 0);
		(void)jv_get_str(&v, "event");
		(void)jv_get_num(&v, "elapsed", &d);
		(void)jv_get_true(&v, "ok");
		jv_release(&v);
	}
	free(copy);
	return 0;
}
