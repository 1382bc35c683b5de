-- Reports read a pupil's (or a school's) events in time order and need
-- only the kind and value: a covering index answers from the index alone,
-- without a table lookup per event (the caseload benchmark's main cost on
-- SQLite).

CREATE INDEX engagement_events_report ON engagement_events (pupil_id, at, kind, value);
DROP INDEX engagement_events_pupil_at;
