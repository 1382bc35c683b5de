-- Battery, temperature and Wi-Fi signal become optional: a classroom
-- station in a browser, or a robot on mains power, cannot know some of
-- them, and a made-up reading would be worse than none. NULL is unknown.
-- (SQLite cannot drop NOT NULL in place, so the table is rebuilt; the
-- same statements run on PostgreSQL.)

CREATE TABLE telemetry_v2 (
	device_id TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
	at BIGINT NOT NULL,
	battery INTEGER,
	charging BOOLEAN NOT NULL,
	temperature_c DOUBLE PRECISION,
	wifi_dbm INTEGER,
	uptime_s BIGINT NOT NULL,
	asleep BOOLEAN NOT NULL,
	PRIMARY KEY (device_id, at)
);
INSERT INTO telemetry_v2 (device_id, at, battery, charging, temperature_c, wifi_dbm, uptime_s, asleep)
	SELECT device_id, at, battery, charging, temperature_c, wifi_dbm, uptime_s, asleep FROM telemetry;
DROP TABLE telemetry;
ALTER TABLE telemetry_v2 RENAME TO telemetry;
