-- Attendance registers: one mark per pupil per session (AM/PM) with a DfE
-- code, from the school's MIS export or entered on the register page.

CREATE TABLE marks (
	pupil_id TEXT NOT NULL REFERENCES pupils(id) ON DELETE CASCADE,
	day TEXT NOT NULL,
	session TEXT NOT NULL CHECK (session IN ('AM', 'PM')),
	code TEXT NOT NULL,
	source TEXT NOT NULL CHECK (source IN ('mis', 'register')),
	entered_by TEXT NOT NULL,
	entered_at BIGINT NOT NULL,
	PRIMARY KEY (pupil_id, day, session)
);
