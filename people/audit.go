package people

import (
	"context"
	"time"
)

// AuditEntry is one line of the audit log.
type AuditEntry struct {
	ID         string    `json:"id"`
	At         time.Time `json:"at"`
	ActorKind  string    `json:"actor_kind"`
	ActorID    string    `json:"actor_id"`
	Action     string    `json:"action"`
	TargetKind string    `json:"target_kind"`
	TargetID   string    `json:"target_id"`
	PupilID    string    `json:"pupil_id,omitempty"`
	Remote     string    `json:"remote,omitempty"`
	Detail     string    `json:"detail,omitempty"`
}

const auditCols = `id, at, actor_kind, actor_id, action, target_kind, target_id, pupil_id, remote, detail`

// ListAudit returns the newest entries of the admin's LA (at most limit,
// 1 to 1000), optionally only those about one pupil.
func (s *Store) ListAudit(ctx context.Context, a Actor, pupilID string, limit int) ([]AuditEntry, error) {
	if err := s.Authorize(ctx, a, ActAuditRead, Target{LAID: a.LAID}); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	query, args := `SELECT `+auditCols+` FROM audit_log WHERE la_id = ?`, []any{a.LAID}
	if pupilID != "" {
		query += ` AND pupil_id = ?`
		args = append(args, pupilID)
	}
	return s.queryAudit(ctx, query+` ORDER BY at DESC, id DESC LIMIT ?`, append(args, limit)...)
}

func (s *Store) auditFor(ctx context.Context, pupilID string) ([]AuditEntry, error) {
	return s.queryAudit(ctx, `SELECT `+auditCols+` FROM audit_log WHERE pupil_id = ? ORDER BY at, id`, pupilID)
}

func (s *Store) queryAudit(ctx context.Context, q string, args ...any) ([]AuditEntry, error) {
	rows, err := s.q().Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []AuditEntry{}
	for rows.Next() {
		var e AuditEntry
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.ActorKind, &e.ActorID, &e.Action, &e.TargetKind, &e.TargetID, &e.PupilID,
			&e.Remote, &e.Detail); err != nil {
			return nil, err
		}
		e.At = time.UnixMilli(at).UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}
