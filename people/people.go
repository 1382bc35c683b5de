// Package people holds who exists in Seatlink and what each may do: local
// authorities, schools, classrooms, staff (LA admins, teachers, EWOs),
// pupils and parents; sign-in and sessions; pupils' join links and codes;
// the one permissions table every route and WebSocket message is checked
// against; and the audit log of staff views and changes.
//
// It knows nothing of HTTP: signaling turns requests into calls here and
// this package's errors into status codes.
package people

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"time"

	"seatlink/internal/store"
)

// Role is what a person (or device) is to Seatlink.
type Role string

// The roles.
const (
	RoleAdmin   Role = "admin" // a local authority's administrator
	RoleTeacher Role = "teacher"
	RoleEWO     Role = "ewo" // Education Welfare Officer or attendance lead
	RoleParent  Role = "parent"
	RolePupil   Role = "pupil"
)

// StaffRoles are the roles a staff record may have.
var StaffRoles = []Role{RoleAdmin, RoleTeacher, RoleEWO}

// Errors. Out-of-scope records are ErrNotFound, so that their existence is
// not revealed; ErrForbidden is for a role that may never do the action.
var (
	ErrNotFound        = errors.New("not found")
	ErrForbidden       = errors.New("forbidden")
	ErrConflict        = errors.New("conflict")
	ErrInvalid         = errors.New("invalid")
	ErrUnauthenticated = errors.New("unauthenticated")
	ErrBadCredentials  = errors.New("wrong email or password")
	ErrLocked          = errors.New("too many failed sign-ins")
	ErrExpired         = errors.New("expired or revoked")
	// ErrOutOfScope is ErrNotFound for a record that exists outside the
	// caller's scope (another LA's, another school's): answered as not
	// found, but logged and counted as a refusal.
	ErrOutOfScope = fmt.Errorf("%w (outside the caller's scope)", ErrNotFound)
	// ErrStoreUnavailable: the records could not be read (the database is
	// down or unreachable); nothing is known about the question asked.
	ErrStoreUnavailable = errors.New("the records are unavailable")
	// ErrBusy: every password-hashing slot stayed taken; try again shortly.
	ErrBusy = errors.New("busy: too many sign-ins at once")
)

// FieldError says which field of an input is wrong and why, with a stable
// code. It wraps ErrInvalid.
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }
func (e *FieldError) Unwrap() error { return ErrInvalid }

func invalid(field, code, format string, args ...any) error {
	return &FieldError{Field: field, Code: code, Message: fmt.Sprintf(format, args...)}
}

// LockedError carries when a locked account may try again.
type LockedError struct{ Until time.Time }

func (e *LockedError) Error() string {
	return "too many failed sign-ins; try again after " + e.Until.UTC().Format(time.RFC3339)
}
func (e *LockedError) Unwrap() error { return ErrLocked }

// Actor is whoever is acting, as established by a session (or by the
// system itself for demo set-up and imports run by the operator).
type Actor struct {
	Kind     string // "staff", "parent", "pupil" or "system"
	ID       string
	Role     Role
	LAID     string
	SchoolID string // staff other than admins, and pupils
	Name     string // for the UI only; never logged
	Remote   string // the client's address, for the audit log
	Lang     string // the person's chosen language for the pages, "" if none
}

// System is the operator acting from the command line (demo set-up).
var System = Actor{Kind: "system", ID: "system", Role: RoleAdmin}

// HashParams are the argon2id parameters for passwords.
type HashParams struct {
	Time    uint32
	Memory  uint32 // KiB
	Threads uint8
}

// DefaultHashParams follow OWASP's argon2id minimum (19 MiB, 2 passes).
var DefaultHashParams = HashParams{Time: 2, Memory: 19 * 1024, Threads: 1}

// Config tunes the people store.
type Config struct {
	Hash HashParams
	// StaffSession and PupilSession are session lifetimes; a pupil's
	// session is a remembered home device.
	StaffSession time.Duration
	PupilSession time.Duration
	// MaxFailures before a lock-out; each further failure doubles it.
	MaxFailures int
	LockFor     time.Duration
	Now         func() time.Time
	Logger      *slog.Logger
	// MaxHashing bounds password hashes computed at once (each takes
	// Hash.Memory KiB: 19 MiB by default), so a burst of sign-ins cannot
	// run the server out of memory; default: the cores, at least 2.
	MaxHashing int
	// HashWait is how long a sign-in waits for a hashing slot before
	// ErrBusy (default 3 s).
	HashWait time.Duration
}

// Store is the people records over a database.
type Store struct {
	db  *store.DB
	cfg Config
	log *slog.Logger
	// eraseHooks remove what other rooms hold about a pupil (engagement
	// evidence) inside the erasure's transaction.
	eraseHooks []EraseHook
	hashSlots  chan struct{}
}

// hashing runs f (a password hash or check) in one of a bounded number of
// slots, waiting up to Config.HashWait for one: ErrBusy if none came free.
func (s *Store) hashing(ctx context.Context, f func()) error {
	t := time.NewTimer(s.cfg.HashWait)
	defer t.Stop()
	select {
	case s.hashSlots <- struct{}{}:
	case <-t.C:
		return ErrBusy
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-s.hashSlots }()
	f()
	return nil
}

// EraseHook removes what another part of Seatlink holds about a pupil; it
// runs inside the erasure's transaction, so an erasure is whole or none.
type EraseHook func(ctx context.Context, q store.Q, pupilID string) error

// OnErase adds an erase hook. Call it while wiring, before serving.
func (s *Store) OnErase(h EraseHook) { s.eraseHooks = append(s.eraseHooks, h) }

// New returns a Store; zero Config fields take defaults.
func New(db *store.DB, cfg Config) *Store {
	if cfg.Hash.Time == 0 {
		cfg.Hash = DefaultHashParams
	}
	if cfg.StaffSession == 0 {
		cfg.StaffSession = 12 * time.Hour
	}
	if cfg.PupilSession == 0 {
		cfg.PupilSession = 90 * 24 * time.Hour
	}
	if cfg.MaxFailures == 0 {
		cfg.MaxFailures = 5
	}
	if cfg.LockFor == 0 {
		cfg.LockFor = time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.HashWait <= 0 {
		cfg.HashWait = 3 * time.Second
	}
	if cfg.MaxHashing <= 0 {
		cfg.MaxHashing = max(2, runtime.NumCPU())
	}
	return &Store{db: db, cfg: cfg, log: cfg.Logger, hashSlots: make(chan struct{}, cfg.MaxHashing)}
}

func (s *Store) now() int64 { return s.cfg.Now().UnixMilli() }

// newID returns a prefixed random identifier.
func newID(prefix string) string { return store.NewID(prefix + "-") }

// newSecret returns 256 random bits, URL-safe, and its hash for storage.
func newSecret() (secret, hash string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	secret = base64.RawURLEncoding.EncodeToString(b)
	return secret, hashSecret(secret)
}

func hashSecret(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

func (s *Store) q() store.Q { return s.db.Q() }

// Ping says whether the records can be read at all: a failed check of a
// right is a refusal only while the store answers.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	return s.q().QueryRow(ctx, `SELECT 1`).Scan(&one)
}

// unavailable wraps a store error that is not "no such row" as
// ErrStoreUnavailable, unless the caller's context ended (then the store
// is not to blame and the context's error is returned).
func unavailable(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("%w: %v", ErrStoreUnavailable, err)
}

// notFoundIfNoRows maps sql.ErrNoRows to ErrNotFound.
// NotFoundIfNoRows turns a query that found no row into ErrNotFound.
func NotFoundIfNoRows(err error) error {
	if err != nil && errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

// DB exposes the database for other rooms' stores that share it.
func (s *Store) DB() *store.DB { return s.db }
