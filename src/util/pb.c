/* pb.c - protocol buffers wire format writer; see pb.h. */
#include "pb.h"

#include <string.h>

/* pb_open() leaves room for the longest length gilscope writes (a
 * strbuf's length fits 32 bits' worth, 5 varint bytes); pb_close() moves
 * the body back over what the actual length does not need. */
#define PB_LEN_ROOM 5

static size_t varint_encode(uint8_t *out, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		out[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	out[n++] = (uint8_t)v;
	return n;
}

void pb_varint(struct strbuf *sb, uint64_t v)
{
	uint8_t b[10];

	strbuf_add(sb, b, varint_encode(b, v));
}

static void key(struct strbuf *sb, uint32_t field, enum pb_wire w)
{
	pb_varint(sb, ((uint64_t)field << 3) | (uint64_t)w);
}

void pb_uint(struct strbuf *sb, uint32_t field, uint64_t v)
{
	key(sb, field, PB_VARINT);
	pb_varint(sb, v);
}

void pb_int(struct strbuf *sb, uint32_t field, int64_t v)
{
	pb_uint(sb, field, (uint64_t)v);
}

void pb_bytes(struct strbuf *sb, uint32_t field, const void *data, size_t len)
{
	key(sb, field, PB_LEN);
	pb_varint(sb, len);
	strbuf_add(sb, data, len);
}

void pb_str(struct strbuf *sb, uint32_t field, const char *s)
{
	pb_bytes(sb, field, s ? s : "", s ? strlen(s) : 0);
}

size_t pb_open(struct strbuf *sb, uint32_t field)
{
	static const uint8_t room[PB_LEN_ROOM];

	key(sb, field, PB_LEN);
	strbuf_add(sb, room, sizeof(room));
	return sb->len;
}

void pb_close(struct strbuf *sb, size_t mark)
{
	uint8_t b[10];
	size_t body, n;

	if (sb->failed || mark < PB_LEN_ROOM || mark > sb->len)
		return;
	body = sb->len - mark;
	if (body >= (1ull << (7 * PB_LEN_ROOM))) {
		sb->failed = 1;	/* 32 GiB in one field: not from gilscope */
		return;
	}
	n = varint_encode(b, body);
	memcpy(sb->buf + mark - PB_LEN_ROOM, b, n);
	memmove(sb->buf + mark - PB_LEN_ROOM + n, sb->buf + mark, body);
	sb->len -= PB_LEN_ROOM - n;
	sb->buf[sb->len] = '\0';
}
