package devices

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"seatlink/internal/store"
	"seatlink/people"
)

// Device kinds.
const (
	KindRobot   = "robot"   // sits in a classroom, paired with one pupil
	KindStation = "station" // a classroom PC or tablet used instead of a robot (/station)
	KindHome    = "home"    // a pupil's remembered device at home
)

// Presence reasons.
const (
	ReasonConnected   = "connected"
	ReasonCleanClose  = "clean_close"
	ReasonHeartbeat   = "heartbeat_timeout"
	ReasonRevoked     = "revoked"
	ReasonReplaced    = "replaced"
	ReasonServerClose = "server_stopped"
)

// Errors of the registry.
var (
	ErrExpired    = errors.New("devices: enrollment code expired, used or unknown")
	ErrBadDevice  = errors.New("devices: unknown or revoked device credential")
	ErrNotRobot   = errors.New("devices: only a robot or a classroom station can be paired with a pupil")
	ErrWrongPlace = errors.New("devices: the classroom or pupil is not at the device's school")
)

// EnrollmentLifetime is how long an enrollment code works.
const EnrollmentLifetime = 15 * time.Minute

// Device is one registered device.
type Device struct {
	ID             string    `json:"id"`
	LAID           string    `json:"la_id"`
	Kind           string    `json:"kind"`
	Name           string    `json:"name"`
	SchoolID       string    `json:"school_id,omitempty"`
	ClassroomID    string    `json:"classroom_id,omitempty"`
	PupilID        string    `json:"pupil_id,omitempty"`
	Firmware       string    `json:"firmware,omitempty"`
	Enrolled       bool      `json:"enrolled"`
	Revoked        bool      `json:"revoked"`
	Presence       string    `json:"presence"`
	PresenceReason string    `json:"presence_reason,omitempty"`
	LastSeen       time.Time `json:"last_seen,omitempty"`
	// LoanEnds is when the current loan to SchoolID ends (zero: in the pool).
	LoanEnds time.Time `json:"loan_ends,omitempty"`
}

// Registry is the devices in the database, with permissions checked by
// the people store.
type Registry struct {
	db     *store.DB
	people *people.Store
	now    func() time.Time
}

// NewRegistry returns the registry.
func NewRegistry(db *store.DB, ps *people.Store, now func() time.Time) *Registry {
	if now == nil {
		now = time.Now
	}
	return &Registry{db: db, people: ps, now: now}
}

func (r *Registry) ms() int64 { return r.now().UnixMilli() }

const deviceCols = `id, la_id, kind, name, COALESCE(school_id, ''), COALESCE(classroom_id, ''), COALESCE(pupil_id, ''),
	firmware, credential_hash IS NOT NULL, revoked_at, presence, presence_reason, last_seen,
	COALESCE((SELECT MAX(l.ends_on) FROM loans l WHERE l.device_id = devices.id AND l.returned_at = 0), 0)`

func scanDevice(sc interface{ Scan(...any) error }) (Device, error) {
	var d Device
	var revoked, seen, loanEnds int64
	err := sc.Scan(&d.ID, &d.LAID, &d.Kind, &d.Name, &d.SchoolID, &d.ClassroomID, &d.PupilID, &d.Firmware, &d.Enrolled,
		&revoked, &d.Presence, &d.PresenceReason, &seen, &loanEnds)
	if loanEnds != 0 {
		d.LoanEnds = time.UnixMilli(loanEnds).UTC()
	}
	d.Revoked = revoked != 0
	if seen != 0 {
		d.LastSeen = time.UnixMilli(seen).UTC()
	}
	return d, err
}

func (r *Registry) get(ctx context.Context, id string) (Device, error) {
	d, err := scanDevice(r.db.Q().QueryRow(ctx, `SELECT `+deviceCols+` FROM devices WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Device{}, people.ErrNotFound
	}
	return d, err
}

// PairedWith is the robot or station paired with a pupil, for the
// pupil's own session (the caller has authenticated the pupil).
func (r *Registry) PairedWith(ctx context.Context, pupilID string) (Device, error) {
	d, err := scanDevice(r.db.Q().QueryRow(ctx, `SELECT `+deviceCols+` FROM devices WHERE pupil_id = ?`, pupilID))
	if errors.Is(err, sql.ErrNoRows) {
		return Device{}, people.ErrNotFound
	}
	return d, err
}

// target is what permissions look at for a device.
func target(d Device) people.Target {
	return people.Target{LAID: d.LAID, SchoolID: d.SchoolID, ClassroomID: d.ClassroomID}
}

// Get returns a device the actor may see.
func (r *Registry) Get(ctx context.Context, a people.Actor, id string) (Device, error) {
	d, err := r.get(ctx, id)
	if err != nil {
		return Device{}, err
	}
	t := target(d)
	if scope, _ := people.ScopeOf(a.Role, people.ActDeviceList); scope == people.ScopeLA {
		t = people.Target{LAID: d.LAID}
	}
	if err := r.people.Authorize(ctx, a, people.ActDeviceList, t); err != nil {
		return Device{}, err
	}
	return d, nil
}

// List returns the devices the actor may see: an admin's LA pool, a
// teacher's school.
func (r *Registry) List(ctx context.Context, a people.Actor) ([]Device, error) {
	scope, ok := people.ScopeOf(a.Role, people.ActDeviceList)
	if !ok {
		return nil, people.ErrForbidden
	}
	q, arg := `SELECT `+deviceCols+` FROM devices WHERE la_id = ? ORDER BY name`, a.LAID
	if scope == people.ScopeSchool {
		q, arg = `SELECT `+deviceCols+` FROM devices WHERE school_id = ? ORDER BY name`, a.SchoolID
	}
	rows, err := r.db.Q().Query(ctx, q, arg)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Device{}
	for rows.Next() {
		d, err := scanDevice(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

func randomCode() string {
	const alphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	out := make([]byte, 0, 9)
	for i, c := range b {
		if i == 4 {
			out = append(out, '-')
		}
		out = append(out, alphabet[int(c)%len(alphabet)])
	}
	return string(out)
}

// Create registers a device in the admin's LA and returns it with a first
// enrollment code.
func (r *Registry) Create(ctx context.Context, a people.Actor, kind, name string) (Device, string, error) {
	if err := r.people.Authorize(ctx, a, people.ActDeviceCreate, people.Target{LAID: a.LAID}); err != nil {
		return Device{}, "", err
	}
	switch kind {
	case KindRobot, KindStation, KindHome:
	default:
		return Device{}, "", &people.FieldError{Field: "kind", Code: "bad_kind", Message: "kind must be robot, station or home"}
	}
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 100 {
		return Device{}, "", &people.FieldError{Field: "name", Code: "required", Message: "a device needs a name of up to 100 characters"}
	}
	id := make([]byte, 6)
	_, _ = rand.Read(id)
	d := Device{ID: "dev-" + hex.EncodeToString(id), LAID: a.LAID, Kind: kind, Name: name, Presence: "offline"}
	var code string
	err := r.db.Tx(ctx, func(q store.Q) error {
		if _, err := q.Exec(ctx, `INSERT INTO devices (id, la_id, kind, name, created_at) VALUES (?, ?, ?, ?, ?)`,
			d.ID, d.LAID, d.Kind, d.Name, r.ms()); err != nil {
			if store.IsUnique(err) {
				return &people.ConflictError{Field: "name", Message: "a device with this name already exists"}
			}
			return err
		}
		var err error
		code, err = r.newCode(ctx, q, a, d.ID)
		return err
	})
	return d, code, err
}

func (r *Registry) newCode(ctx context.Context, q store.Q, a people.Actor, deviceID string) (string, error) {
	code := randomCode()
	_, err := q.Exec(ctx, `INSERT INTO enrollment_codes (code_hash, device_id, expires_at, created_by, created_at)
		VALUES (?, ?, ?, ?, ?)`, hashToken(people.NormalizeCode(code)), deviceID, r.now().Add(EnrollmentLifetime).UnixMilli(), a.ID, r.ms())
	return code, err
}

// NewEnrollmentCode issues a fresh code for a device (to re-enroll it).
func (r *Registry) NewEnrollmentCode(ctx context.Context, a people.Actor, deviceID string) (string, error) {
	d, err := r.get(ctx, deviceID)
	if err != nil {
		return "", err
	}
	if err := r.people.Authorize(ctx, a, people.ActDeviceCreate, people.Target{LAID: d.LAID}); err != nil {
		return "", err
	}
	return r.newCode(ctx, r.db.Q(), a, deviceID)
}

// Enroll exchanges a code, once and within EnrollmentLifetime, for the
// device's long-lived credential (replacing any earlier one, and lifting
// a revocation).
func (r *Registry) Enroll(ctx context.Context, code string) (deviceID, credential string, err error) {
	code = people.NormalizeCode(code)
	if len(code) != 8 {
		return "", "", ErrExpired
	}
	tok := make([]byte, 32)
	_, _ = rand.Read(tok)
	credential = base64.RawURLEncoding.EncodeToString(tok)
	err = r.db.Tx(ctx, func(q store.Q) error {
		var exp, used int64
		if err := q.QueryRow(ctx, `SELECT device_id, expires_at, used_at FROM enrollment_codes WHERE code_hash = ?`,
			hashToken(code)).Scan(&deviceID, &exp, &used); err != nil {
			return ErrExpired
		}
		now := r.ms()
		if used != 0 || exp <= now {
			return ErrExpired
		}
		res, err := q.Exec(ctx, `UPDATE enrollment_codes SET used_at = ? WHERE code_hash = ? AND used_at = 0`, now, hashToken(code))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrExpired
		}
		_, err = q.Exec(ctx, `UPDATE devices SET credential_hash = ?, credential_at = ?, revoked_at = 0 WHERE id = ?`,
			hashToken(credential), now, deviceID)
		return err
	})
	if err != nil {
		return "", "", err
	}
	return deviceID, credential, nil
}

// Authenticate returns the device a credential belongs to, unless revoked.
func (r *Registry) Authenticate(ctx context.Context, credential string) (Device, error) {
	if credential == "" || len(credential) > 128 {
		return Device{}, ErrBadDevice
	}
	d, err := scanDevice(r.db.Q().QueryRow(ctx, `SELECT `+deviceCols+` FROM devices WHERE credential_hash = ?`, hashToken(credential)))
	if err != nil || d.Revoked {
		return Device{}, ErrBadDevice
	}
	return d, nil
}

// Rotate replaces a device's credential with a new one (the device asks,
// authenticated by the old one). A revoked device gets none: ErrBadDevice.
func (r *Registry) Rotate(ctx context.Context, deviceID string) (string, error) {
	tok := make([]byte, 32)
	_, _ = rand.Read(tok)
	credential := base64.RawURLEncoding.EncodeToString(tok)
	res, err := r.db.Q().Exec(ctx, `UPDATE devices SET credential_hash = ?, credential_at = ? WHERE id = ? AND revoked_at = 0`,
		hashToken(credential), r.ms(), deviceID)
	if err != nil {
		return "", err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return "", ErrBadDevice
	}
	return credential, nil
}

// Revoke stops a device's credential. The caller disconnects it (Hub).
func (r *Registry) Revoke(ctx context.Context, a people.Actor, deviceID string) error {
	d, err := r.get(ctx, deviceID)
	if err != nil {
		return err
	}
	if err := r.people.Authorize(ctx, a, people.ActDeviceManage, people.Target{LAID: d.LAID}); err != nil {
		return err
	}
	// Codes issued before the revocation die with it: only a code issued
	// after it (an admin's deliberate re-enrollment) lifts it.
	return r.db.Tx(ctx, func(q store.Q) error {
		now := r.ms()
		if _, err := q.Exec(ctx, `UPDATE devices SET revoked_at = ?, credential_hash = NULL WHERE id = ?`, now, deviceID); err != nil {
			return err
		}
		_, err := q.Exec(ctx, `UPDATE enrollment_codes SET used_at = ? WHERE device_id = ? AND used_at = 0`, now, deviceID)
		return err
	})
}

// Lend lends a device to a school of the LA from one date to another.
func (r *Registry) Lend(ctx context.Context, a people.Actor, deviceID, schoolID string, from, to time.Time) error {
	d, err := r.get(ctx, deviceID)
	if err != nil {
		return err
	}
	if err := r.people.Authorize(ctx, a, people.ActDeviceManage, people.Target{LAID: d.LAID}); err != nil {
		return err
	}
	if err := r.people.Authorize(ctx, a, people.ActDeviceManage, people.Target{SchoolID: schoolID}); err != nil {
		return err
	}
	if !to.After(from) {
		return &people.FieldError{Field: "to", Code: "bad_dates", Message: "a loan ends after it starts"}
	}
	id := make([]byte, 6)
	_, _ = rand.Read(id)
	return r.db.Tx(ctx, func(q store.Q) error {
		if _, err := q.Exec(ctx, `UPDATE loans SET returned_at = ? WHERE device_id = ? AND returned_at = 0`, r.ms(), deviceID); err != nil {
			return err
		}
		if _, err := q.Exec(ctx, `INSERT INTO loans (id, device_id, school_id, starts_on, ends_on, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, "loan-"+hex.EncodeToString(id), deviceID, schoolID, from.UnixMilli(), to.UnixMilli(), a.ID, r.ms()); err != nil {
			return err
		}
		// A new school: the old classroom and pupil no longer apply.
		_, err := q.Exec(ctx, `UPDATE devices SET school_id = ?, classroom_id = NULL, pupil_id = NULL WHERE id = ?`, schoolID, deviceID)
		return err
	})
}

// Place puts a lent device in a classroom of its school.
func (r *Registry) Place(ctx context.Context, a people.Actor, deviceID, classroomID string) error {
	d, err := r.get(ctx, deviceID)
	if err != nil {
		return err
	}
	if err := r.people.Authorize(ctx, a, people.ActDeviceManage, people.Target{LAID: d.LAID}); err != nil {
		return err
	}
	res, err := r.db.Q().Exec(ctx, `UPDATE devices SET classroom_id = ? WHERE id = ? AND school_id IS NOT NULL
		AND EXISTS (SELECT 1 FROM classrooms c WHERE c.id = ? AND c.school_id = devices.school_id)`, classroomID, deviceID, classroomID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return ErrWrongPlace
	}
	return nil
}

// Pair makes pupilID the one pupil who may join through a robot.
func (r *Registry) Pair(ctx context.Context, a people.Actor, deviceID, pupilID string) error {
	d, err := r.get(ctx, deviceID)
	if err != nil {
		return err
	}
	if err := r.people.Authorize(ctx, a, people.ActDeviceManage, people.Target{LAID: d.LAID}); err != nil {
		return err
	}
	if !SitsInASeat(d.Kind) {
		return ErrNotRobot
	}
	res, err := r.db.Q().Exec(ctx, `UPDATE devices SET pupil_id = ? WHERE id = ? AND school_id IS NOT NULL
		AND EXISTS (SELECT 1 FROM pupils p WHERE p.id = ? AND p.school_id = devices.school_id)`, pupilID, deviceID, pupilID)
	if err != nil {
		if store.IsUnique(err) {
			return &people.ConflictError{Field: "pupil_id", Message: "this pupil already has a robot"}
		}
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return ErrWrongPlace
	}
	return nil
}

// SetPresence records a device going online or offline, and why.
func (r *Registry) SetPresence(ctx context.Context, deviceID, presence, reason, firmware string) error {
	q := `UPDATE devices SET presence = ?, presence_reason = ?, last_seen = ? WHERE id = ?`
	args := []any{presence, reason, r.ms(), deviceID}
	if firmware != "" {
		q = `UPDATE devices SET presence = ?, presence_reason = ?, last_seen = ?, firmware = ? WHERE id = ?`
		args = []any{presence, reason, r.ms(), firmware, deviceID}
	}
	_, err := r.db.Q().Exec(ctx, q, args...)
	return err
}

// Telemetry is one heartbeat's readings.
// Battery, temperature and Wi-Fi signal are nil when the device cannot
// know them (a browser without the Battery Status API, a robot on mains).
type Telemetry struct {
	At           time.Time `json:"at"`
	Battery      *int      `json:"battery"`
	Charging     bool      `json:"charging"`
	TemperatureC *float64  `json:"temperature_c"`
	WifiDBm      *int      `json:"wifi_dbm"`
	UptimeS      int64     `json:"uptime_s"`
	Asleep       bool      `json:"asleep"`
	// How it is connected and the camera and microphone in use, as the
	// device names them ("" when it does not say).
	Network    string `json:"network,omitempty"`
	Camera     string `json:"camera,omitempty"`
	Microphone string `json:"microphone,omitempty"`
}

// RecordTelemetry keeps a heartbeat and marks the device seen.
func (r *Registry) RecordTelemetry(ctx context.Context, deviceID string, t Telemetry) error {
	return r.db.Tx(ctx, func(q store.Q) error {
		if _, err := q.Exec(ctx, `INSERT INTO telemetry (device_id, at, battery, charging, temperature_c, wifi_dbm, uptime_s, asleep,
			network, camera, microphone) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (device_id, at) DO NOTHING`,
			deviceID, t.At.UnixMilli(), t.Battery, t.Charging, t.TemperatureC, t.WifiDBm, t.UptimeS, t.Asleep,
			t.Network, t.Camera, t.Microphone); err != nil {
			return err
		}
		_, err := q.Exec(ctx, `UPDATE devices SET last_seen = ? WHERE id = ?`, t.At.UnixMilli(), deviceID)
		return err
	})
}

// PruneTelemetry deletes telemetry older than keep.
func (r *Registry) PruneTelemetry(ctx context.Context, keep time.Duration) (int64, error) {
	res, err := r.db.Q().Exec(ctx, `DELETE FROM telemetry WHERE at < ?`, r.now().Add(-keep).UnixMilli())
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// Loan is one lending of a device to a school.
type Loan struct {
	ID         string    `json:"id"`
	SchoolID   string    `json:"school_id"`
	StartsOn   time.Time `json:"starts_on"`
	EndsOn     time.Time `json:"ends_on"`
	ReturnedAt time.Time `json:"returned_at,omitempty"`
	CreatedBy  string    `json:"created_by"`
}

// Loans is a device's loan history, newest first.
func (r *Registry) Loans(ctx context.Context, a people.Actor, deviceID string) ([]Loan, error) {
	d, err := r.get(ctx, deviceID)
	if err != nil {
		return nil, err
	}
	if err := r.people.Authorize(ctx, a, people.ActDeviceManage, people.Target{LAID: d.LAID}); err != nil {
		return nil, err
	}
	rows, err := r.db.Q().Query(ctx, `SELECT id, school_id, starts_on, ends_on, returned_at, created_by FROM loans
		WHERE device_id = ? ORDER BY (returned_at = 0) DESC, starts_on DESC, created_at DESC, id`, deviceID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Loan{}
	for rows.Next() {
		var l Loan
		var from, to, ret int64
		if err := rows.Scan(&l.ID, &l.SchoolID, &from, &to, &ret, &l.CreatedBy); err != nil {
			return nil, err
		}
		l.StartsOn, l.EndsOn = time.UnixMilli(from).UTC(), time.UnixMilli(to).UTC()
		if ret != 0 {
			l.ReturnedAt = time.UnixMilli(ret).UTC()
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// SitsInASeat says whether a kind of device takes an absent pupil's seat:
// a robot, or a classroom station (a tablet or laptop running /station)
// in its place. Either is paired with one pupil and is the other end of
// that pupil's link.
func SitsInASeat(kind string) bool { return kind == KindRobot || kind == KindStation }
