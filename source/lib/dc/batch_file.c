/*
 * The batch file: which machines a batch provisions.
 *
 *   # kiosks for the second floor
 *   name,ou,netbios,site,primarydns
 *   kiosk1
 *   kiosk2,"OU=Kiosks,DC=example,DC=com",,Branch-Site
 *
 * One machine per line, or CSV (RFC 4180 quoting, for the commas of a
 * DN).  Without a header the columns are name, ou, netbios, site,
 * primarydns; trailing ones may be left out and empty ones take the
 * command line's defaults.
 */

#include "dc/dc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <strings.h>
#include <unistd.h>

/* A batch file is text; a million machines fit in far less. */
#define BATCH_FILE_MAX_SIZE (64 * 1024 * 1024)

enum column {
	COL_NAME = 0,
	COL_OU,
	COL_NETBIOS,
	COL_PSITE,
	COL_DSITE,
	COL_PRIMARYDNS,
};

#define MAX_COLUMNS 8

static const struct {
	const char *name;
	enum column col;
} column_names[] = {
	{ "name", COL_NAME },
	{ "machine_name", COL_NAME },
	{ "ou", COL_OU },
	{ "machine_account_ou", COL_OU },
	{ "netbios", COL_NETBIOS },
	{ "site", COL_PSITE },		/* like djoin /PSITE */
	{ "psite", COL_PSITE },
	{ "dsite", COL_DSITE },
	{ "primarydns", COL_PRIMARYDNS },
};

/* without a header */
static const enum column default_columns[] = {
	COL_NAME, COL_OU, COL_NETBIOS, COL_PSITE, COL_PRIMARYDNS,
};

struct parser {
	TALLOC_CTX *mem_ctx;
	const char *name;
	unsigned int line;
	enum column columns[MAX_COLUMNS];
	size_t num_columns;
	struct odj_batch_entry *entries;
	size_t num_entries;
	char *why;
};

static bool parse_fail(struct parser *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static bool parse_fail(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	char *msg = NULL;

	va_start(ap, fmt);
	msg = talloc_vasprintf(p->mem_ctx, fmt, ap);
	va_end(ap);
	p->why = talloc_asprintf(p->mem_ctx, "%s, line %u: %s", p->name,
				 p->line, msg != NULL ? msg : "");
	TALLOC_FREE(msg);
	return false;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * Split one line into fields: unquoted fields are trimmed, quoted ones
 * kept as written ("" is a quote).  A line holds at most MAX_COLUMNS.
 */
static bool split_line(struct parser *p, TALLOC_CTX *mem_ctx, const char *s,
		       char **fields, size_t *num_fields)
{
	size_t n = 0;

	for (;;) {
		char *f = talloc_strdup(mem_ctx, "");

		while (is_blank(*s)) {
			s++;
		}
		if (f == NULL) {
			return parse_fail(p, "out of memory");
		}
		if (*s == '"') {
			for (s++; *s != '\0'; s++) {
				if (*s == '"' && s[1] != '"') {
					break;
				}
				s += (*s == '"');
				f = talloc_strndup_append(f, s, 1);
			}
			if (*s != '"') {
				return parse_fail(p, "unterminated quote");
			}
			for (s++; is_blank(*s); s++) {
			}
			if (*s != ',' && *s != '\0') {
				return parse_fail(p, "text after a closing "
						  "quote");
			}
		} else {
			const char *end = s + strcspn(s, ",\"");
			size_t len = end - s;

			if (*end == '"') {
				return parse_fail(p, "a quote inside an "
						  "unquoted field");
			}
			while (len > 0 && is_blank(s[len - 1])) {
				len--;
			}
			f = talloc_strndup_append(f, s, len);
			s = end;
		}
		if (f == NULL) {
			return parse_fail(p, "out of memory");
		}
		if (n == MAX_COLUMNS) {
			return parse_fail(p, "more than %d columns",
					  MAX_COLUMNS);
		}
		fields[n++] = f;
		if (*s != ',') {
			break;
		}
		s++;
	}
	*num_fields = n;
	return true;
}

static bool column_by_name(const char *name, enum column *col)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(column_names); i++) {
		if (strcasecmp(name, column_names[i].name) == 0) {
			*col = column_names[i].col;
			return true;
		}
	}
	return false;
}

/* A first line with a "name" column names the columns. */
static bool try_header(struct parser *p, char **fields, size_t n,
		       bool *is_header)
{
	bool seen[COL_PRIMARYDNS + 1] = { false };
	size_t i;

	*is_header = false;
	for (i = 0; i < n; i++) {
		enum column col;

		if (column_by_name(fields[i], &col) && col == COL_NAME) {
			break;
		}
	}
	if (i == n) {
		return true;
	}
	for (i = 0; i < n; i++) {
		enum column col;

		if (!column_by_name(fields[i], &col)) {
			return parse_fail(p, "unknown column '%s' in the "
					  "header (name, ou, netbios, site, "
					  "psite, dsite, primarydns)",
					  fields[i]);
		}
		if (seen[col]) {
			return parse_fail(p, "column '%s' given twice",
					  fields[i]);
		}
		seen[col] = true;
		p->columns[i] = col;
	}
	if (seen[COL_PSITE] && seen[COL_DSITE]) {
		return parse_fail(p, "a site is either persistent (site, "
				  "psite) or dynamic (dsite), not both");
	}
	p->num_columns = n;
	*is_header = true;
	return true;
}

static bool add_entry(struct parser *p, char **fields, size_t n)
{
	struct odj_batch_entry *e = NULL;
	size_t i;

	if (n > p->num_columns) {
		return parse_fail(p, "%zu columns, the file has %zu", n,
				  p->num_columns);
	}
	e = talloc_realloc(p->mem_ctx, p->entries, struct odj_batch_entry,
			   p->num_entries + 1);
	if (e == NULL) {
		return parse_fail(p, "out of memory");
	}
	p->entries = e;
	e = &e[p->num_entries];
	*e = (struct odj_batch_entry) { .line = p->line };
	for (i = 0; i < n; i++) {
		const char *v = fields[i][0] != '\0' ? fields[i] : NULL;

		switch (p->columns[i]) {
		case COL_NAME:
			e->name = v;
			break;
		case COL_OU:
			e->ou = v;
			break;
		case COL_NETBIOS:
			e->netbios = v;
			break;
		case COL_PSITE:
			e->site = v;
			e->site_persistent = true;
			break;
		case COL_DSITE:
			e->site = v;
			break;
		case COL_PRIMARYDNS:
			e->primary_dns = v;
			break;
		}
	}
	if (e->name == NULL) {
		return parse_fail(p, "no machine name");
	}
	/* the name becomes a file name in the save directory */
	if (strchr(e->name, '/') != NULL || e->name[0] == '.') {
		return parse_fail(p, "'%s' cannot be a computer name",
				  e->name);
	}
	talloc_steal(p->entries, fields[0]);
	for (i = 1; i < n; i++) {
		talloc_steal(p->entries, fields[i]);
	}
	p->num_entries++;
	return true;
}

static bool parse_line(struct parser *p, char *line)
{
	TALLOC_CTX *tmp_ctx = NULL;
	char *fields[MAX_COLUMNS];
	size_t n = 0, len = strlen(line);
	bool is_header = false;
	bool ok;

	if (len > 0 && line[len - 1] == '\r') {
		line[--len] = '\0';
	}
	while (is_blank(*line)) {
		line++;
	}
	if (*line == '\0' || *line == '#') {
		return true;
	}
	tmp_ctx = talloc_new(p->mem_ctx);
	if (tmp_ctx == NULL) {
		return parse_fail(p, "out of memory");
	}
	ok = split_line(p, tmp_ctx, line, fields, &n);
	if (ok && p->num_entries == 0 && p->num_columns == 0) {
		ok = try_header(p, fields, n, &is_header);
		if (ok && !is_header) {
			memcpy(p->columns, default_columns,
			       sizeof(default_columns));
			p->num_columns = ARRAY_SIZE(default_columns);
		}
	}
	if (ok && !is_header) {
		ok = add_entry(p, fields, n);
	}
	TALLOC_FREE(tmp_ctx);
	return ok;
}

NTSTATUS odj_batch_parse(TALLOC_CTX *mem_ctx,
			 DATA_BLOB text,
			 const char *name,
			 struct odj_batch_entry **entries,
			 size_t *num_entries,
			 char **why)
{
	struct parser p = { .name = name != NULL ? name : "batch file" };
	char *copy = NULL;
	char *line = NULL;
	char *next = NULL;

	p.mem_ctx = talloc_new(mem_ctx);
	if (p.mem_ctx == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	if (text.length >= 2 && ((text.data[0] == 0xff && text.data[1] == 0xfe)
				 || (text.data[0] == 0xfe &&
				     text.data[1] == 0xff))) {
		odj_why(mem_ctx, why, "%s: UTF-16 text; save the batch file "
			"as UTF-8 or ASCII", p.name);
		TALLOC_FREE(p.mem_ctx);
		return NT_STATUS_ILLEGAL_CHARACTER;
	}
	if (memchr(text.data, '\0', text.length) != NULL) {
		odj_why(mem_ctx, why, "%s: a NUL byte; not a text file",
			p.name);
		TALLOC_FREE(p.mem_ctx);
		return NT_STATUS_ILLEGAL_CHARACTER;
	}
	copy = talloc_strndup(p.mem_ctx, (const char *)text.data, text.length);
	if (copy == NULL) {
		TALLOC_FREE(p.mem_ctx);
		return NT_STATUS_NO_MEMORY;
	}
	/* a UTF-8 byte order mark, as spreadsheets write it */
	line = strncmp(copy, "\xef\xbb\xbf", 3) == 0 ? copy + 3 : copy;
	for (; line != NULL; line = next) {
		next = strchr(line, '\n');
		if (next != NULL) {
			*next++ = '\0';
		}
		p.line++;
		if (!parse_line(&p, line)) {
			odj_why(mem_ctx, why, "%s", p.why);
			TALLOC_FREE(p.mem_ctx);
			return NT_STATUS_INVALID_PARAMETER;
		}
	}
	if (p.num_entries == 0) {
		odj_why(mem_ctx, why, "%s: no machines", p.name);
		TALLOC_FREE(p.mem_ctx);
		return NT_STATUS_INVALID_PARAMETER;
	}
	*entries = talloc_move(mem_ctx, &p.entries);
	*num_entries = p.num_entries;
	TALLOC_FREE(p.mem_ctx);
	return NT_STATUS_OK;
}

NTSTATUS odj_batch_load(TALLOC_CTX *mem_ctx,
			const char *path,
			struct odj_batch_entry **entries,
			size_t *num_entries,
			char **why)
{
	DATA_BLOB text = data_blob_null;
	NTSTATUS status;

	if (path == NULL) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	status = odj_file_read(mem_ctx, path, BATCH_FILE_MAX_SIZE,
			       "a batch file", ODJ_READ_STDIN, &text, why);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	status = odj_batch_parse(mem_ctx, text, strcmp(path, "-") == 0 ?
				 "standard input" : path, entries,
				 num_entries, why);
	TALLOC_FREE(text.data);
	return status;
}
