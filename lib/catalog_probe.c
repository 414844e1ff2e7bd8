/* The change probe: one cheap query fingerprinting every catalog row a snapshot reads. */
#include <errno.h>
#include <string.h>

#include "catalog_internal.h"

/*
 * Every DDL statement writes new row versions into the catalogs a snapshot
 * reads, and a new row version has a new xmin; dropped rows lower a count.
 * So per catalog, count(*) and the sum of xmin move on DDL, while ANALYZE
 * and VACUUM (in-place updates of pg_class that keep xmin), row changes and
 * nextval() leave them alone.  Role names are in ACLs and owners, so the
 * roles' names are fingerprinted too.  Temporary and TOAST relations are
 * left out: applications create temporary tables all the time.
 *
 * What it cannot see (an in-place catalog update by some future DDL) is
 * covered by the daemon's full snapshot at least every full_every.
 */
#define PROBE_ROWS(label, expr, from) \
	" UNION ALL SELECT '" label ":' || count(*) || ':' || coalesce(sum(" expr "), 0) FROM " from
#define PROBE_CATALOG(cat) PROBE_ROWS(cat, "xmin::text::bigint", cat)

/* Relations left out: temporary and TOAST (a hashed NOT IN keeps the scans sequential). */
#define PROBE_SELECT(extra) \
	"WITH skip AS (SELECT c.oid FROM pg_class c JOIN pg_namespace n" \
	" ON n.oid = c.relnamespace WHERE n.nspname ~ '^pg_(toast|temp_|toast_temp_)')" \
	" SELECT string_agg(f, ' ' ORDER BY f) AS fingerprint FROM (" \
	" SELECT 'pg_class:' || count(*) || ':' || coalesce(sum(xmin::text::bigint), 0)" \
	" FROM pg_class WHERE oid NOT IN (SELECT oid FROM skip)" \
	PROBE_ROWS("pg_attribute", "xmin::text::bigint", \
		   "pg_attribute WHERE attrelid NOT IN (SELECT oid FROM skip)") \
	PROBE_ROWS("pg_roles", "hashtext(rolname)", "pg_roles") \
	PROBE_CATALOG("pg_namespace") PROBE_CATALOG("pg_constraint") PROBE_CATALOG("pg_index") \
	PROBE_CATALOG("pg_attrdef") PROBE_CATALOG("pg_inherits") PROBE_CATALOG("pg_sequence") \
	PROBE_CATALOG("pg_proc") PROBE_CATALOG("pg_aggregate") PROBE_CATALOG("pg_type") \
	PROBE_CATALOG("pg_enum") PROBE_CATALOG("pg_range") PROBE_CATALOG("pg_trigger") \
	PROBE_CATALOG("pg_rewrite") PROBE_CATALOG("pg_policy") PROBE_CATALOG("pg_description") \
	PROBE_CATALOG("pg_extension") PROBE_CATALOG("pg_collation") \
	PROBE_CATALOG("pg_statistic_ext") PROBE_CATALOG("pg_publication") \
	PROBE_CATALOG("pg_publication_rel") PROBE_CATALOG("pg_event_trigger") \
	PROBE_CATALOG("pg_foreign_data_wrapper") PROBE_CATALOG("pg_foreign_server") \
	PROBE_CATALOG("pg_foreign_table") PROBE_CATALOG("pg_default_acl") \
	PROBE_CATALOG("pg_tablespace") PROBE_CATALOG("pg_am") PROBE_CATALOG("pg_db_role_setting") \
	PROBE_ROWS("pg_depend_e", "xmin::text::bigint", "pg_depend WHERE deptype = 'e'") \
	extra ") s(f)"

static const char *sql_probe(int v)
{
	if (v >= 150000)
		return PROBE_SELECT(PROBE_CATALOG("pg_publication_namespace"));
	return PROBE_SELECT("");
}

static int read_probe(struct model *m, PGresult *res, const struct catalog_ctx *ctx)
{
	int col = PQfnumber(res, "fingerprint");

	(void)ctx;
	if (PQntuples(res) != 1 || col < 0 || !catalog_val(res, 0, col))
		return -EPROTO;
	m->fingerprint = model_strdup(m, catalog_val(res, 0, col));
	return m->fingerprint ? 0 : -ENOMEM;
}

const struct catalog_query catalog_probe = { "change probe", sql_probe, read_probe };
