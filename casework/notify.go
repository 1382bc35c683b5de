package casework

import (
	"context"
	"time"
)

// Notice tells one person that something new waits for them in Seatlink:
// what kind of thing and where, in their language, and never the thing
// itself (a message's words stay on the server, behind a sign-in).
type Notice struct {
	To   string // an e-mail address
	Lang string // the person's language ("" : the default)
	Kind string // NoticeFamilyMessage or NoticeStaffMessage
	Path string // the page to open, from the service's public URL (an opaque pupil id at most)
}

// The kinds of notice.
const (
	// NoticeFamilyMessage: school wrote to a family.
	NoticeFamilyMessage = "family_message"
	// NoticeStaffMessage: a family wrote to school.
	NoticeStaffMessage = "staff_message"
)

// Notifier delivers notices (by e-mail); Notify never blocks the caller.
type Notifier interface {
	Notify(Notice)
}

// tell notices the other side of a new message: a family's parents (those
// who have accepted their invitation) when staff write; the key adult, or
// with none the pupil's EWOs, when a parent writes. Never the writer.
func (s *Store) tell(ctx context.Context, m Message) {
	if s.notify == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	var query, kind, path string
	if m.AuthorKind == "staff" {
		query = `SELECT pa.id, pa.email, pa.lang FROM parents pa JOIN parent_pupils pp ON pp.parent_id = pa.id
			WHERE pp.pupil_id = ? AND pa.password_hash <> ''`
		kind, path = NoticeFamilyMessage, "/parent"
	} else {
		query = `SELECT st.id, st.email, st.lang FROM staff st WHERE NOT st.disabled AND (st.id IN (SELECT staff_id FROM key_adults WHERE pupil_id = ?)
			OR (NOT EXISTS (SELECT 1 FROM key_adults WHERE pupil_id = ?) AND st.id IN (SELECT staff_id FROM caseload WHERE pupil_id = ?)))`
		kind, path = NoticeStaffMessage, "/ewo#pupil="+m.PupilID
	}
	args := []any{m.PupilID}
	if kind == NoticeStaffMessage {
		args = []any{m.PupilID, m.PupilID, m.PupilID}
	}
	rows, err := s.db.Q().Query(ctx, query, args...)
	if err != nil {
		s.log.Warn("message notice: recipients", "pupil", m.PupilID, "err", err)
		return
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id, to, lang string
		if err := rows.Scan(&id, &to, &lang); err != nil {
			return
		}
		if id == m.AuthorID {
			continue
		}
		s.notify.Notify(Notice{To: to, Lang: lang, Kind: kind, Path: path})
		n++
	}
	s.log.Info("message notices queued", "message", m.ID, "pupil", m.PupilID, "notices", n)
}
