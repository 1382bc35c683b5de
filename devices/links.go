// Package devices holds Seatlink's classroom robots and pupils' home
// devices. For now it knows links: the pairing of one robot with one pupil,
// each side admitted by its own unguessable token.
package devices

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"sync"
)

// ErrUnknownToken is returned for a token that names no link (or a revoked one).
var ErrUnknownToken = errors.New("devices: unknown or revoked link token")

// Link is a robot–pupil pairing. The tokens are only known when the link
// is created; the registry keeps their hashes.
type Link struct {
	ID         string
	RobotToken string
	PupilToken string
}

// Links is an in-memory registry of links. Tokens are looked up by their
// SHA-256, so the map never holds a usable token and lookups do not compare
// secrets byte by byte.
type Links struct {
	mu     sync.RWMutex
	tokens map[[sha256.Size]byte]tokenEntry
}

type tokenEntry struct {
	link string
	role string
}

// NewLinks returns an empty registry.
func NewLinks() *Links {
	return &Links{tokens: make(map[[sha256.Size]byte]tokenEntry)}
}

// Create makes a new link with fresh tokens for its robot and pupil.
func (l *Links) Create() (Link, error) {
	id := make([]byte, 6)
	if _, err := rand.Read(id); err != nil {
		return Link{}, err
	}
	link := Link{ID: "l-" + hex.EncodeToString(id), RobotToken: newToken(), PupilToken: newToken()}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.tokens[sha256.Sum256([]byte(link.RobotToken))] = tokenEntry{link: link.ID, role: "robot"}
	l.tokens[sha256.Sum256([]byte(link.PupilToken))] = tokenEntry{link: link.ID, role: "pupil"}
	return link, nil
}

// newToken returns 256 random bits, URL-safe.
func newToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on Linux
	return base64.RawURLEncoding.EncodeToString(b)
}

// Resolve returns the link and role a token admits.
func (l *Links) Resolve(token string) (link, role string, err error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	e, ok := l.tokens[sha256.Sum256([]byte(token))]
	if !ok {
		return "", "", ErrUnknownToken
	}
	return e.link, e.role, nil
}

// Revoke forgets both tokens of a link.
func (l *Links) Revoke(linkID string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for h, e := range l.tokens {
		if e.link == linkID {
			delete(l.tokens, h)
		}
	}
}
