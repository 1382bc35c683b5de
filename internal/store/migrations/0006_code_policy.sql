-- A school's policy on suggesting a register code for a session the pupil
-- engaged in remotely: empty (the default) suggests nothing; otherwise the
-- DfE code the school has agreed to be offered. A suggestion is shown
-- beside an unmarked session and never written as a mark.

ALTER TABLE schools ADD COLUMN suggest_code TEXT NOT NULL DEFAULT '';
