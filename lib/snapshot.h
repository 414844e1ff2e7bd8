/* Canonical JSON snapshots: writing, hashing and reading (docs/snapshot-format.md). */
#ifndef SCHEMADRIFT_SNAPSHOT_H
#define SCHEMADRIFT_SNAPSHOT_H

#include <stdio.h>

#include <jansson.h>

#include "error.h"
#include "model.h"

#define SNAPSHOT_FORMAT "schemadrift-snapshot"
#define SNAPSHOT_VERSION 1

/* Computes every object's hash and the model's overall hash. */
int snapshot_hash(struct model *m);

/* Lower-case hex of a 32-byte hash into out (65 bytes). */
void snapshot_hash_hex(const unsigned char hash[32], char out[65]);

/* The object's canonical JSON (sorted keys, compact), without its hash. New reference. */
json_t *snapshot_object_json(const struct model_object *o);

/* The object's canonical text (what its hash covers), malloc'd; NULL on ENOMEM. */
char *snapshot_object_text(const struct model_object *o);

/* A string as JSON: a JSON string if valid UTF-8, else {"hex": "..."}. New reference. */
json_t *snapshot_string_json(const char *s);

/* Writes the whole snapshot (hashes computed if needed). */
int snapshot_write(struct model *m, FILE *out, struct error *err);

/* Writes to path atomically: temp file, fsync, rename, fsync(dir). */
int snapshot_save(struct model *m, const char *path, struct error *err);

/* Parses a snapshot; errors name `name` and the byte offset. */
int snapshot_parse(const char *buf, size_t len, const char *name, struct model **ret,
		   struct error *err);

/* Reads a snapshot file ("-" is stdin). */
int snapshot_load(const char *path, struct model **ret, struct error *err);

/*
 * The overall hash of a snapshot file with every object checked against its
 * hash, streaming: no model is built (a file not in snapshot_write()'s
 * layout is read by snapshot_load()).
 */
int snapshot_file_hash(const char *path, unsigned char ret[32], struct error *err);

/*
 * Two snapshot files as two models that hold only the groups (an object
 * with its children: a table, its columns, constraints, indexes...) that are
 * not byte-identical in both, each object checked against its hash; the
 * models carry the files' overall hashes.  diff_models() of the two is the
 * diff of the files.  -EAGAIN, with err untouched, when the files cannot be
 * compared this way (another layout, stdin, partitions whose columns are
 * compared with their parent's): load them whole with snapshot_load().
 */
int snapshot_load_differing(const char *path_a, const char *path_b, struct model **ret_a,
			    struct model **ret_b, struct error *err);

#endif
