-- The language each person chose for the pages ('' : none yet; the
-- device's choice and the browser's language decide). Kept with the person
-- so that a shared school computer, or a pupil's second device, opens in
-- the right language after signing in, and so that mail to a parent can be
-- written in theirs.
ALTER TABLE staff ADD COLUMN lang TEXT NOT NULL DEFAULT '';
ALTER TABLE parents ADD COLUMN lang TEXT NOT NULL DEFAULT '';
ALTER TABLE pupils ADD COLUMN lang TEXT NOT NULL DEFAULT '';
