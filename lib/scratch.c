/* The scratch side of verify: an embedded throwaway cluster or a database on a given server. */
#include "scratch.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "live.h"
#include "sqllex.h"
#include "strbuf.h"

#define SCRATCH_PORT "5432" /* the socket is in a private directory: any port will do */
#define SCRATCH_SUPERUSER "postgres"

extern char **environ;

struct scratch {
	pthread_mutex_t lock;
	bool cleaned;
	/* embedded */
	char *dir, *bindir;
	pid_t postmaster;
	pid_t child; /* initdb or the --expected-cmd, while it runs (its own process group) */
	uid_t run_uid;
	gid_t run_gid;
	bool drop_privileges;
	/* --scratch-dsn */
	char *admin_dsn, *dbname;
	char **roles; /* stub roles created on the server, dropped at cleanup */
	size_t n_roles;
	/* both */
	char *conninfo, *describe;
	int server_version;
	int connect_timeout_s;
	PGconn *conn; /* the loading session */
	char *loader; /* the role SQL is loaded as (scratch_prepare), or NULL */
	char **precreated; /* extensions created before loading */
	size_t n_precreated;
	char **warnings;
	size_t n_warnings;
};

static int push_str(char ***list, size_t *n, const char *s)
{
	char **g = realloc(*list, (*n + 1) * sizeof(*g));

	if (!g)
		return -ENOMEM;
	*list = g;
	if (!(g[*n] = strdup(s)))
		return -ENOMEM;
	(*n)++;
	return 0;
}

static void free_strs(char **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

__attribute__((format(printf, 2, 3))) static void warn(struct scratch *s, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	push_str(&s->warnings, &s->n_warnings, buf);
}

size_t scratch_warnings(const struct scratch *s, const char *const **ret)
{
	*ret = (const char *const *)s->warnings;
	return s->n_warnings;
}

const char *scratch_conninfo(const struct scratch *s)
{
	return s->conninfo;
}

const char *scratch_describe(const struct scratch *s)
{
	return s->describe;
}

int scratch_server_version(const struct scratch *s)
{
	return s->server_version;
}

/* libpq's first line of an error, for messages: control characters (from names in
 * the repository's SQL) become spaces before they can reach a terminal or a log. */
static void first_line(const char *text, char *buf, size_t size)
{
	snprintf(buf, size, "%s", text ? text : "");
	buf[strcspn(buf, "\n")] = '\0';
	for (char *p = buf; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
}

static char *conninfo_quote(const char *v)
{
	size_t n = strlen(v);
	char *out = malloc(2 * n + 3), *o = out;

	if (!out)
		return NULL;
	*o++ = '\'';
	for (const char *p = v; *p; p++) {
		if (*p == '\'' || *p == '\\')
			*o++ = '\\';
		*o++ = *p;
	}
	*o++ = '\'';
	*o = '\0';
	return out;
}

/* The same connection options as dsn, with another dbname. */
static char *conninfo_with_db(const char *dsn, const char *dbname)
{
	PQconninfoOption *opts = PQconninfoParse(dsn, NULL);
	struct strbuf out = { 0 };

	if (!opts)
		return NULL;
	for (PQconninfoOption *o = opts; o->keyword; o++) {
		const char *v = strcmp(o->keyword, "dbname") == 0 ? dbname : o->val;
		char *q;
		if (!v)
			continue;
		q = conninfo_quote(v);
		if (!q)
			out.failed = true;
		else
			strbuf_printf(&out, "%s%s=%s", out.len ? " " : "", o->keyword, q);
		free(q);
	}
	PQconninfoFree(opts);
	return strbuf_take(&out);
}

static PGconn *connect_to(const struct scratch *s, const char *conninfo, struct error *err)
{
	char timeout[16];
	const char *keys[] = { "dbname", "application_name", "connect_timeout", NULL };
	const char *vals[] = { conninfo, "schemadrift-verify", timeout, NULL };
	PGconn *c;

	snprintf(timeout, sizeof(timeout), "%d", s->connect_timeout_s);
	c = PQconnectdbParams(keys, vals, 1);
	if (PQstatus(c) != CONNECTION_OK) {
		char msg[512];
		first_line(PQerrorMessage(c), msg, sizeof(msg));
		live_redact(conninfo, NULL, msg, sizeof(msg));
		error_set(err, -ECONNREFUSED, "scratch server host=%s port=%s: %s",
			  PQhost(c) ? PQhost(c) : "?", PQport(c) ? PQport(c) : "?", msg);
		PQfinish(c);
		return NULL;
	}
	return c;
}

static void quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

static int exec_ok(PGconn *c, const char *sql, struct error *err)
{
	PGresult *res = PQexec(c, sql);
	ExecStatusType st = PQresultStatus(res);

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		char msg[512];
		first_line(PQresultErrorMessage(res), msg, sizeof(msg));
		PQclear(res);
		return error_set(err, -EIO, "scratch database: %s: %s", sql, msg);
	}
	PQclear(res);
	return 0;
}

/* ---- the embedded cluster ---- */

static bool is_bindir(const char *dir)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/initdb", dir);
	if (access(path, X_OK) != 0)
		return false;
	snprintf(path, sizeof(path), "%s/postgres", dir);
	return access(path, X_OK) == 0;
}

/* The major version in a path like /usr/lib/postgresql/15/bin or /usr/pgsql-16/bin. */
static int dir_major(const char *dir)
{
	const char *p = strstr(dir, "postgresql/");
	if (p)
		return atoi(p + 11);
	p = strstr(dir, "pgsql-");
	return p ? atoi(p + 6) : 0;
}

static char *pg_config_bindir(void)
{
	FILE *p = popen("pg_config --bindir 2>/dev/null", "r");
	char buf[4096];
	char *out = NULL;

	if (!p)
		return NULL;
	if (fgets(buf, sizeof(buf), p)) {
		buf[strcspn(buf, "\n")] = '\0';
		out = strdup(buf);
	}
	pclose(p);
	return out;
}

/* Where the embedded cluster's server binaries are: --pg-bindir, else the search. */
static int find_bindir(const char *pg_bindir, int prefer_major, char **ret, struct error *err)
{
	char **cands = NULL;
	size_t n = 0;
	glob_t g;
	char *pc;
	int r = 0;

	if (pg_bindir) {
		if (!is_bindir(pg_bindir))
			return error_set(err, -ENOENT, "--pg-bindir %s: no initdb and postgres there",
					 pg_bindir);
		*ret = strdup(pg_bindir);
		return *ret ? 0 : error_set(err, -ENOMEM, "out of memory");
	}
	if ((pc = pg_config_bindir())) {
		r = push_str(&cands, &n, pc);
		free(pc);
	}
	/* Debian's and the PGDG RPMs' versioned directories, newest first. */
	const char *patterns[] = { "/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin" };
	for (size_t k = 0; k < 2 && r == 0; k++) {
		if (glob(patterns[k], 0, NULL, &g) != 0)
			continue;
		for (size_t i = g.gl_pathc; i-- > 0 && r == 0;)
			r = push_str(&cands, &n, g.gl_pathv[i]);
		globfree(&g);
	}
	if (r == 0)
		r = push_str(&cands, &n, "/usr/bin"); /* Fedora's postgresql-server */
	if (r == 0)
		r = push_str(&cands, &n, "/usr/local/pgsql/bin");
	const char *found = NULL;
	for (size_t i = 0; i < n && r == 0; i++) {
		if (!is_bindir(cands[i]))
			continue;
		if (!found)
			found = cands[i];
		if (prefer_major && dir_major(cands[i]) == prefer_major) {
			found = cands[i];
			break;
		}
	}
	if (r == 0 && found && !(*ret = strdup(found)))
		r = -ENOMEM;
	free_strs(cands, n);
	if (r < 0)
		return error_set(err, r, "out of memory");
	if (!found)
		return error_set(err, -ENOENT,
				 "no PostgreSQL server binaries (initdb, postgres) found through "
				 "pg_config, /usr/lib/postgresql/*/bin, /usr/pgsql-*/bin or /usr/bin: "
				 "install the server package, or give --pg-bindir DIR or "
				 "--scratch-dsn DSN");
	return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/* The last line of a log file, for an error message. */
static void log_tail(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	char line[1024];

	buf[0] = '\0';
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (line[0] != '\n')
			first_line(line, buf, size);
	fclose(f);
}

/* In a forked child: drop root, log to logfile, start over in dir. */
static void child_setup(const struct scratch *s, const char *logfile)
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL); /* verify blocks the signals it waits for */
	int fd = open(logfile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

	if (fd >= 0) {
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
	}
	if (s->drop_privileges) {
		if (fd >= 0 && fchown(fd, s->run_uid, s->run_gid) < 0)
			_exit(126);
		if (setgroups(0, NULL) < 0 || setgid(s->run_gid) < 0 || setuid(s->run_uid) < 0)
			_exit(126);
	}
	if (chdir(s->dir) < 0)
		_exit(126);
	int null = open("/dev/null", O_RDONLY);
	if (null >= 0)
		dup2(null, STDIN_FILENO);
}

/*
 * fork() with the child's pid in *slot before scratch_cleanup() can look (a
 * signal between the fork and the assignment left an initdb running, which
 * made the removed directory again); after a cleanup, no fork: -1, EINTR.
 */
static pid_t fork_tracked(struct scratch *s, pid_t *slot)
{
	pid_t pid;

	pthread_mutex_lock(&s->lock);
	if (s->cleaned) {
		pthread_mutex_unlock(&s->lock);
		errno = EINTR;
		return -1;
	}
	pid = fork();
	if (pid > 0)
		*slot = pid;
	if (pid != 0) /* the child's copy of the lock is never used */
		pthread_mutex_unlock(&s->lock);
	return pid;
}

/* Waits for a child (forked with fork_tracked(s, &s->child)) that
 * scratch_cleanup() may have to stop meanwhile. */
static int wait_child(struct scratch *s, pid_t pid)
{
	int status = 0;

	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	pthread_mutex_lock(&s->lock);
	s->child = 0;
	pthread_mutex_unlock(&s->lock);
	return status;
}

/* A running initdb or command is stopped first: it would write into what is removed. */
static void stop_child(struct scratch *s)
{
	struct timespec step = { 0, 20 * 1000 * 1000 };

	if (s->child <= 0)
		return;
	kill(-s->child, SIGTERM);
	for (int i = 0; i < 250 && kill(s->child, 0) == 0; i++)
		nanosleep(&step, NULL); /* the waiting thread reaps it */
	kill(-s->child, SIGKILL);
}

static int run_initdb(struct scratch *s, struct error *err)
{
	char initdb[4096], data[4096], logfile[4096], tail[512];
	int status;
	pid_t pid;

	snprintf(initdb, sizeof(initdb), "%s/initdb", s->bindir);
	snprintf(data, sizeof(data), "%s/data", s->dir);
	snprintf(logfile, sizeof(logfile), "%s/initdb.log", s->dir);
	pid = fork_tracked(s, &s->child);
	if (pid < 0)
		return error_set(err, -errno, "fork: %s", strerror(errno));
	if (pid == 0) {
		child_setup(s, logfile);
		setpgid(0, 0);
		execl(initdb, "initdb", "-D", data, "-U", SCRATCH_SUPERUSER, "-A", "trust", "-E",
		      "UTF8", "--no-locale", "--nosync", (char *)NULL);
		_exit(127);
	}
	status = wait_child(s, pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		log_tail(logfile, tail, sizeof(tail));
		return error_set(err, -EIO, "%s failed (%s%d): %s", initdb,
				 WIFEXITED(status) ? "exit " : "signal ",
				 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
				 WIFEXITED(status) && WEXITSTATUS(status) == 126
					 ? "cannot switch to the unprivileged user"
					 : tail);
	}
	return 0;
}

static int start_postmaster(struct scratch *s, struct error *err)
{
	char postgres[4096], data[4096], logfile[4096], sockopt[4200], tail[512];
	struct timespec step = { 0, 20 * 1000 * 1000 };
	pid_t pid;

	snprintf(postgres, sizeof(postgres), "%s/postgres", s->bindir);
	snprintf(data, sizeof(data), "%s/data", s->dir);
	snprintf(logfile, sizeof(logfile), "%s/server.log", s->dir);
	snprintf(sockopt, sizeof(sockopt), "unix_socket_directories=%s", s->dir);
	pid = fork_tracked(s, &s->postmaster);
	if (pid < 0)
		return error_set(err, -errno, "fork: %s", strerror(errno));
	if (pid == 0) {
		child_setup(s, logfile);
		/* If verify dies without cleaning up, the server goes too.  (Set after
		 * the uid change, which clears it.)  Its own process group: a ^C at
		 * the terminal reaches verify, which stops the server itself. */
		prctl(PR_SET_PDEATHSIG, SIGQUIT);
		setpgid(0, 0);
		execl(postgres, "postgres", "-D", data, "-p", SCRATCH_PORT, "-c", sockopt, "-c",
		      "listen_addresses=", "-c", "fsync=off", "-c", "full_page_writes=off", "-c",
		      "synchronous_commit=off", "-c", "autovacuum=off", "-c", "jit=off", "-c",
		      "shared_buffers=32MB", "-c", "max_connections=10", "-c", "lc_messages=C",
		      "-c", "logging_collector=off", "-c", "max_locks_per_transaction=1024",
		      (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 60 * 50; i++) {
		int status;
		if (waitpid(pid, &status, WNOHANG) == pid) {
			s->postmaster = 0;
			log_tail(logfile, tail, sizeof(tail));
			return error_set(err, -EIO, "the scratch server did not start (%s): %s",
					 postgres, tail);
		}
		if (PQping(s->conninfo) == PQPING_OK)
			return 0;
		nanosleep(&step, NULL);
	}
	return error_set(err, -ETIMEDOUT, "the scratch server did not accept connections in 60 s");
}

static int open_embedded(struct scratch *s, const struct scratch_options *o, struct error *err)
{
	const char *tmp = getenv("TMPDIR");
	char tmpl[4096];
	int r;

	if ((r = find_bindir(o->pg_bindir, o->prefer_major, &s->bindir, err)) < 0)
		return r;
	snprintf(tmpl, sizeof(tmpl), "%s/schemadrift-verify-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (strlen(tmpl) > 80) /* a unix socket path is at most 107 bytes */
		return error_set(err, -ENAMETOOLONG, "TMPDIR %s is too long for a socket path", tmp);
	/* Made and named under the lock: a cleanup either finds it or comes first. */
	pthread_mutex_lock(&s->lock);
	if (s->cleaned) {
		pthread_mutex_unlock(&s->lock);
		return error_set(err, -EINTR, "interrupted");
	}
	if (!mkdtemp(tmpl)) {
		pthread_mutex_unlock(&s->lock);
		return error_set(err, -errno, "%s: %s", tmpl, strerror(errno));
	}
	s->dir = strdup(tmpl);
	pthread_mutex_unlock(&s->lock);
	if (!s->dir) {
		rmdir(tmpl);
		return error_set(err, -ENOMEM, "out of memory");
	}
	if (geteuid() == 0) {
		/* initdb and postgres refuse to run as root. */
		struct passwd *pw = getpwnam("postgres");
		if (!pw)
			pw = getpwnam("nobody");
		if (!pw)
			return error_set(err, -EPERM,
					 "running as root, and there is no postgres or nobody user "
					 "to run the scratch server as: give --scratch-dsn DSN");
		s->drop_privileges = true;
		s->run_uid = pw->pw_uid;
		s->run_gid = pw->pw_gid;
		if (chown(s->dir, s->run_uid, s->run_gid) < 0)
			return error_set(err, -errno, "%s: chown: %s", s->dir, strerror(errno));
	}
	if (asprintf(&s->conninfo, "host=%s port=" SCRATCH_PORT " user=" SCRATCH_SUPERUSER
		     " dbname=postgres", s->dir) < 0) {
		s->conninfo = NULL;
		return error_set(err, -ENOMEM, "out of memory");
	}
	if ((r = run_initdb(s, err)) < 0 || (r = start_postmaster(s, err)) < 0)
		return r;
	return 0;
}

static void stop_embedded(struct scratch *s)
{
	struct timespec step = { 0, 20 * 1000 * 1000 };

	if (s->postmaster > 0) {
		/* Fast shutdown; after 10 s immediate, after 15 s a kill. */
		kill(s->postmaster, SIGINT);
		for (int i = 0;; i++) {
			int status;
			pid_t w = waitpid(s->postmaster, &status, WNOHANG);
			if (w == s->postmaster || (w < 0 && errno == ECHILD))
				break;
			if (i == 500)
				kill(s->postmaster, SIGQUIT);
			if (i == 750)
				kill(s->postmaster, SIGKILL);
			nanosleep(&step, NULL);
		}
		s->postmaster = 0;
	}
	if (s->dir)
		nftw(s->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- a database on a given server ---- */

static int open_on_server(struct scratch *s, const struct scratch_options *o, struct error *err)
{
	unsigned char rnd[4] = { 0 };
	char sql[256], host[256];
	PGconn *c;
	FILE *u = fopen("/dev/urandom", "r");

	if (u) {
		if (fread(rnd, 1, sizeof(rnd), u) != sizeof(rnd))
			memset(rnd, 0, sizeof(rnd));
		fclose(u);
	}
	if (!(s->admin_dsn = strdup(o->dsn)))
		return error_set(err, -ENOMEM, "out of memory");
	if (!(c = connect_to(s, o->dsn, err)))
		return err ? err->code : -ECONNREFUSED;
	PQsetNoticeProcessor(c, quiet, NULL);
	s->server_version = PQserverVersion(c);
	if (asprintf(&s->dbname, "schemadrift_verify_%d_%02x%02x%02x%02x", (int)getpid(), rnd[0],
		     rnd[1], rnd[2], rnd[3]) < 0) {
		s->dbname = NULL;
		PQfinish(c);
		return error_set(err, -ENOMEM, "out of memory");
	}
	snprintf(sql, sizeof(sql), "CREATE DATABASE \"%s\" TEMPLATE template0", s->dbname);
	int r = exec_ok(c, sql, err);
	snprintf(host, sizeof(host), "host=%s port=%s", PQhost(c) ? PQhost(c) : "?",
		 PQport(c) ? PQport(c) : "?");
	PQfinish(c);
	if (r < 0) {
		free(s->dbname); /* not created: nothing to drop */
		s->dbname = NULL;
		return error_prefix(err, "--scratch-dsn");
	}
	s->conninfo = conninfo_with_db(o->dsn, s->dbname);
	if (!s->conninfo)
		return error_set(err, -ENOMEM, "out of memory");
	if (asprintf(&s->describe, "database %s on %s (PostgreSQL %d)", s->dbname, host,
		     s->server_version / 10000) < 0)
		s->describe = NULL;
	return 0;
}

static void drop_on_server(struct scratch *s)
{
	char sql[512];
	PGconn *c;

	if (!s->dbname && !s->n_roles)
		return;
	if (s->conn) { /* DROP DATABASE cannot drop the database we are in */
		PQfinish(s->conn);
		s->conn = NULL;
	}
	c = connect_to(s, s->admin_dsn, NULL);
	if (!c)
		return;
	PQsetNoticeProcessor(c, quiet, NULL);
	if (s->dbname) {
		snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS \"%s\" WITH (FORCE)", s->dbname);
		exec_ok(c, sql, NULL);
	}
	for (size_t i = 0; i < s->n_roles; i++) {
		char *q = PQescapeIdentifier(c, s->roles[i], strlen(s->roles[i]));
		if (!q)
			continue;
		snprintf(sql, sizeof(sql), "DROP ROLE IF EXISTS %s", q);
		PQfreemem(q);
		exec_ok(c, sql, NULL);
	}
	PQfinish(c);
}

int scratch_open(const struct scratch_options *o, struct scratch **ret, struct error *err)
{
	struct scratch *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return error_set(err, -ENOMEM, "out of memory");
	pthread_mutex_init(&s->lock, NULL);
	s->connect_timeout_s = o->connect_timeout_s > 0 ? o->connect_timeout_s : 10;
	if (o->on_open)
		o->on_open(s, o->arg);
	r = o->dsn ? open_on_server(s, o, err) : open_embedded(s, o, err);
	if (r == 0 && !(s->conn = connect_to(s, s->conninfo, err)))
		r = err ? err->code : -ECONNREFUSED;
	if (r == 0 && !o->dsn) {
		s->server_version = PQserverVersion(s->conn);
		if (asprintf(&s->describe, "embedded PostgreSQL %d (%s) in %s",
			     s->server_version / 10000, s->bindir, s->dir) < 0)
			s->describe = NULL;
	}
	if (r == 0 && !s->describe)
		r = error_set(err, -ENOMEM, "out of memory");
	if (r < 0) {
		if (o->on_open)
			o->on_open(NULL, o->arg);
		scratch_free(s);
		return r;
	}
	PQsetNoticeProcessor(s->conn, quiet, NULL);
	*ret = s;
	return 0;
}

void scratch_cleanup(struct scratch *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	if (!s->cleaned) {
		s->cleaned = true;
		stop_child(s);
		if (s->admin_dsn) {
			drop_on_server(s);
		} else {
			if (s->conn) {
				PQfinish(s->conn);
				s->conn = NULL;
			}
			stop_embedded(s);
		}
	}
	pthread_mutex_unlock(&s->lock);
}

void scratch_free(struct scratch *s)
{
	if (!s)
		return;
	scratch_cleanup(s);
	if (s->conn)
		PQfinish(s->conn);
	free(s->dir);
	free(s->bindir);
	free(s->admin_dsn);
	free(s->dbname);
	free_strs(s->roles, s->n_roles);
	free_strs(s->precreated, s->n_precreated);
	free_strs(s->warnings, s->n_warnings);
	if (s->conninfo) {
		explicit_bzero(s->conninfo, strlen(s->conninfo)); /* may hold a password */
		free(s->conninfo);
	}
	free(s->describe);
	free(s->loader);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* ---- making it look like the target ---- */

/* Unquotes an aclitem's role name ("a""b" -> a"b) into buf; "" is PUBLIC. */
static void acl_role(const char *p, size_t n, char *buf, size_t size)
{
	size_t o = 0;

	if (n >= 2 && p[0] == '"' && p[n - 1] == '"') {
		for (size_t i = 1; i + 1 < n && o + 1 < size; i++) {
			buf[o++] = p[i];
			if (p[i] == '"' && p[i + 1] == '"')
				i++;
		}
	} else {
		for (size_t i = 0; i < n && o + 1 < size; i++)
			buf[o++] = p[i];
	}
	buf[o] = '\0';
}

struct role_count {
	char **names;
	size_t n;
	size_t *owns;
};

static int note_role(struct role_count *rc, const char *name, bool owner)
{
	if (!*name || strcmp(name, "PUBLIC") == 0 || strcmp(name, "(owner)") == 0)
		return 0;
	for (size_t i = 0; i < rc->n; i++)
		if (strcmp(rc->names[i], name) == 0) {
			rc->owns[i] += owner;
			return 0;
		}
	size_t *g = realloc(rc->owns, (rc->n + 1) * sizeof(*g));
	if (!g)
		return -ENOMEM;
	rc->owns = g;
	g[rc->n] = owner;
	size_t n = rc->n;
	int r = push_str(&rc->names, &n, name);
	if (r == 0)
		rc->n = n;
	return r;
}

static int collect_roles(const struct model *m, struct role_count *rc)
{
	char role[512];
	int r = 0;

	for (size_t i = 0; i < m->n_objects && r == 0; i++) {
		const struct model_object *o = &m->objects[i];
		for (size_t a = 0; a < o->n_attrs && r == 0; a++) {
			const struct model_attr *at = &o->attrs[a];
			if (strcmp(at->name, "owner") == 0 && at->value.type == MODEL_STR)
				r = note_role(rc, at->value.u.str, o->kind != MODEL_SCHEMA);
			else if (strcmp(at->name, "role") == 0 && at->value.type == MODEL_STR)
				r = note_role(rc, at->value.u.str, false);
			else if (strcmp(at->name, "roles") == 0 && at->value.type == MODEL_LIST)
				for (size_t k = 0; k < at->value.u.list.n && r == 0; k++)
					r = note_role(rc, at->value.u.list.items[k], false);
			else if (strcmp(at->name, "acl") == 0 && at->value.type == MODEL_LIST)
				for (size_t k = 0; k < at->value.u.list.n && r == 0; k++) {
					const char *it = at->value.u.list.items[k];
					const char *eq = strchr(it, '='), *slash = strrchr(it, '/');
					if (!eq)
						continue;
					acl_role(it, (size_t)(eq - it), role, sizeof(role));
					r = note_role(rc, role, false);
					if (r == 0 && slash && slash > eq) {
						acl_role(slash + 1, strlen(slash + 1), role,
							 sizeof(role));
						r = note_role(rc, role, false);
					}
				}
		}
	}
	return r;
}

static int query_bool(PGconn *c, const char *sql, const char *param, bool *ret, struct error *err)
{
	const char *params[1] = { param };
	PGresult *res = PQexecParams(c, sql, param ? 1 : 0, NULL, params, NULL, NULL, 0);

	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		char msg[512];
		first_line(PQresultErrorMessage(res), msg, sizeof(msg));
		PQclear(res);
		return error_set(err, -EIO, "scratch database: %s", msg);
	}
	*ret = PQntuples(res) > 0 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return 0;
}

static int create_roles(struct scratch *s, const struct role_count *rc, const char *loader,
			bool superuser, struct error *err)
{
	char sql[1024];
	int r = 0;

	for (size_t i = 0; i < rc->n && r == 0; i++) {
		bool exists;
		char *q;
		if ((r = query_bool(s->conn, "SELECT count(*) > 0 FROM pg_roles WHERE rolname = $1",
				    rc->names[i], &exists, err)) < 0 || exists)
			continue;
		if (!(q = PQescapeIdentifier(s->conn, rc->names[i], strlen(rc->names[i]))))
			return error_set(err, -ENOMEM, "out of memory");
		/* The loader may own what it creates and change owners, as the
		 * migration tool's role could on the target. */
		snprintf(sql, sizeof(sql), "CREATE ROLE %s NOLOGIN%s", q,
			 superuser && loader && strcmp(loader, rc->names[i]) == 0 ? " SUPERUSER" : "");
		PQfreemem(q);
		if ((r = exec_ok(s->conn, sql, err)) == 0 && s->admin_dsn)
			r = push_str(&s->roles, &s->n_roles, rc->names[i]);
	}
	return r;
}

static int create_extensions(struct scratch *s, const struct model *m, struct error *err)
{
	char sql[2048];
	int r = 0;

	for (size_t i = 0; i < m->n_objects && r == 0; i++) {
		const struct model_object *o = &m->objects[i];
		const struct model_attr *v = model_object_attr(o, "version"),
					*sc = model_object_attr(o, "schema");
		bool available, at_version, schema_there;
		const char *version = v && v->value.type == MODEL_STR ? v->value.u.str : NULL;
		const char *schema = sc && sc->value.type == MODEL_STR ? sc->value.u.str : NULL;

		if (o->kind != MODEL_EXTENSION || strcmp(o->name, "plpgsql") == 0)
			continue;
		if ((r = query_bool(s->conn,
				    "SELECT count(*) > 0 FROM pg_available_extensions WHERE name = $1",
				    o->name, &available, err)) < 0)
			break;
		if (!available) {
			warn(s, "extension %s (on the target) is not available on the scratch server",
			     o->name);
			continue;
		}
		char key[1024];
		snprintf(key, sizeof(key), "%s", version ? version : "");
		const char *params[2] = { o->name, key };
		PGresult *res = PQexecParams(s->conn,
					     "SELECT count(*) > 0 FROM pg_available_extension_versions"
					     " WHERE name = $1 AND version = $2", 2, NULL, params, NULL,
					     NULL, 0);
		at_version = PQresultStatus(res) == PGRES_TUPLES_OK &&
			     strcmp(PQgetvalue(res, 0, 0), "t") == 0;
		PQclear(res);
		/* A schema the repository creates itself: the repository will create
		 * the extension there too, or it is a finding. */
		if ((r = query_bool(s->conn,
				    "SELECT count(*) > 0 FROM pg_namespace WHERE nspname = $1",
				    schema ? schema : "public", &schema_there, err)) < 0)
			break;
		if (!schema_there)
			continue;
		char *qn = PQescapeIdentifier(s->conn, o->name, strlen(o->name));
		char *qs = PQescapeIdentifier(s->conn, schema ? schema : "public",
					      strlen(schema ? schema : "public"));
		char *qv = version ? PQescapeLiteral(s->conn, version, strlen(version)) : NULL;
		if (!qn || !qs || (version && !qv)) {
			PQfreemem(qn);
			PQfreemem(qs);
			PQfreemem(qv);
			return error_set(err, -ENOMEM, "out of memory");
		}
		snprintf(sql, sizeof(sql), "CREATE EXTENSION IF NOT EXISTS %s WITH SCHEMA %s%s%s CASCADE",
			 qn, qs, at_version && qv ? " VERSION " : "", at_version && qv ? qv : "");
		PQfreemem(qn);
		PQfreemem(qs);
		PQfreemem(qv);
		if (!at_version)
			warn(s, "extension %s: the scratch server has no version %s; its default "
				"version is used", o->name, version ? version : "?");
		struct error e;
		if (exec_ok(s->conn, sql, &e) < 0) {
			warn(s, "extension %s could not be created in the scratch database: %s",
			     o->name, e.text);
			continue;
		}
		r = push_str(&s->precreated, &s->n_precreated, o->name);
	}
	return r < 0 && !(err && err->code) ? error_set(err, r, "out of memory") : r;
}

int scratch_prepare(struct scratch *s, const struct model *target, struct error *err)
{
	struct role_count rc = { 0 };
	const char *loader = NULL;
	size_t best = 0;
	bool superuser = false;
	char sql[1024];
	int r;

	if ((r = exec_ok(s->conn, "SET check_function_bodies = off", err)) < 0 ||
	    (r = exec_ok(s->conn, "SET client_min_messages = warning", err)) < 0)
		return r;
	if ((r = collect_roles(target, &rc)) < 0) {
		r = error_set(err, r, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < rc.n; i++)
		if (rc.owns[i] > best) {
			best = rc.owns[i];
			loader = rc.names[i];
		}
	if ((r = query_bool(s->conn, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user",
			    NULL, &superuser, err)) < 0)
		goto out;
	if ((r = create_roles(s, &rc, loader, superuser, err)) < 0 ||
	    (r = create_extensions(s, target, err)) < 0)
		goto out;
	if (loader && superuser) {
		char *q = PQescapeIdentifier(s->conn, loader, strlen(loader));
		bool super = false;
		if (!q) {
			r = error_set(err, -ENOMEM, "out of memory");
			goto out;
		}
		/* A role that existed already and is no superuser: it owns the
		 * scratch database, so that it may create in its public schema. */
		r = query_bool(s->conn, "SELECT rolsuper FROM pg_roles WHERE rolname = $1", loader,
			       &super, err);
		snprintf(sql, sizeof(sql), "ALTER DATABASE %s OWNER TO %s",
			 s->dbname ? s->dbname : "postgres", q);
		if (r == 0 && !super)
			r = exec_ok(s->conn, sql, err);
		snprintf(sql, sizeof(sql), "SET SESSION AUTHORIZATION %s", q);
		PQfreemem(q);
		if (r == 0)
			r = exec_ok(s->conn, sql, err);
		if (r == 0 && !(s->loader = strdup(loader)))
			r = error_set(err, -ENOMEM, "out of memory");
	} else if (loader) {
		warn(s, "the scratch user is no superuser: objects are owned by it, not by %s "
			"(--ignore ownership compares without owners)", loader);
	}
out:
	free_strs(rc.names, rc.n);
	free(rc.owns);
	return r;
}

/* ---- loading ---- */

/* "CREATE EXTENSION [IF NOT EXISTS] name" of an extension created in prepare. */
static bool is_precreated_extension(const struct scratch *s, const char *sql)
{
	const char *p = sql;
	char words[5][128];
	int n = 0;

	while (*p && n < 5) {
		while (sqllex_is_space(*p))
			p++;
		size_t len = sqllex_token_len(p);
		if (!len)
			break;
		if (!(p[0] == '-' && p[1] == '-') && !(p[0] == '/' && p[1] == '*')) {
			const char *w = p;
			size_t wl = len;
			if (w[0] == '"' && wl >= 2) {
				w++;
				wl -= 2;
			}
			snprintf(words[n++], sizeof(words[0]), "%.*s", (int)wl, w);
		}
		p += len;
	}
	if (n < 3 || strcasecmp(words[0], "create") || strcasecmp(words[1], "extension"))
		return false;
	const char *name = words[2];
	if (n >= 5 && strcasecmp(words[2], "if") == 0)
		name = words[4];
	for (size_t i = 0; i < s->n_precreated; i++)
		if (strcasecmp(s->precreated[i], name) == 0)
			return true;
	return false;
}

/* The line within text of the 1-based character position pos (UTF-8). */
static int line_of(const char *text, long pos)
{
	int line = 0;
	long chars = 0;

	for (const unsigned char *p = (const unsigned char *)text; *p && chars < pos - 1; p++) {
		if ((*p & 0xC0) != 0x80)
			chars++;
		line += *p == '\n';
	}
	return line;
}

int scratch_load(struct scratch *s, const char *file, const struct migrate_statement *st,
		 size_t n, struct error *err)
{
	for (size_t i = 0; i < n; i++) {
		PGresult *res = PQexec(s->conn, st[i].text);
		ExecStatusType status = PQresultStatus(res);

		if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK ||
		    status == PGRES_EMPTY_QUERY) {
			PQclear(res);
			continue;
		}
		if (status == PGRES_COPY_IN || status == PGRES_COPY_OUT) {
			PQclear(res);
			return error_set(err, -EBADMSG, "%s:%d: COPY cannot be loaded (schema only)",
					 file, st[i].line);
		}
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		if (state && strcmp(state, "42710") == 0 && is_precreated_extension(s, st[i].text)) {
			PQclear(res); /* created already, as on the target */
			continue;
		}
		const char *pos = PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION);
		const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
		const char *hint = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT);
		char msg[512];
		int line = st[i].line + (pos ? line_of(st[i].text, atol(pos)) : 0);
		first_line(primary ? primary : PQresultErrorMessage(res), msg, sizeof(msg));
		error_set(err, -EBADMSG, "%s:%d: %s%s%s%s%s%s", file, line, msg,
			  state ? " (SQLSTATE " : "", state ? state : "", state ? ")" : "",
			  hint ? "; hint: " : "", hint ? hint : "");
		PQclear(res);
		return -EBADMSG;
	}
	return 0;
}

/* ---- a migration tool as the loader ---- */

static char *percent(const char *v)
{
	char *out = malloc(3 * strlen(v) + 1), *o = out;

	if (!out)
		return NULL;
	for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
		if (isalnum(*p) || strchr("-._~", *p))
			*o++ = (char)*p;
		else
			o += sprintf(o, "%%%02X", *p);
	}
	*o = '\0';
	return out;
}

/* PGOPTIONS=-c role=NAME: the tool's objects belong to the role that owns the target's. */
static char *role_option(const char *role)
{
	char *out = malloc(2 * strlen(role) + 20), *o;

	if (!out)
		return NULL;
	o = out + sprintf(out, "PGOPTIONS=-c role=");
	for (const char *p = role; *p; p++) {
		if (*p == ' ' || *p == '\\')
			*o++ = '\\';
		*o++ = *p;
	}
	*o = '\0';
	return out;
}

int scratch_run_command(struct scratch *s, const char *command, struct error *err)
{
	const char *host = PQhost(s->conn), *port = PQport(s->conn), *db = PQdb(s->conn);
	const char *user = PQuser(s->conn), *pass = PQpass(s->conn);
	char *h = percent(host ? host : ""), *u = percent(user ? user : ""),
	     *d = percent(db ? db : ""), *pw = pass && *pass ? percent(pass) : NULL;
	char *url = NULL, **envp = NULL;
	size_t n = 0, k = 0;
	int r = 0, status;
	pid_t pid;

	if (!h || !u || !d || (pass && *pass && !pw)) {
		r = error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	/* A socket directory goes in ?host=, a host name in the authority. */
	if (host && host[0] == '/')
		r = asprintf(&url, "postgresql://%s%s%s@/%s?host=%s&port=%s", u, pw ? ":" : "",
			     pw ? pw : "", d, h, port ? port : "5432");
	else
		r = asprintf(&url, "postgresql://%s%s%s@%s:%s/%s", u, pw ? ":" : "", pw ? pw : "",
			     h, port ? port : "5432", d);
	if (r < 0) {
		url = NULL;
		r = error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	r = 0;
	while (environ[n])
		n++;
	envp = calloc(n + 9, sizeof(*envp));
	if (!envp) {
		r = error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) /* the caller's PG* would point elsewhere */
		if (strncmp(environ[i], "PG", 2) != 0 && strncmp(environ[i], "DATABASE_URL=", 13) != 0)
			envp[k++] = environ[i];
	if (asprintf(&envp[k++], "DATABASE_URL=%s", url) < 0 ||
	    asprintf(&envp[k++], "PGHOST=%s", host ? host : "") < 0 ||
	    asprintf(&envp[k++], "PGPORT=%s", port ? port : "5432") < 0 ||
	    asprintf(&envp[k++], "PGDATABASE=%s", db ? db : "") < 0 ||
	    asprintf(&envp[k++], "PGUSER=%s", user ? user : "") < 0 ||
	    (pw && asprintf(&envp[k++], "PGPASSWORD=%s", pass) < 0) ||
	    (s->loader && !(envp[k++] = role_option(s->loader)))) {
		r = error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	fflush(stdout);
	pid = fork_tracked(s, &s->child);
	if (pid < 0) {
		r = error_set(err, -errno, "fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0) {
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		setpgid(0, 0);
		dup2(STDERR_FILENO, STDOUT_FILENO); /* stdout is verify's report */
		execle("/bin/sh", "sh", "-c", command, (char *)NULL, envp);
		_exit(127);
	}
	status = wait_child(s, pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		r = error_set(err, -EBADMSG, "--expected-cmd: the command %s %d", WIFEXITED(status)
				  ? "exited with status" : "was killed by signal",
			      WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
out:
	if (envp)
		for (size_t i = 0; envp[i]; i++)
			if (strncmp(envp[i], "DATABASE_URL=", 13) == 0 || strncmp(envp[i], "PG", 2) == 0) {
				explicit_bzero(envp[i], strlen(envp[i]));
				free(envp[i]);
			}
	free(envp);
	if (url)
		explicit_bzero(url, strlen(url));
	free(url);
	free(h);
	free(u);
	free(d);
	free(pw);
	return r;
}
