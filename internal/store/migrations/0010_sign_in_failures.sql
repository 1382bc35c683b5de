-- Failed sign-ins counted per e-mail address and source together, so that
-- a forgotten password tried from one place, or someone who knows a staff
-- member's address, locks that address out from that place only. Keyed by
-- the address as typed (hashed), known or not, so that a lock says nothing
-- of which addresses exist.

CREATE TABLE sign_in_failures (
	email_hash TEXT NOT NULL,
	source TEXT NOT NULL,
	failures INTEGER NOT NULL DEFAULT 0,
	locked_until BIGINT NOT NULL DEFAULT 0,
	updated_at BIGINT NOT NULL,
	PRIMARY KEY (email_hash, source)
);
