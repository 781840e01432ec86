/*
 * fuzz_json.c - libFuzzer harness: the messages of helper processes running
 * in the user's Python (the speedup harness), data gilscope did not write,
 * read the way gilscope reads them (util/jmsg.c over jansson).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/util/jmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size ? size : 1);
	const json_t *tids;
	json_t *v;
	double d;
	size_t i;

	if (!copy)
		return 0;
	if (size)
		memcpy(copy, data, size);	/* exactly sized: no NUL after it */
	v = jmsg_parse(copy, size);
	if (v) {
		if (!json_is_object(v))
			abort();	/* only objects are messages */
		(void)jmsg_str(v, "phase");
		(void)jmsg_num(v, "seconds", &d);
		(void)jmsg_true(v, "start");
		(void)jmsg_str(json_object_get(v, "python"), "version");
		tids = json_object_get(v, "tids");
		for (i = 0; json_is_array(tids) && i < json_array_size(tids); i++)
			(void)json_number_value(json_array_get(tids, i));
		json_decref(v);
	}
	free(copy);
	return 0;
}
