-- Check in on return (docs/CASEWORK.md): a prompt on the key adult's
-- Today view when a pupil's plan moves into a phase with more time in
-- school, or the pupil is marked present after a run of absences. The
-- prompts are worked out when the key adult looks; only their being done
-- is stored, per pupil and event, so the same event is not listed again.
CREATE TABLE return_checkins (
	pupil_id TEXT NOT NULL REFERENCES pupils(id) ON DELETE CASCADE,
	-- The event: "phase:<phase id>" or "present:<day>:<AM|PM>".
	reason TEXT NOT NULL,
	done_by TEXT NOT NULL,
	done_at BIGINT NOT NULL,
	PRIMARY KEY (pupil_id, reason)
);
