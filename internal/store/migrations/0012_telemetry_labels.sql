-- How a device is connected and which camera and microphone it uses, as
-- the device names them (a classroom station reports the browser's view).
ALTER TABLE telemetry ADD COLUMN network TEXT NOT NULL DEFAULT '';
ALTER TABLE telemetry ADD COLUMN camera TEXT NOT NULL DEFAULT '';
ALTER TABLE telemetry ADD COLUMN microphone TEXT NOT NULL DEFAULT '';
