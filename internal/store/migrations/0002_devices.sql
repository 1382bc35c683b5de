-- Classroom devices: robots, classroom stations and pupils' home devices,
-- owned by an LA, lent to schools, placed in classrooms, paired with one
-- pupil. A robot's link is the robot itself: the robot_links of 0001 give
-- way to devices.pupil_id.

DROP TABLE robot_links;

CREATE TABLE devices (
	id TEXT PRIMARY KEY,
	la_id TEXT NOT NULL REFERENCES local_authorities(id),
	kind TEXT NOT NULL CHECK (kind IN ('robot', 'station', 'home')),
	name TEXT NOT NULL,
	-- Where the device is now: the school of its current loan and a classroom there.
	school_id TEXT REFERENCES schools(id),
	classroom_id TEXT REFERENCES classrooms(id),
	-- The one pupil who may join through it.
	pupil_id TEXT REFERENCES pupils(id) ON DELETE SET NULL,
	credential_hash TEXT UNIQUE,
	credential_at BIGINT NOT NULL DEFAULT 0,
	revoked_at BIGINT NOT NULL DEFAULT 0,
	firmware TEXT NOT NULL DEFAULT '',
	capabilities TEXT NOT NULL DEFAULT '',
	last_seen BIGINT NOT NULL DEFAULT 0,
	-- online, offline; reason for the last change (clean_close,
	-- heartbeat_timeout, revoked, replaced, server_stopped).
	presence TEXT NOT NULL DEFAULT 'offline',
	presence_reason TEXT NOT NULL DEFAULT '',
	created_at BIGINT NOT NULL,
	UNIQUE (la_id, name)
);
CREATE UNIQUE INDEX devices_one_per_pupil ON devices (pupil_id, kind) WHERE pupil_id IS NOT NULL;

CREATE TABLE enrollment_codes (
	code_hash TEXT PRIMARY KEY,
	device_id TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
	expires_at BIGINT NOT NULL,
	used_at BIGINT NOT NULL DEFAULT 0,
	created_by TEXT NOT NULL,
	created_at BIGINT NOT NULL
);
CREATE INDEX enrollment_codes_device ON enrollment_codes (device_id);

CREATE TABLE loans (
	id TEXT PRIMARY KEY,
	device_id TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
	school_id TEXT NOT NULL REFERENCES schools(id),
	starts_on BIGINT NOT NULL,
	ends_on BIGINT NOT NULL,
	returned_at BIGINT NOT NULL DEFAULT 0,
	created_by TEXT NOT NULL,
	created_at BIGINT NOT NULL
);
CREATE INDEX loans_device ON loans (device_id, starts_on);

CREATE TABLE telemetry (
	device_id TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
	at BIGINT NOT NULL,
	battery INTEGER NOT NULL,
	charging BOOLEAN NOT NULL,
	temperature_c DOUBLE PRECISION NOT NULL,
	wifi_dbm INTEGER NOT NULL,
	uptime_s BIGINT NOT NULL,
	asleep BOOLEAN NOT NULL,
	PRIMARY KEY (device_id, at)
);
