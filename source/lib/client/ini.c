/*
 * sssd.conf and krb5.conf, edited as realmd edits them: the keys a join
 * owns are set, every other line (comments, other sections, other
 * domains, the admin's own settings) stays as it was, byte for byte.
 *
 * Two dialects.  sssd.conf is read by ding-libs' INI parser: "[section]",
 * "key = value", comments starting with '#' or ';'.  krb5.conf is MIT's
 * profile format: the same, plus "tag = {" ... "}" subsections, a '*'
 * after a closing bracket or brace, and "include"/"includedir"/"module"
 * directives.  A file that is none of this is refused with its line
 * number, before anything is written: the join must not turn a file its
 * reader already rejects into one that looks like ours.
 */

#include "client/client.h"

#include <ctype.h>
#include <stdio.h>
#include <strings.h>

enum ini_kind {
	INI_OTHER,		/* blank, comment, directive, subsection */
	INI_SECTION,
	INI_RELATION,		/* a top-level "key = value" */
};

struct ini_line {
	const char *text;	/* without the line break */
	enum ini_kind kind;
	const char *section;	/* the section it is in, or NULL */
	const char *key;	/* INI_RELATION: its key */
	const char *value;	/* INI_RELATION: its value, trimmed */
};

struct odj_ini {
	enum odj_ini_dialect dialect;
	struct ini_line *lines;
	size_t num_lines;
};

static char *trim(TALLOC_CTX *ctx, const char *s, size_t len)
{
	while (len > 0 && isspace((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len > 0 && isspace((unsigned char)s[len - 1])) {
		len--;
	}
	return talloc_strndup(ctx, s, len);
}

static bool is_comment(const char *s)
{
	return *s == '\0' || *s == '#' || *s == ';';
}

static bool is_directive(const char *s)
{
	static const char *const names[] = {
		"include ", "includedir ", "module ", NULL
	};
	size_t i;

	for (i = 0; names[i] != NULL; i++) {
		if (strncmp(s, names[i], strlen(names[i])) == 0) {
			return true;
		}
	}
	return false;
}

/* "[name]" (krb5: "[name]*"): the name, else NULL */
static char *section_name(TALLOC_CTX *ctx, const char *s,
			  enum odj_ini_dialect d)
{
	const char *end = strchr(s, ']');

	if (*s != '[' || end == NULL || end == s + 1) {
		return NULL;
	}
	if (end[1] != '\0' && !(d == ODJ_INI_KRB5 && strcmp(end + 1, "*")
				== 0)) {
		return NULL;
	}
	return trim(ctx, s + 1, end - s - 1);
}

/* One line of the file into @p l; false if it does not parse */
static bool parse_line(struct odj_ini *ini, struct ini_line *l,
		       const char *section, int *depth)
{
	const char *eq = NULL;
	char *s = trim(ini->lines, l->text, strlen(l->text));
	bool krb5 = ini->dialect == ODJ_INI_KRB5;

	l->section = section;
	if (s == NULL) {
		return false;
	}
	if (is_comment(s)) {
		return true;
	}
	if (krb5 && *depth == 0 && is_directive(s)) {
		return true;
	}
	if (krb5 && s[0] == '}') {
		return --*depth >= 0 &&
		       (s[1] == '\0' || strcmp(s + 1, "*") == 0);
	}
	if (*depth == 0 && s[0] == '[') {
		l->section = section_name(ini->lines, s, ini->dialect);
		l->kind = INI_SECTION;
		return l->section != NULL;
	}
	eq = strchr(s, '=');
	if (eq == NULL || eq == s || section == NULL) {
		return false;
	}
	l->key = trim(ini->lines, s, eq - s);
	l->value = trim(ini->lines, eq + 1, strlen(eq + 1));
	if (l->key == NULL || l->value == NULL) {
		return false;
	}
	if (krb5 && strcmp(l->value, "{") == 0) {
		++*depth;
		return true;
	}
	l->kind = *depth == 0 ? INI_RELATION : INI_OTHER;
	return true;
}

NTSTATUS odj_ini_parse(TALLOC_CTX *mem_ctx, const char *text,
		       enum odj_ini_dialect dialect, const char *name,
		       struct odj_ini **_ini, char **why)
{
	struct odj_ini *ini = talloc_zero(mem_ctx, struct odj_ini);
	const char *section = NULL, *p = text;
	int depth = 0;

	if (ini == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	ini->dialect = dialect;
	while (p != NULL && *p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);
		struct ini_line *l = NULL;

		ini->lines = talloc_realloc(ini, ini->lines, struct ini_line,
					    ini->num_lines + 1);
		if (ini->lines == NULL) {
			TALLOC_FREE(ini);
			return NT_STATUS_NO_MEMORY;
		}
		l = &ini->lines[ini->num_lines++];
		*l = (struct ini_line) {
			.text = talloc_strndup(ini->lines, p, len),
		};
		if (l->text == NULL || !parse_line(ini, l, section, &depth)) {
			odj_why(mem_ctx, why, "%s, line %zu: not a line %s "
				"reads: %s", name, ini->num_lines,
				dialect == ODJ_INI_KRB5 ? "MIT Kerberos" :
				"sssd", l->text != NULL ? l->text : "");
			TALLOC_FREE(ini);
			return NT_STATUS_DATA_ERROR;
		}
		section = l->section;
		p = nl != NULL ? nl + 1 : NULL;
	}
	if (depth != 0) {
		odj_why(mem_ctx, why, "%s: a '{' without its '}'", name);
		TALLOC_FREE(ini);
		return NT_STATUS_DATA_ERROR;
	}
	*_ini = ini;
	return NT_STATUS_OK;
}

/* Section names: sssd's are case-sensitive, the profile library's too */
static bool same_section(const struct ini_line *l, const char *section)
{
	return l->section != NULL && strcmp(l->section, section) == 0;
}

const char *odj_ini_get(const struct odj_ini *ini, const char *section,
			const char *key)
{
	size_t i;

	for (i = 0; i < ini->num_lines; i++) {
		const struct ini_line *l = &ini->lines[i];

		if (l->kind == INI_RELATION && same_section(l, section) &&
		    strcmp(l->key, key) == 0) {
			return l->value;
		}
	}
	return NULL;
}

static NTSTATUS insert_line(struct odj_ini *ini, size_t at,
			    const struct ini_line *l)
{
	ini->lines = talloc_realloc(ini, ini->lines, struct ini_line,
				    ini->num_lines + 1);
	if (ini->lines == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	memmove(&ini->lines[at + 1], &ini->lines[at],
		(ini->num_lines - at) * sizeof(*l));
	ini->lines[at] = *l;
	ini->num_lines++;
	return NT_STATUS_OK;
}

/*
 * Where a new key of @p section goes: after its last line that is
 * neither blank nor a comment (a comment before the next section is
 * usually that section's)
 */
static size_t section_end(const struct odj_ini *ini, const char *section,
			  bool *found)
{
	size_t i, end = ini->num_lines;

	*found = false;
	for (i = 0; i < ini->num_lines; i++) {
		const struct ini_line *l = &ini->lines[i];
		const char *t = l->text + strspn(l->text, " \t");

		if (l->section == NULL || !same_section(l, section)) {
			continue;
		}
		*found = true;
		if (l->kind == INI_SECTION || !is_comment(t)) {
			end = i + 1;
		}
	}
	return end;
}

static NTSTATUS add_section(struct odj_ini *ini, const char *section)
{
	struct ini_line blank = { .text = "" };
	struct ini_line head = {
		.kind = INI_SECTION,
		.section = talloc_strdup(ini, section),
		.text = talloc_asprintf(ini, "[%s]", section),
	};
	size_t n = ini->num_lines;
	NTSTATUS status = NT_STATUS_OK;

	if (head.section == NULL || head.text == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	if (n > 0 && ini->lines[n - 1].text[0] != '\0') {
		status = insert_line(ini, n, &blank);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = insert_line(ini, ini->num_lines, &head);
	}
	return status;
}

NTSTATUS odj_ini_set(struct odj_ini *ini, const char *section,
		     const char *key, const char *value)
{
	struct ini_line l = { .kind = INI_RELATION };
	bool set = false, found = false;
	size_t i = 0;
	NTSTATUS status;

	l.section = talloc_strdup(ini, section);
	l.key = talloc_strdup(ini, key);
	l.value = talloc_strdup(ini, value);
	l.text = talloc_asprintf(ini, "%s%s = %s",
				 ini->dialect == ODJ_INI_KRB5 ? "    " : "",
				 key, value);
	if (l.section == NULL || l.key == NULL || l.value == NULL ||
	    l.text == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	while (i < ini->num_lines) {
		struct ini_line *o = &ini->lines[i];

		if (o->kind != INI_RELATION || !same_section(o, section) ||
		    strcmp(o->key, key) != 0) {
			i++;
			continue;
		}
		if (set) {
			/* a second one would win in ding-libs: it goes */
			memmove(o, o + 1, (ini->num_lines - i - 1) *
				sizeof(*o));
			ini->num_lines--;
			continue;
		}
		if (strcmp(o->value, value) != 0) {
			/* the line keeps its indentation */
			const char *old = o->text;
			int indent = (int)strspn(old, " \t");

			*o = l;
			o->text = talloc_asprintf(ini, "%.*s%s = %s", indent,
						  old, key, value);
			if (o->text == NULL) {
				return NT_STATUS_NO_MEMORY;
			}
		}
		set = true;
		i++;
	}
	if (set) {
		return NT_STATUS_OK;
	}
	i = section_end(ini, section, &found);
	if (!found) {
		status = add_section(ini, section);
		if (!NT_STATUS_IS_OK(status)) {
			return status;
		}
		i = ini->num_lines;
	}
	return insert_line(ini, i, &l);
}

char *odj_ini_text(TALLOC_CTX *mem_ctx, const struct odj_ini *ini)
{
	char *text = talloc_strdup(mem_ctx, "");
	size_t i;

	for (i = 0; text != NULL && i < ini->num_lines; i++) {
		text = talloc_asprintf_append_buffer(text, "%s\n",
						     ini->lines[i].text);
	}
	return text;
}
