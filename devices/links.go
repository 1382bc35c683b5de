// Package devices holds Seatlink's classroom robots, classroom stations
// and pupils' home devices: the registry (ownership, loans, classroom,
// pairing, enrollment and credentials), presence and telemetry, and the
// hub that sends teachers' commands to connected devices.
package devices

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"

	"seatlink/internal/store"
	"seatlink/people"
)

// ErrUnknownToken is returned for a credential that admits no robot.
var ErrUnknownToken = errors.New("devices: unknown or revoked robot credential")

// ErrNoLink is returned when a pupil has no robot paired.
var ErrNoLink = errors.New("devices: the pupil has no robot")

func hashToken(t string) string {
	h := sha256.Sum256([]byte(t))
	return hex.EncodeToString(h[:])
}

// Links finds the media link (a robot and its pupil) for each side. A
// link's id is its robot's device id.
type Links struct {
	db *store.DB
}

// NewLinks returns the link finder.
func NewLinks(db *store.DB) *Links { return &Links{db: db} }

// ResolveRobot returns the link of the robot (or classroom station) whose
// credential this is.
func (l *Links) ResolveRobot(ctx context.Context, credential string) (string, error) {
	if credential == "" || len(credential) > 128 {
		return "", ErrUnknownToken
	}
	var id string
	if err := l.db.Q().QueryRow(ctx, `SELECT id FROM devices WHERE credential_hash = ? AND kind IN ('robot', 'station') AND revoked_at = 0`,
		hashToken(credential)).Scan(&id); err != nil {
		return "", ErrUnknownToken
	}
	return id, nil
}

// ForPupil returns the link of the robot paired with the pupil: only that
// pupil may join through it.
func (l *Links) ForPupil(ctx context.Context, pupilID string) (string, error) {
	var id string
	if err := l.db.Q().QueryRow(ctx, `SELECT id FROM devices WHERE pupil_id = ? AND kind IN ('robot', 'station') AND revoked_at = 0`,
		pupilID).Scan(&id); err != nil {
		return "", ErrNoLink
	}
	return id, nil
}

// ProvisionRobot does in one step what an admin does on the admin page:
// create a robot, enroll it, lend it to the pupil's school for a year,
// place it in a classroom (optional) and pair it with the pupil. It
// returns the robot and its credential (for the demo and tests).
func (r *Registry) ProvisionRobot(ctx context.Context, a people.Actor, name, schoolID, classroomID, pupilID string) (Device, string, error) {
	d, code, err := r.Create(ctx, a, KindRobot, name)
	if err != nil {
		return Device{}, "", err
	}
	_, cred, err := r.Enroll(ctx, code)
	if err != nil {
		return Device{}, "", err
	}
	now := r.now()
	if err := r.Lend(ctx, a, d.ID, schoolID, now, now.AddDate(1, 0, 0)); err != nil {
		return Device{}, "", err
	}
	if classroomID != "" {
		if err := r.Place(ctx, a, d.ID, classroomID); err != nil {
			return Device{}, "", err
		}
	}
	if pupilID != "" {
		if err := r.Pair(ctx, a, d.ID, pupilID); err != nil {
			return Device{}, "", err
		}
	}
	d, err = r.get(ctx, d.ID)
	return d, cred, err
}
