/*
 * jmsg.c - helper processes' messages, through jansson (see jmsg.h).
 */
#include "jmsg.h"

json_t *jmsg_parse(const char *buf, size_t len)
{
	json_error_t err;
	json_t *v = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &err);

	if (v && !json_is_object(v)) {
		json_decref(v);
		v = NULL;
	}
	return v;
}

const char *jmsg_str(const json_t *msg, const char *key)
{
	return msg ? json_string_value(json_object_get(msg, key)) : NULL;
}

int jmsg_num(const json_t *msg, const char *key, double *out)
{
	const json_t *v = msg ? json_object_get(msg, key) : NULL;

	if (!json_is_number(v))
		return 0;
	*out = json_number_value(v);
	return 1;
}

int jmsg_true(const json_t *msg, const char *key)
{
	return msg && json_is_true(json_object_get(msg, key));
}
