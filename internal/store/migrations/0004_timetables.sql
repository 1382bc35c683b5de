-- Timetables: a school's terms and the periods of its week (school-wide,
-- or for one classroom where it differs). Dates are YYYY-MM-DD and times
-- HH:MM in the school's own time zone.

ALTER TABLE schools ADD COLUMN timezone TEXT NOT NULL DEFAULT 'Europe/London';

CREATE TABLE terms (
	id TEXT PRIMARY KEY,
	school_id TEXT NOT NULL REFERENCES schools(id) ON DELETE CASCADE,
	name TEXT NOT NULL,
	starts_on TEXT NOT NULL,
	ends_on TEXT NOT NULL
);
CREATE INDEX terms_school ON terms (school_id, starts_on);

CREATE TABLE periods (
	id TEXT PRIMARY KEY,
	school_id TEXT NOT NULL REFERENCES schools(id) ON DELETE CASCADE,
	-- Empty for the school-wide timetable.
	classroom_id TEXT NOT NULL DEFAULT '',
	weekday INTEGER NOT NULL CHECK (weekday BETWEEN 1 AND 7),
	starts TEXT NOT NULL,
	ends TEXT NOT NULL,
	kind TEXT NOT NULL CHECK (kind IN ('lesson', 'break', 'lunch', 'club', 'registration')),
	session TEXT NOT NULL CHECK (session IN ('AM', 'PM')),
	name TEXT NOT NULL DEFAULT ''
);
CREATE INDEX periods_school ON periods (school_id, classroom_id, weekday);
