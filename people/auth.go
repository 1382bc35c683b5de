package people

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"

	"seatlink/internal/store"
)

// hashPassword returns an argon2id PHC string.
func hashPassword(pw string, p HashParams) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, 32)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// hash is hashPassword in a hashing slot (see Store.hashing).
func (s *Store) hash(ctx context.Context, pw string) (string, error) {
	var h string
	var err error
	if herr := s.hashing(ctx, func() { h, err = hashPassword(pw, s.cfg.Hash) }); herr != nil {
		return "", herr
	}
	return h, err
}

// checkPasswordHash verifies pw against a PHC string in constant time.
func checkPasswordHash(pw, encoded string) bool {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var p HashParams
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// Session is a signed-in browser: the cookie token (only its hash is
// stored) and the CSRF token its state-changing requests must carry.
type Session struct {
	Token     string
	CSRF      string
	Kind      string
	SubjectID string
	ExpiresAt time.Time
}

func (s *Store) newSession(ctx context.Context, q store.Q, kind, subject, origin string, life time.Duration) (Session, error) {
	token, hash := newSecret()
	csrf, _ := newSecret()
	exp := s.cfg.Now().Add(life)
	_, err := q.Exec(ctx, `INSERT INTO sessions (token_hash, kind, subject_id, csrf_token, origin, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, hash, kind, subject, csrf, origin, s.now(), exp.UnixMilli())
	return Session{Token: token, CSRF: csrf, Kind: kind, SubjectID: subject, ExpiresAt: exp}, err
}

// dummyHash is verified against when the email is unknown, so that the
// answer takes as long as for a known one.
var dummyHash = func() string {
	h, _ := hashPassword("not a password of anyone", DefaultHashParams)
	return h
}()

// StaffSignIn checks a staff member's email and password. After
// MaxFailures failures in a row the account is locked for LockFor, doubling
// with each further failure (at most a day). A new session is made on
// every sign-in, so a session token planted before sign-in is never
// promoted (no session fixation).
func (s *Store) StaffSignIn(ctx context.Context, email, password, remote string) (Session, Actor, error) {
	return s.signIn(ctx, "staff", email, password, remote)
}

// ParentSignIn is StaffSignIn for parents who have accepted their invitation.
func (s *Store) ParentSignIn(ctx context.Context, email, password, remote string) (Session, Actor, error) {
	return s.signIn(ctx, "parent", email, password, remote)
}

func (s *Store) signIn(ctx context.Context, kind, email, password, remote string) (Session, Actor, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	table := "staff"
	if kind == "parent" {
		table = "parents"
	}
	key := hashSecret(kind + ":" + email)
	// Every answer costs one password check, locked or not, known address
	// or not: its time says nothing of which addresses exist.
	var failures int
	var lockedUntil int64
	_ = s.q().QueryRow(ctx, `SELECT failures, locked_until FROM sign_in_failures WHERE email_hash = ? AND source = ?`, key, remote).
		Scan(&failures, &lockedUntil)
	var id, hash string
	lerr := s.q().QueryRow(ctx, `SELECT id, password_hash FROM `+table+` WHERE email = ?`, email).Scan(&id, &hash)
	if lerr != nil && !errors.Is(lerr, sql.ErrNoRows) {
		return Session{}, Actor{}, unavailable(lerr) // not "wrong password"
	}
	known := lerr == nil
	if !known || hash == "" {
		hash = dummyHash
	}
	ok := false
	if herr := s.hashing(ctx, func() { ok = checkPasswordHash(password, hash) }); herr != nil {
		return Session{}, Actor{}, herr
	}
	now := s.now()
	if lockedUntil > now {
		return Session{}, Actor{}, &LockedError{Until: time.UnixMilli(lockedUntil)}
	}
	if !known || !ok {
		failures++
		var until int64
		if over := failures - s.cfg.MaxFailures; over >= 0 {
			lock := s.cfg.LockFor << min(over, 10)
			until = now + min(lock, 24*time.Hour).Milliseconds()
		}
		if err := s.countFailure(ctx, key, remote, failures, until, now); err != nil {
			return Session{}, Actor{}, err
		}
		if until > 0 {
			s.log.Info("sign-in locked for this address from this source", "kind", kind, "subject", id, "failures", failures)
			if known {
				s.auditLock(ctx, kind, table, id, remote, until)
			}
			return Session{}, Actor{}, &LockedError{Until: time.UnixMilli(until)}
		}
		if known {
			s.log.Info("sign-in failed", "kind", kind, "subject", id, "failures", failures)
		}
		return Session{}, Actor{}, ErrBadCredentials
	}
	if _, err := s.q().Exec(ctx, `DELETE FROM sign_in_failures WHERE email_hash = ? AND source = ?`, key, remote); err != nil {
		return Session{}, Actor{}, err
	}
	var sess Session
	err := s.db.Tx(ctx, func(q store.Q) error {
		var err error
		sess, err = s.newSession(ctx, q, kind, id, "", s.cfg.StaffSession)
		return err
	})
	if err != nil {
		return Session{}, Actor{}, err
	}
	a, err := s.actor(ctx, kind, id)
	a.Remote = remote
	return sess, a, err
}

// Authenticate returns the actor behind a session cookie token.
func (s *Store) Authenticate(ctx context.Context, token string) (Actor, Session, error) {
	if token == "" || len(token) > 128 {
		return Actor{}, Session{}, ErrUnauthenticated
	}
	var sess Session
	var exp int64
	err := s.q().QueryRow(ctx, `SELECT kind, subject_id, csrf_token, expires_at FROM sessions WHERE token_hash = ?`,
		hashSecret(token)).Scan(&sess.Kind, &sess.SubjectID, &sess.CSRF, &exp)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return Actor{}, Session{}, unavailable(err) // an outage is no sign-out
	}
	if err != nil || exp <= s.now() {
		return Actor{}, Session{}, ErrUnauthenticated
	}
	sess.Token, sess.ExpiresAt = token, time.UnixMilli(exp)
	a, err := s.actor(ctx, sess.Kind, sess.SubjectID)
	if err != nil && !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrUnauthenticated) {
		return Actor{}, Session{}, unavailable(err)
	}
	if err != nil {
		return Actor{}, Session{}, ErrUnauthenticated
	}
	return a, sess, nil
}

// SetLanguage keeps the language a signed-in person chose for the pages
// (lang is checked by the caller against the languages served).
func (s *Store) SetLanguage(ctx context.Context, a Actor, lang string) error {
	table := map[string]string{"staff": "staff", "parent": "parents", "pupil": "pupils"}[a.Kind]
	if table == "" {
		return ErrForbidden
	}
	res, err := s.q().Exec(ctx, `UPDATE `+table+` SET lang = ? WHERE id = ?`, lang, a.ID)
	if err != nil {
		return unavailable(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return ErrNotFound
	}
	return nil
}

// CheckCSRF compares a request's CSRF token with its session's.
func CheckCSRF(sess Session, got string) bool {
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(sess.CSRF)) == 1
}

// SignOut ends a session.
func (s *Store) SignOut(ctx context.Context, token string) error {
	_, err := s.q().Exec(ctx, `DELETE FROM sessions WHERE token_hash = ?`, hashSecret(token))
	return err
}

func (s *Store) actor(ctx context.Context, kind, id string) (Actor, error) {
	a := Actor{Kind: kind, ID: id}
	switch kind {
	case "staff":
		var role string
		var disabled bool
		if err := s.q().QueryRow(ctx, `SELECT role, la_id, COALESCE(school_id, ''), name, disabled, lang FROM staff WHERE id = ?`, id).
			Scan(&role, &a.LAID, &a.SchoolID, &a.Name, &disabled, &a.Lang); err != nil {
			return Actor{}, NotFoundIfNoRows(err)
		}
		if disabled {
			return Actor{}, ErrUnauthenticated
		}
		a.Role = Role(role)
	case "parent":
		a.Role = RoleParent
		if err := s.q().QueryRow(ctx, `SELECT name, lang FROM parents WHERE id = ?`, id).Scan(&a.Name, &a.Lang); err != nil {
			return Actor{}, NotFoundIfNoRows(err)
		}
	case "pupil":
		a.Role = RolePupil
		if err := s.q().QueryRow(ctx, `SELECT p.school_id, s.la_id, p.display_name, p.lang FROM pupils p
			JOIN schools s ON s.id = p.school_id WHERE p.id = ?`, id).Scan(&a.SchoolID, &a.LAID, &a.Name, &a.Lang); err != nil {
			return Actor{}, NotFoundIfNoRows(err)
		}
	default:
		return Actor{}, errors.New("people: unknown session kind")
	}
	return a, nil
}

// countFailure stores the count of failed sign-ins for an address from a
// source, and the lock it earned (0: none).
func (s *Store) countFailure(ctx context.Context, key, source string, failures int, until, now int64) error {
	res, err := s.q().Exec(ctx, `UPDATE sign_in_failures SET failures = ?, locked_until = ?, updated_at = ? WHERE email_hash = ? AND source = ?`,
		failures, until, now, key, source)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return nil
	}
	_, err = s.q().Exec(ctx, `INSERT INTO sign_in_failures (email_hash, source, failures, locked_until, updated_at) VALUES (?, ?, ?, ?, ?)`,
		key, source, failures, until, now)
	return err
}

// auditLock writes a lock-out of a known account to its LA's audit log.
func (s *Store) auditLock(ctx context.Context, kind, table, id, source string, until int64) {
	var la string
	q := `SELECT la_id FROM staff WHERE id = ?`
	if table == "parents" {
		q = `SELECT s.la_id FROM parent_pupils pp JOIN pupils p ON p.id = pp.pupil_id JOIN schools s ON s.id = p.school_id WHERE pp.parent_id = ?`
	}
	if s.q().QueryRow(ctx, q, id).Scan(&la) != nil {
		return
	}
	detail := "from " + source + " until " + time.UnixMilli(until).UTC().Format(time.RFC3339)
	if err := s.audit(ctx, s.q(), Actor{Kind: "system", ID: "sign-in"}, la, ActSignInLocked, kind, id, "", detail); err != nil {
		s.log.Warn("audit of a lock-out", "err", err)
	}
}

// ResetStaffPassword sets a new password, clears any lock and ends the
// staff member's sessions.
func (s *Store) ResetStaffPassword(ctx context.Context, a Actor, staffID, password string) error {
	if err := s.Authorize(ctx, a, ActStaffReset, Target{StaffID: staffID}); err != nil {
		return err
	}
	if err := checkPassword(password); err != nil {
		return err
	}
	hash, err := s.hash(ctx, password)
	if err != nil {
		return err
	}
	return s.db.Tx(ctx, func(q store.Q) error {
		if _, err := q.Exec(ctx, `UPDATE staff SET password_hash = ?, failed_logins = 0, locked_until = 0 WHERE id = ?`,
			hash, staffID); err != nil {
			return err
		}
		if _, err := q.Exec(ctx, `DELETE FROM sessions WHERE kind = 'staff' AND subject_id = ?`, staffID); err != nil {
			return err
		}
		// The new password is good from everywhere: locks on the address go.
		var email string
		if err := q.QueryRow(ctx, `SELECT email FROM staff WHERE id = ?`, staffID).Scan(&email); err != nil {
			return err
		}
		if _, err := q.Exec(ctx, `DELETE FROM sign_in_failures WHERE email_hash = ?`, hashSecret("staff:"+email)); err != nil {
			return err
		}
		return s.audit(ctx, q, a, a.LAID, ActStaffReset, "staff", staffID, "", "")
	})
}

// ParentInput invites a parent of one or more pupils.
type ParentInput struct {
	Email    string   `json:"email"`
	Name     string   `json:"name"`
	PupilIDs []string `json:"pupil_ids"`
}

// InviteParent creates a parent linked to pupils and returns a one-time
// invitation token (valid 7 days) with which they set their password.
func (s *Store) InviteParent(ctx context.Context, a Actor, in ParentInput) (Parent, string, error) {
	if len(in.PupilIDs) == 0 || len(in.PupilIDs) > 20 {
		return Parent{}, "", invalid("pupil_ids", "required", "a parent is linked to 1 to 20 pupils")
	}
	for _, id := range in.PupilIDs {
		if err := s.Authorize(ctx, a, ActParentCreate, Target{PupilID: id}); err != nil {
			return Parent{}, "", err
		}
	}
	p := Parent{ID: newID("pa"), PupilIDs: in.PupilIDs}
	var err error
	if p.Name, err = checkName("name", in.Name); err != nil {
		return Parent{}, "", err
	}
	if p.Email, err = checkEmail(in.Email); err != nil {
		return Parent{}, "", err
	}
	token, hash := newSecret()
	err = s.db.Tx(ctx, func(q store.Q) error {
		if _, err := q.Exec(ctx, `INSERT INTO parents (id, email, name, invite_hash, invite_expires, created_at)
			VALUES (?, ?, ?, ?, ?, ?)`, p.ID, p.Email, p.Name, hash, s.cfg.Now().Add(7*24*time.Hour).UnixMilli(), s.now()); err != nil {
			return conflict(err, "email", "this email is already in use")
		}
		for _, id := range in.PupilIDs {
			if _, err := q.Exec(ctx, `INSERT INTO parent_pupils (parent_id, pupil_id) VALUES (?, ?)`, p.ID, id); err != nil {
				return conflict(err, "pupil_ids", "a pupil is listed twice")
			}
			if err := s.audit(ctx, q, a, a.LAID, ActParentCreate, "parent", p.ID, id, ""); err != nil {
				return err
			}
		}
		return nil
	})
	return p, token, err
}

// AcceptInvite sets a parent's password from their invitation and signs
// them in. The invitation works once.
func (s *Store) AcceptInvite(ctx context.Context, token, password string) (Session, error) {
	if err := checkPassword(password); err != nil {
		return Session{}, err
	}
	hash, err := s.hash(ctx, password)
	if err != nil {
		return Session{}, err
	}
	var sess Session
	err = s.db.Tx(ctx, func(q store.Q) error {
		var id string
		var exp int64
		if err := q.QueryRow(ctx, `SELECT id, invite_expires FROM parents WHERE invite_hash = ?`, hashSecret(token)).
			Scan(&id, &exp); err != nil || exp <= s.now() {
			return ErrExpired
		}
		if _, err := q.Exec(ctx, `UPDATE parents SET password_hash = ?, invite_hash = NULL, invite_expires = 0 WHERE id = ?`,
			hash, id); err != nil {
			return err
		}
		var err error
		sess, err = s.newSession(ctx, q, "parent", id, "", s.cfg.StaffSession)
		return err
	})
	return sess, err
}
