-- People and their powers: local authorities, schools, classrooms, staff,
-- pupils, parents, sessions, pupil join links, robot links, the audit log.
-- Times are Unix milliseconds. Runs unchanged on SQLite and PostgreSQL.

CREATE TABLE local_authorities (
	id TEXT PRIMARY KEY,
	name TEXT NOT NULL,
	created_at BIGINT NOT NULL
);

CREATE TABLE schools (
	id TEXT PRIMARY KEY,
	la_id TEXT NOT NULL REFERENCES local_authorities(id),
	name TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	UNIQUE (la_id, name)
);

CREATE TABLE classrooms (
	id TEXT PRIMARY KEY,
	school_id TEXT NOT NULL REFERENCES schools(id),
	name TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	UNIQUE (school_id, name)
);

CREATE TABLE staff (
	id TEXT PRIMARY KEY,
	la_id TEXT NOT NULL REFERENCES local_authorities(id),
	-- NULL for LA admins, who are not in one school.
	school_id TEXT REFERENCES schools(id),
	role TEXT NOT NULL CHECK (role IN ('admin', 'teacher', 'ewo')),
	email TEXT NOT NULL UNIQUE,
	name TEXT NOT NULL,
	password_hash TEXT NOT NULL,
	failed_logins INTEGER NOT NULL DEFAULT 0,
	locked_until BIGINT NOT NULL DEFAULT 0,
	disabled BOOLEAN NOT NULL DEFAULT FALSE,
	created_at BIGINT NOT NULL
);

-- A teacher's own classrooms.
CREATE TABLE teacher_classrooms (
	staff_id TEXT NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
	classroom_id TEXT NOT NULL REFERENCES classrooms(id) ON DELETE CASCADE,
	PRIMARY KEY (staff_id, classroom_id)
);

CREATE TABLE pupils (
	id TEXT PRIMARY KEY,
	school_id TEXT NOT NULL REFERENCES schools(id),
	classroom_id TEXT REFERENCES classrooms(id),
	-- The school's own pupil number (from its MIS), unique in the school.
	pupil_number TEXT NOT NULL,
	-- What the pupil is called on screen; never logged.
	display_name TEXT NOT NULL,
	year_group INTEGER NOT NULL CHECK (year_group BETWEEN -1 AND 14),
	created_at BIGINT NOT NULL,
	UNIQUE (school_id, pupil_number)
);

-- An EWO's caseload.
CREATE TABLE caseload (
	staff_id TEXT NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
	pupil_id TEXT NOT NULL REFERENCES pupils(id) ON DELETE CASCADE,
	PRIMARY KEY (staff_id, pupil_id)
);

CREATE TABLE parents (
	id TEXT PRIMARY KEY,
	email TEXT NOT NULL UNIQUE,
	name TEXT NOT NULL,
	-- Empty until the parent accepts the invitation.
	password_hash TEXT NOT NULL DEFAULT '',
	invite_hash TEXT UNIQUE,
	invite_expires BIGINT NOT NULL DEFAULT 0,
	failed_logins INTEGER NOT NULL DEFAULT 0,
	locked_until BIGINT NOT NULL DEFAULT 0,
	created_at BIGINT NOT NULL
);

CREATE TABLE parent_pupils (
	parent_id TEXT NOT NULL REFERENCES parents(id) ON DELETE CASCADE,
	pupil_id TEXT NOT NULL REFERENCES pupils(id) ON DELETE CASCADE,
	PRIMARY KEY (parent_id, pupil_id)
);

-- Server-side sessions. The cookie holds a random token; only its hash is
-- stored. kind: staff, parent or pupil (a remembered home device).
CREATE TABLE sessions (
	token_hash TEXT PRIMARY KEY,
	kind TEXT NOT NULL CHECK (kind IN ('staff', 'parent', 'pupil')),
	subject_id TEXT NOT NULL,
	csrf_token TEXT NOT NULL,
	-- For a pupil's remembered device: the join link it came from, so that
	-- revoking the link ends the session too.
	origin TEXT NOT NULL DEFAULT '',
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_subject ON sessions (kind, subject_id);
CREATE INDEX sessions_origin ON sessions (origin);

-- Pupil join links (URL token) and short join codes, issued by staff.
CREATE TABLE join_links (
	id TEXT PRIMARY KEY,
	pupil_id TEXT NOT NULL REFERENCES pupils(id) ON DELETE CASCADE,
	token_hash TEXT NOT NULL UNIQUE,
	code_hash TEXT UNIQUE,
	code_used BOOLEAN NOT NULL DEFAULT FALSE,
	expires_at BIGINT NOT NULL,
	revoked_at BIGINT NOT NULL DEFAULT 0,
	created_by TEXT NOT NULL,
	created_at BIGINT NOT NULL
);

-- Robot links: a classroom robot paired with one pupil.
CREATE TABLE robot_links (
	id TEXT PRIMARY KEY,
	pupil_id TEXT NOT NULL UNIQUE REFERENCES pupils(id) ON DELETE CASCADE,
	robot_token_hash TEXT NOT NULL UNIQUE,
	created_at BIGINT NOT NULL
);

-- Who did what to whose records, when, from where. pupil_id is kept as a
-- bare id (no foreign key) so entries outlive an erased pupil; detail never
-- holds personal data.
CREATE TABLE audit_log (
	id TEXT PRIMARY KEY,
	at BIGINT NOT NULL,
	actor_kind TEXT NOT NULL,
	actor_id TEXT NOT NULL,
	la_id TEXT NOT NULL,
	action TEXT NOT NULL,
	target_kind TEXT NOT NULL,
	target_id TEXT NOT NULL,
	pupil_id TEXT NOT NULL DEFAULT '',
	remote TEXT NOT NULL DEFAULT '',
	detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at ON audit_log (la_id, at);
CREATE INDEX audit_log_pupil ON audit_log (pupil_id);
