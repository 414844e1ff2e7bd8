/* The schema as a sorted set of objects with stable, OID-free identities. */
#ifndef SCHEMADRIFT_MODEL_H
#define SCHEMADRIFT_MODEL_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Adding a kind: add an enumerator here (its position is its rank in the
 * canonical order), a row in model.c's kind table, and a reader in the
 * catalog_*.c file of its family (catalog_tables.c, catalog_routines.c, catalog_objects.c).
 */
enum model_kind {
	/* database-wide objects (schema NULL) */
	MODEL_EXTENSION,
	MODEL_FOREIGN_DATA_WRAPPER,
	MODEL_FOREIGN_SERVER,
	MODEL_PUBLICATION,
	MODEL_EVENT_TRIGGER,
	MODEL_DEFAULT_PRIVILEGES, /* schema set when the defaults are per schema */
	MODEL_DATABASE_SETTING,   /* ALTER DATABASE ... SET name: the parameter's name */
	/* schema objects */
	MODEL_SCHEMA,
	MODEL_COLLATION,
	MODEL_TYPE,
	MODEL_DOMAIN,
	MODEL_FUNCTION,
	MODEL_PROCEDURE,
	MODEL_AGGREGATE,
	MODEL_TABLE,
	MODEL_FOREIGN_TABLE,
	MODEL_VIEW,
	MODEL_MATERIALIZED_VIEW,
	MODEL_SEQUENCE,
	/* children of a table or view (parent set) */
	MODEL_COLUMN,
	MODEL_CONSTRAINT,
	MODEL_INDEX,
	MODEL_TRIGGER,
	MODEL_RULE,
	MODEL_POLICY,
	MODEL_STATISTICS,
	MODEL_KIND_COUNT
};

enum model_type { MODEL_NULL, MODEL_STR, MODEL_BOOL, MODEL_INT, MODEL_LIST };

struct model_value {
	enum model_type type;
	union {
		const char *str; /* raw bytes from the server; may be invalid UTF-8 */
		bool b;
		long long i;
		struct {
			const char **items;
			size_t n;
		} list;
	} u;
};

struct model_attr {
	const char *name;
	struct model_value value;
};

/*
 * Identity is (kind, schema, parent, name, signature).  For MODEL_SCHEMA,
 * schema is NULL and name is the schema's name.  parent is the owning
 * table's name for columns, constraints and indexes, NULL otherwise.
 * All strings live in the owning model's arena.
 */
struct model_object {
	enum model_kind kind;
	const char *schema;
	const char *parent;
	const char *name;
	const char *signature;
	struct model_attr *attrs; /* sorted by name, no duplicates, no nulls */
	size_t n_attrs;
	unsigned char hash[32]; /* set by snapshot_hash() */
};

struct model_arena_chunk;

/* One row of the DDL recorder's log (lib/recorder.h); arena strings, NULL when
 * unknown (client_addr NULL: a local socket). */
struct model_ddl_event {
	long long id;
	const char *at; /* ISO 8601 UTC */
	const char *session_role, *current_role, *application, *client_addr;
	long long client_port, backend_pid, xid;
	const char *event, *command_tag, *object_type, *object_identity, *statement;
};

/* The DDL recorder found in the database: never part of a hash. */
struct model_recorder {
	const char *schema;
	/* Each event trigger's enabled state ("origin", "always", "disabled"...),
	 * NULL when the trigger is missing. */
	const char *ddl_trigger, *drop_trigger;
	bool readable; /* the reading role may SELECT the log */
	struct model_ddl_event *events; /* newest first */
	size_t n_events;
};

struct model {
	struct model_object *objects; /* sorted by model_object_cmp after model_finish */
	size_t n_objects;
	size_t cap_objects;
	unsigned char hash[32]; /* set by snapshot_hash() */
	bool hashed;
	/* Metadata: not part of any hash. Arena strings or NULL. */
	const char *server_version;
	const char *database;
	const char *taken_at; /* ISO 8601 UTC */
	/* The change probe's fingerprint of the catalog this model was read
	 * from (catalog_probe.c), or NULL. */
	const char *fingerprint;
	/* The DDL recorder and its rows (docs/attribution.md), NULL when the
	 * database has none.  Beside the objects, outside every hash. */
	struct model_recorder *recorder;
	/* private */
	struct model_arena_chunk *arena;
	struct model_attr *pending;   /* attributes of the object being built */
	size_t n_pending, cap_pending;
	struct model_object building;
	bool in_object;
};

struct model_kind_info {
	const char *name;  /* as in JSON and text output: "materialized_view" */
	const char *label; /* for humans: "materialized view" */
	bool has_parent;
	/* Named at schema level (shown schema.name even with a parent). */
	bool schema_level_name;
	/* Every attribute the kind can have, NULL-terminated (`schemadrift kinds`). */
	const char *const *attrs;
};

const struct model_kind_info *model_kind_info(enum model_kind kind);
/* Returns 0 and sets *ret, or -ENOENT. */
int model_kind_from_name(const char *name, enum model_kind *ret);

int model_new(struct model **ret);
void model_free(struct model *m);
/* The bytes m holds on the heap (requested sizes, not malloc's own overhead). */
size_t model_heap_bytes(const struct model *m);

/* n bytes from the model's arena, aligned for any type; NULL on allocation failure. */
void *model_alloc(struct model *m, size_t n);
/* Copies n bytes (plus a NUL) into the arena; NULL on allocation failure. */
const char *model_strndup(struct model *m, const char *s, size_t n);
const char *model_strdup(struct model *m, const char *s);

/*
 * Building: model_begin(), any number of model_set_*(), model_end().
 * Strings are copied.  A NULL string value means "absent" and is skipped.
 * Errors (-ENOMEM, -EINVAL) are sticky until model_end(), which reports them.
 */
int model_begin(struct model *m, enum model_kind kind, const char *schema,
		const char *parent, const char *name, const char *signature);
int model_set_str(struct model *m, const char *attr, const char *value);
int model_set_strn(struct model *m, const char *attr, const char *value, size_t n);
int model_set_bool(struct model *m, const char *attr, bool value);
int model_set_int(struct model *m, const char *attr, long long value);
/* items are copied; n may be 0 (an empty list is kept, unlike NULL). */
int model_set_list(struct model *m, const char *attr, const char *const *items, size_t n);
int model_end(struct model *m);

/* Sorts the objects canonically; -EEXIST if two share an identity. */
int model_finish(struct model *m);

int model_object_cmp(const struct model_object *a, const struct model_object *b);
const struct model_attr *model_object_attr(const struct model_object *o, const char *name);
/* Binary search in a finished model; NULL if absent. */
const struct model_object *model_find(const struct model *m, const struct model_object *key);

bool model_value_equal(const struct model_value *a, const struct model_value *b);

/*
 * Human names: identifiers quoted like PostgreSQL's quote_ident() when
 * needed, invalid UTF-8 bytes as \xHH.  "public.orders.total",
 * "\"My Schema\".t".  Writes at most size bytes incl. NUL; returns the
 * length it needed (like snprintf).
 */
size_t model_object_name(const struct model_object *o, char *buf, size_t size);
size_t model_quote_ident(const char *ident, char *buf, size_t size);
/* Value as text for humans: strings as-is (invalid UTF-8 as \xHH), lists as
 * "a, b", booleans "true"/"false", absent as "(none)".  Same return as above. */
size_t model_value_text(const struct model_value *v, char *buf, size_t size);
/* The same, malloc'd; NULL on ENOMEM. */
char *model_object_name_dup(const struct model_object *o);
char *model_value_text_dup(const struct model_value *v);

#endif
