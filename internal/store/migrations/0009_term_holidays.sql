-- Non-school days inside a term: half-term weeks, INSET days, bank
-- holidays. A day inside a term but inside one of these counts for
-- nothing, neither attendance nor absence. Dates are YYYY-MM-DD in the
-- school's own time zone, inclusive.

CREATE TABLE term_holidays (
	id TEXT PRIMARY KEY,
	school_id TEXT NOT NULL REFERENCES schools(id) ON DELETE CASCADE,
	name TEXT NOT NULL,
	starts_on TEXT NOT NULL,
	ends_on TEXT NOT NULL
);
CREATE INDEX term_holidays_school ON term_holidays (school_id, starts_on);

-- A suggested code may only be an absence code (the DfE: a pupil absent
-- and receiving remote education is marked absent). Policies set before
-- this rule to a present, approved-activity or not-possible code are
-- cleared rather than kept as a suggestion that would be wrong.
UPDATE schools SET suggest_code = '' WHERE suggest_code NOT IN
	('C', 'C1', 'C2', 'E', 'I', 'J1', 'M', 'R', 'S', 'T', 'G', 'N', 'O', 'U');
