// Package devices holds Seatlink's classroom robots and pupils' home
// devices. For now it knows links: a classroom robot paired with one pupil.
// The robot is admitted by its own unguessable token (stored hashed); the
// pupil by their session (package people).
package devices

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"time"

	"seatlink/internal/store"
)

// ErrUnknownToken is returned for a robot token that names no link.
var ErrUnknownToken = errors.New("devices: unknown or revoked robot token")

// ErrNoLink is returned when a pupil has no robot link.
var ErrNoLink = errors.New("devices: the pupil has no robot link")

// Link is a robot–pupil pairing. RobotToken is only known at creation.
type Link struct {
	ID         string
	PupilID    string
	RobotToken string
}

// Links is the registry of links in the database.
type Links struct {
	db *store.DB
}

// NewLinks returns the registry.
func NewLinks(db *store.DB) *Links { return &Links{db: db} }

func hashToken(t string) string {
	h := sha256.Sum256([]byte(t))
	return hex.EncodeToString(h[:])
}

// Create pairs a new robot with a pupil (replacing an earlier pairing of
// that pupil) and returns the robot's token.
func (l *Links) Create(ctx context.Context, pupilID string) (Link, error) {
	id := make([]byte, 6)
	tok := make([]byte, 32)
	if _, err := rand.Read(id); err != nil {
		return Link{}, err
	}
	_, _ = rand.Read(tok)
	link := Link{ID: "l-" + hex.EncodeToString(id), PupilID: pupilID, RobotToken: base64.RawURLEncoding.EncodeToString(tok)}
	err := l.db.Tx(ctx, func(q store.Q) error {
		if _, err := q.Exec(ctx, `DELETE FROM robot_links WHERE pupil_id = ?`, pupilID); err != nil {
			return err
		}
		_, err := q.Exec(ctx, `INSERT INTO robot_links (id, pupil_id, robot_token_hash, created_at) VALUES (?, ?, ?, ?)`,
			link.ID, pupilID, hashToken(link.RobotToken), time.Now().UnixMilli())
		return err
	})
	return link, err
}

// ResolveRobot returns the link a robot token admits.
func (l *Links) ResolveRobot(ctx context.Context, token string) (string, error) {
	if token == "" || len(token) > 128 {
		return "", ErrUnknownToken
	}
	var id string
	if err := l.db.Q().QueryRow(ctx, `SELECT id FROM robot_links WHERE robot_token_hash = ?`, hashToken(token)).Scan(&id); err != nil {
		return "", ErrUnknownToken
	}
	return id, nil
}

// ForPupil returns the pupil's link.
func (l *Links) ForPupil(ctx context.Context, pupilID string) (string, error) {
	var id string
	if err := l.db.Q().QueryRow(ctx, `SELECT id FROM robot_links WHERE pupil_id = ?`, pupilID).Scan(&id); err != nil {
		return "", ErrNoLink
	}
	return id, nil
}

// Revoke removes a link; its robot token stops working.
func (l *Links) Revoke(ctx context.Context, linkID string) error {
	_, err := l.db.Q().Exec(ctx, `DELETE FROM robot_links WHERE id = ?`, linkID)
	return err
}
