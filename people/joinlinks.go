package people

import (
	"context"
	"crypto/rand"
	"strings"
	"time"

	"seatlink/internal/store"
)

// JoinLinkInfo describes a pupil's join link (never its secrets).
type JoinLinkInfo struct {
	ID        string    `json:"id"`
	PupilID   string    `json:"pupil_id"`
	ExpiresAt time.Time `json:"expires_at"`
	Revoked   bool      `json:"revoked"`
	CodeUsed  bool      `json:"code_used"`
	CreatedBy string    `json:"created_by"`
}

// IssuedJoinLink is a new join link with its secrets, shown once.
type IssuedJoinLink struct {
	JoinLinkInfo
	// Token goes in the join URL's fragment.
	Token string `json:"token"`
	// Code is short, for typing on a tablet; it works once and for at
	// most CodeLifetime.
	Code string `json:"code"`
}

// Join link lifetimes.
const (
	DefaultJoinLinkLifetime = 7 * 24 * time.Hour
	MaxJoinLinkLifetime     = 30 * 24 * time.Hour
	CodeLifetime            = time.Hour
)

// codeAlphabet has no 0/O, 1/I/L: codes are read aloud and typed by children.
const codeAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"

func newCode() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	out := make([]byte, 0, 9)
	for i, c := range b {
		if i == 4 {
			out = append(out, '-')
		}
		out = append(out, codeAlphabet[int(c)%len(codeAlphabet)])
	}
	return string(out)
}

// NormalizeCode upper-cases a typed code and drops spaces and dashes.
func NormalizeCode(code string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(code) {
		if r != ' ' && r != '-' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// IssueJoinLink gives a pupil a new join link and code. lifetime 0 means
// DefaultJoinLinkLifetime.
func (s *Store) IssueJoinLink(ctx context.Context, a Actor, pupilID string, lifetime time.Duration) (IssuedJoinLink, error) {
	if err := s.Authorize(ctx, a, ActJoinLinkIssue, Target{PupilID: pupilID}); err != nil {
		return IssuedJoinLink{}, err
	}
	if lifetime == 0 {
		lifetime = DefaultJoinLinkLifetime
	}
	if lifetime < 5*time.Minute || lifetime > MaxJoinLinkLifetime {
		return IssuedJoinLink{}, invalid("lifetime", "bad_lifetime", "a join link lasts 5 minutes to 30 days")
	}
	token, hash := newSecret()
	code := newCode()
	l := IssuedJoinLink{JoinLinkInfo: JoinLinkInfo{ID: newID("jl"), PupilID: pupilID,
		ExpiresAt: s.cfg.Now().Add(lifetime).Truncate(time.Millisecond), CreatedBy: a.ID}, Token: token, Code: code}
	err := s.db.Tx(ctx, func(q store.Q) error {
		if _, err := q.Exec(ctx, `INSERT INTO join_links (id, pupil_id, token_hash, code_hash, expires_at, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, l.ID, pupilID, hash, hashSecret(NormalizeCode(code)), l.ExpiresAt.UnixMilli(),
			a.ID, s.now()); err != nil {
			return err
		}
		return s.audit(ctx, q, a, a.LAID, ActJoinLinkIssue, "join_link", l.ID, pupilID, "")
	})
	return l, err
}

// RedeemJoinToken signs a pupil's device in with the token of a join link
// that is neither expired nor revoked. The session remembers the device.
func (s *Store) RedeemJoinToken(ctx context.Context, token string) (Session, Actor, error) {
	if token == "" || len(token) > 128 {
		return Session{}, Actor{}, ErrExpired
	}
	return s.redeem(ctx, `token_hash = ?`, hashSecret(token), false)
}

// CheckJoinToken says whose a join link token is, if it is neither expired
// nor revoked, without signing anything in: a device that joins the class
// with the token itself (the robot's pupil agent, a test client) holds no
// session row, and its right is checked against the link each time.
func (s *Store) CheckJoinToken(ctx context.Context, token string) (Actor, error) {
	if token == "" || len(token) > 128 {
		return Actor{}, ErrExpired
	}
	var pupil string
	var exp, revoked int64
	if err := s.q().QueryRow(ctx, `SELECT pupil_id, expires_at, revoked_at FROM join_links WHERE token_hash = ?`, hashSecret(token)).
		Scan(&pupil, &exp, &revoked); err != nil {
		return Actor{}, ErrExpired
	}
	if exp <= s.now() || revoked != 0 {
		return Actor{}, ErrExpired
	}
	return s.actor(ctx, "pupil", pupil)
}

// SweepSessions deletes expired sessions (a remembered device that never
// came back, a staff sign-in from last week).
func (s *Store) SweepSessions(ctx context.Context) (int64, error) {
	res, err := s.q().Exec(ctx, `DELETE FROM sessions WHERE expires_at <= ?`, s.now())
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// RedeemJoinCode is RedeemJoinToken for the short code, which works once
// and only within CodeLifetime of issue.
func (s *Store) RedeemJoinCode(ctx context.Context, code string) (Session, Actor, error) {
	code = NormalizeCode(code)
	if len(code) != 8 {
		return Session{}, Actor{}, ErrExpired
	}
	return s.redeem(ctx, `code_hash = ?`, hashSecret(code), true)
}

func (s *Store) redeem(ctx context.Context, where, hash string, isCode bool) (Session, Actor, error) {
	var sess Session
	err := s.db.Tx(ctx, func(q store.Q) error {
		var id, pupil string
		var exp, revoked, created int64
		var used bool
		if err := q.QueryRow(ctx, `SELECT id, pupil_id, expires_at, revoked_at, code_used, created_at FROM join_links WHERE `+where, hash).
			Scan(&id, &pupil, &exp, &revoked, &used, &created); err != nil {
			return ErrExpired
		}
		now := s.now()
		if exp <= now || revoked != 0 {
			return ErrExpired
		}
		if isCode {
			if used || created+CodeLifetime.Milliseconds() <= now {
				return ErrExpired
			}
			// The compare-and-set makes a code work once even when two
			// devices race to use it.
			res, err := q.Exec(ctx, `UPDATE join_links SET code_used = TRUE WHERE id = ? AND code_used = FALSE`, id)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n != 1 {
				return ErrExpired
			}
		}
		life := min(s.cfg.PupilSession, time.Duration(exp-now)*time.Millisecond)
		var err error
		sess, err = s.newSession(ctx, q, "pupil", pupil, id, life)
		return err
	})
	if err != nil {
		return Session{}, Actor{}, err
	}
	a, err := s.actor(ctx, "pupil", sess.SubjectID)
	return sess, a, err
}

// RevokeJoinLink stops a join link and signs out the devices it admitted.
func (s *Store) RevokeJoinLink(ctx context.Context, a Actor, linkID string) error {
	var pupil string
	if err := s.q().QueryRow(ctx, `SELECT pupil_id FROM join_links WHERE id = ?`, linkID).Scan(&pupil); err != nil {
		return NotFoundIfNoRows(err)
	}
	if err := s.Authorize(ctx, a, ActJoinLinkRevoke, Target{PupilID: pupil}); err != nil {
		return err
	}
	return s.db.Tx(ctx, func(q store.Q) error {
		if _, err := q.Exec(ctx, `UPDATE join_links SET revoked_at = ? WHERE id = ? AND revoked_at = 0`, s.now(), linkID); err != nil {
			return err
		}
		if _, err := q.Exec(ctx, `DELETE FROM sessions WHERE kind = 'pupil' AND origin = ?`, linkID); err != nil {
			return err
		}
		return s.audit(ctx, q, a, a.LAID, ActJoinLinkRevoke, "join_link", linkID, pupil, "")
	})
}

// ListJoinLinks lists a pupil's join links.
func (s *Store) ListJoinLinks(ctx context.Context, a Actor, pupilID string) ([]JoinLinkInfo, error) {
	if err := s.Authorize(ctx, a, ActJoinLinkList, Target{PupilID: pupilID}); err != nil {
		return nil, err
	}
	return s.joinLinks(ctx, pupilID)
}

func (s *Store) joinLinks(ctx context.Context, pupilID string) ([]JoinLinkInfo, error) {
	rows, err := s.q().Query(ctx, `SELECT id, pupil_id, expires_at, revoked_at, code_used, created_by FROM join_links
		WHERE pupil_id = ? ORDER BY created_at DESC`, pupilID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []JoinLinkInfo{}
	for rows.Next() {
		var l JoinLinkInfo
		var exp, revoked int64
		if err := rows.Scan(&l.ID, &l.PupilID, &exp, &revoked, &l.CodeUsed, &l.CreatedBy); err != nil {
			return nil, err
		}
		l.ExpiresAt, l.Revoked = time.UnixMilli(exp), revoked != 0
		out = append(out, l)
	}
	return out, rows.Err()
}
