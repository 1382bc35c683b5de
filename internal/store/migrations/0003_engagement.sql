-- Engagement events: append-only evidence from the media and the devices
-- (the pupil's session, classroom media reaching the pupil, voice, hands,
-- head turns, chat, robot asleep/awake). Intervals and measures are derived
-- from them, never stored in their place.

CREATE TABLE engagement_events (
	id TEXT PRIMARY KEY,
	at BIGINT NOT NULL,
	pupil_id TEXT NOT NULL,
	link_id TEXT NOT NULL,
	kind TEXT NOT NULL,
	value DOUBLE PRECISION NOT NULL DEFAULT 0
);
CREATE INDEX engagement_events_pupil_at ON engagement_events (pupil_id, at);
