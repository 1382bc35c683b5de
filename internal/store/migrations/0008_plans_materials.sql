-- Graded re-integration plans (phases, reviews, notes, a full history of
-- changes) and lesson material (records here, bytes in the object store).

CREATE TABLE plans (
	id TEXT PRIMARY KEY,
	pupil_id TEXT NOT NULL REFERENCES pupils(id) ON DELETE CASCADE,
	status TEXT NOT NULL CHECK (status IN ('draft', 'active', 'ended')),
	starts_on TEXT NOT NULL,
	ends_on TEXT NOT NULL,
	summary TEXT NOT NULL DEFAULT '',
	version INTEGER NOT NULL,
	created_by TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL
);
CREATE INDEX plans_pupil ON plans (pupil_id);

CREATE TABLE plan_phases (
	id TEXT PRIMARY KEY,
	plan_id TEXT NOT NULL REFERENCES plans(id) ON DELETE CASCADE,
	ordinal INTEGER NOT NULL,
	name TEXT NOT NULL,
	starts_on TEXT NOT NULL,
	ends_on TEXT NOT NULL,
	school_sessions INTEGER NOT NULL,
	robot_sessions INTEGER NOT NULL,
	other_hours DOUBLE PRECISION NOT NULL,
	robot_use TEXT NOT NULL DEFAULT ''
);
CREATE INDEX plan_phases_plan ON plan_phases (plan_id, ordinal);

CREATE TABLE plan_reviews (
	plan_id TEXT NOT NULL REFERENCES plans(id) ON DELETE CASCADE,
	on_date TEXT NOT NULL,
	held BOOLEAN NOT NULL DEFAULT FALSE,
	PRIMARY KEY (plan_id, on_date)
);

CREATE TABLE plan_notes (
	id TEXT PRIMARY KEY,
	plan_id TEXT NOT NULL REFERENCES plans(id) ON DELETE CASCADE,
	at BIGINT NOT NULL,
	voice TEXT NOT NULL CHECK (voice IN ('pupil', 'parent', 'school', 'ewo')),
	author_kind TEXT NOT NULL,
	author_id TEXT NOT NULL,
	text TEXT NOT NULL
);
CREATE INDEX plan_notes_plan ON plan_notes (plan_id, at);

-- Every saved version of a plan, as the JSON the API returned for it.
CREATE TABLE plan_history (
	plan_id TEXT NOT NULL REFERENCES plans(id) ON DELETE CASCADE,
	version INTEGER NOT NULL,
	at BIGINT NOT NULL,
	actor_kind TEXT NOT NULL,
	actor_id TEXT NOT NULL,
	snapshot TEXT NOT NULL,
	PRIMARY KEY (plan_id, version)
);

CREATE TABLE materials (
	id TEXT PRIMARY KEY,
	school_id TEXT NOT NULL REFERENCES schools(id) ON DELETE CASCADE,
	classroom_id TEXT NOT NULL REFERENCES classrooms(id) ON DELETE CASCADE,
	title TEXT NOT NULL,
	subject TEXT NOT NULL DEFAULT '',
	lesson_date TEXT NOT NULL,
	phase_id TEXT NOT NULL DEFAULT '',
	uploader_id TEXT NOT NULL,
	filename TEXT NOT NULL,
	size BIGINT NOT NULL,
	content_type TEXT NOT NULL,
	sha256 TEXT NOT NULL,
	object_key TEXT NOT NULL,
	created_at BIGINT NOT NULL
);
CREATE INDEX materials_classroom ON materials (classroom_id, lesson_date);
CREATE INDEX materials_phase ON materials (phase_id);
