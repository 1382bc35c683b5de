-- The people around the pupil (docs/CASEWORK.md): the family's one point
-- of contact at school, messages between the family and school, and the
-- pupil's own check-ins. Every row goes with the pupil's.

-- The pupil's key adult: the member of staff the family and the pupil
-- turn to first, and how to reach them, in their own words.
CREATE TABLE key_adults (
	pupil_id TEXT PRIMARY KEY REFERENCES pupils(id) ON DELETE CASCADE,
	staff_id TEXT NOT NULL REFERENCES staff(id),
	contact TEXT NOT NULL DEFAULT '',
	set_by TEXT NOT NULL,
	set_at BIGINT NOT NULL
);
CREATE INDEX key_adults_staff ON key_adults (staff_id);

-- One thread per pupil between the pupil's parents and school staff.
CREATE TABLE messages (
	id TEXT PRIMARY KEY,
	pupil_id TEXT NOT NULL REFERENCES pupils(id) ON DELETE CASCADE,
	author_kind TEXT NOT NULL CHECK (author_kind IN ('staff', 'parent')),
	author_id TEXT NOT NULL,
	body TEXT NOT NULL,
	created_at BIGINT NOT NULL
);
CREATE INDEX messages_pupil ON messages (pupil_id, created_at);

-- How far each reader has read a pupil's thread.
CREATE TABLE message_reads (
	pupil_id TEXT NOT NULL REFERENCES pupils(id) ON DELETE CASCADE,
	reader_kind TEXT NOT NULL,
	reader_id TEXT NOT NULL,
	read_at BIGINT NOT NULL,
	PRIMARY KEY (pupil_id, reader_kind, reader_id)
);

-- "How did today feel?": the pupil's own answer, never required, never
-- scored; seen by the pupil and their key adult only.
CREATE TABLE checkins (
	id TEXT PRIMARY KEY,
	pupil_id TEXT NOT NULL REFERENCES pupils(id) ON DELETE CASCADE,
	feeling INTEGER NOT NULL CHECK (feeling BETWEEN 1 AND 5),
	words TEXT NOT NULL DEFAULT '',
	at BIGINT NOT NULL
);
CREATE INDEX checkins_pupil ON checkins (pupil_id, at);
