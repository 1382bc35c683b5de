-- Listen and understand (docs/CASEWORK.md): the barriers to a pupil's
-- attendance as each person names them, the support agreed with an owner
-- and a date, the contacts with the family, the pupil's own words before a
-- plan review, and what each review found and decided.

CREATE TABLE barriers (
	id TEXT PRIMARY KEY,
	pupil_id TEXT NOT NULL REFERENCES pupils(id) ON DELETE CASCADE,
	kind TEXT NOT NULL CHECK (kind IN ('anxiety', 'illness', 'send', 'bullying', 'family', 'transport', 'other')),
	named_by TEXT NOT NULL CHECK (named_by IN ('pupil', 'parent', 'school', 'ewo')),
	words TEXT NOT NULL DEFAULT '',
	recorded_by TEXT NOT NULL,
	at BIGINT NOT NULL,
	-- 0 while the barrier stands.
	resolved_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX barriers_pupil ON barriers (pupil_id, at);

CREATE TABLE support_actions (
	id TEXT PRIMARY KEY,
	pupil_id TEXT NOT NULL REFERENCES pupils(id) ON DELETE CASCADE,
	action TEXT NOT NULL,
	-- Who does it, in words ("Mrs Evans, key adult", "Parent", "Dai").
	owner TEXT NOT NULL,
	due_on TEXT NOT NULL,
	status TEXT NOT NULL CHECK (status IN ('agreed', 'in_progress', 'done', 'dropped')),
	recorded_by TEXT NOT NULL,
	at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL
);
CREATE INDEX support_actions_pupil ON support_actions (pupil_id, due_on);

CREATE TABLE contacts (
	id TEXT PRIMARY KEY,
	pupil_id TEXT NOT NULL REFERENCES pupils(id) ON DELETE CASCADE,
	kind TEXT NOT NULL CHECK (kind IN ('meeting', 'call', 'home_visit', 'other')),
	held_on TEXT NOT NULL,
	-- Who took part: a comma-separated list of pupil, parent, key_adult,
	-- school, ewo, other.
	participants TEXT NOT NULL,
	notes TEXT NOT NULL DEFAULT '',
	recorded_by TEXT NOT NULL,
	at BIGINT NOT NULL
);
CREATE INDEX contacts_pupil ON contacts (pupil_id, held_on);

-- The pupil's "what I want to say" before a review of their plan.
CREATE TABLE pupil_voice (
	id TEXT PRIMARY KEY,
	pupil_id TEXT NOT NULL REFERENCES pupils(id) ON DELETE CASCADE,
	plan_id TEXT NOT NULL,
	review_on TEXT NOT NULL,
	words TEXT NOT NULL,
	at BIGINT NOT NULL
);
CREATE INDEX pupil_voice_plan ON pupil_voice (plan_id, review_on);

-- What a review found: who took part, the pupil's words, the barriers and
-- support as they stood (copied, so later changes do not rewrite it), and
-- what was decided.
CREATE TABLE review_records (
	id TEXT PRIMARY KEY,
	pupil_id TEXT NOT NULL REFERENCES pupils(id) ON DELETE CASCADE,
	plan_id TEXT NOT NULL,
	review_on TEXT NOT NULL,
	participants TEXT NOT NULL,
	pupil_words TEXT NOT NULL DEFAULT '',
	snapshot TEXT NOT NULL,
	decided TEXT NOT NULL,
	recorded_by TEXT NOT NULL,
	at BIGINT NOT NULL
);
CREATE INDEX review_records_plan ON review_records (plan_id, review_on);
