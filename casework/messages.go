package casework

import (
	"context"
	"sort"
	"time"

	"seatlink/internal/store"
	"seatlink/people"
)

// Message is one message in a pupil's thread between the family and
// school.
type Message struct {
	ID         string    `json:"id"`
	PupilID    string    `json:"pupil_id"`
	AuthorKind string    `json:"author_kind"` // "staff" or "parent"
	AuthorID   string    `json:"author_id"`
	Author     string    `json:"author"` // the author's name
	Mine       bool      `json:"mine"`
	Body       string    `json:"body"`
	At         time.Time `json:"at"`
}

// Thread is a pupil's messages, oldest first, and how far the reader had
// read before this view.
type Thread struct {
	PupilID  string    `json:"pupil_id"`
	Messages []Message `json:"messages"`
	ReadTo   time.Time `json:"read_to"`
	Unread   int       `json:"unread"`
}

const maxMessage = 4000

// Post adds a message to the pupil's thread, from a parent of the pupil
// or from staff who may write in it, and tells the other side.
func (s *Store) Post(ctx context.Context, a people.Actor, pupilID, body string) (Message, error) {
	if err := s.people.Authorize(ctx, a, people.ActMessageWrite, people.Target{PupilID: pupilID}); err != nil {
		return Message{}, err
	}
	body, err := checkText("body", body, 1, maxMessage)
	if err != nil {
		return Message{}, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	m := Message{ID: store.NewID("msg-"), PupilID: pupilID, AuthorKind: a.Kind, AuthorID: a.ID, Author: a.Name, Mine: true,
		Body: body, At: now}
	err = s.db.Tx(ctx, func(q store.Q) error {
		if _, err := q.Exec(ctx, `INSERT INTO messages (id, pupil_id, author_kind, author_id, body, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			m.ID, pupilID, a.Kind, a.ID, body, now.UnixMilli()); err != nil {
			return err
		}
		// Writing is reading: the writer has seen the thread to here.
		if err := markRead(ctx, q, a, pupilID, now.UnixMilli()); err != nil {
			return err
		}
		return s.people.AuditPupil(ctx, q, a, people.ActMessageWrite, "message", m.ID, pupilID, "")
	})
	if err != nil {
		return Message{}, err
	}
	s.tell(ctx, m)
	return m, nil
}

// Read is the pupil's thread for someone who may read it; reading it
// marks it read for them, and a member of staff's reading is audited.
func (s *Store) Read(ctx context.Context, a people.Actor, pupilID string) (Thread, error) {
	if err := s.people.Authorize(ctx, a, people.ActMessageRead, people.Target{PupilID: pupilID}); err != nil {
		return Thread{}, err
	}
	th := Thread{PupilID: pupilID, Messages: []Message{}}
	var readTo int64
	err := s.db.Q().QueryRow(ctx, `SELECT COALESCE(MAX(read_at), 0) FROM message_reads WHERE pupil_id = ? AND reader_kind = ? AND reader_id = ?`,
		pupilID, a.Kind, a.ID).Scan(&readTo)
	if err != nil {
		return Thread{}, err
	}
	rows, err := s.db.Q().Query(ctx, `SELECT m.id, m.author_kind, m.author_id, COALESCE(st.name, pa.name, ''), m.body, m.created_at
		FROM messages m LEFT JOIN staff st ON m.author_kind = 'staff' AND st.id = m.author_id
		LEFT JOIN parents pa ON m.author_kind = 'parent' AND pa.id = m.author_id
		WHERE m.pupil_id = ? ORDER BY m.created_at, m.id`, pupilID)
	if err != nil {
		return Thread{}, err
	}
	var last int64
	for rows.Next() {
		var m Message
		var at int64
		if err := rows.Scan(&m.ID, &m.AuthorKind, &m.AuthorID, &m.Author, &m.Body, &at); err != nil {
			rows.Close()
			return Thread{}, err
		}
		m.PupilID, m.At = pupilID, time.UnixMilli(at).UTC()
		m.Mine = m.AuthorKind == a.Kind && m.AuthorID == a.ID
		if at > readTo && !m.Mine {
			th.Unread++
		}
		if at > last {
			last = at
		}
		th.Messages = append(th.Messages, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Thread{}, err
	}
	th.ReadTo = time.UnixMilli(readTo).UTC()
	err = s.db.Tx(ctx, func(q store.Q) error {
		if last > readTo {
			if err := markRead(ctx, q, a, pupilID, last); err != nil {
				return err
			}
		}
		if a.Kind == "staff" {
			return s.people.AuditPupil(ctx, q, a, people.ActMessageRead, "pupil", pupilID, pupilID, "")
		}
		return nil
	})
	return th, err
}

// Unread counts, per pupil of pupilIDs the reader may read, the messages
// from others they have not read.
func (s *Store) Unread(ctx context.Context, a people.Actor, pupilIDs []string) (map[string]int, error) {
	out := map[string]int{}
	for _, id := range pupilIDs {
		if s.people.Authorize(ctx, a, people.ActMessageRead, people.Target{PupilID: id}) != nil {
			continue
		}
		var n int
		err := s.db.Q().QueryRow(ctx, `SELECT COUNT(*) FROM messages m WHERE m.pupil_id = ?
			AND NOT (m.author_kind = ? AND m.author_id = ?)
			AND m.created_at > COALESCE((SELECT read_at FROM message_reads r WHERE r.pupil_id = m.pupil_id
				AND r.reader_kind = ? AND r.reader_id = ?), 0)`, id, a.Kind, a.ID, a.Kind, a.ID).Scan(&n)
		if err != nil {
			return nil, err
		}
		out[id] = n
	}
	return out, nil
}

func markRead(ctx context.Context, q store.Q, a people.Actor, pupilID string, at int64) error {
	res, err := q.Exec(ctx, `UPDATE message_reads SET read_at = ? WHERE pupil_id = ? AND reader_kind = ? AND reader_id = ? AND read_at < ?`,
		at, pupilID, a.Kind, a.ID, at)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n > 0 {
		return nil
	}
	var exists bool
	err = q.QueryRow(ctx, `SELECT COUNT(*) > 0 FROM message_reads WHERE pupil_id = ? AND reader_kind = ? AND reader_id = ?`,
		pupilID, a.Kind, a.ID).Scan(&exists)
	if err != nil || exists {
		return err
	}
	_, err = q.Exec(ctx, `INSERT INTO message_reads (pupil_id, reader_kind, reader_id, read_at) VALUES (?, ?, ?, ?)`,
		pupilID, a.Kind, a.ID, at)
	return err
}

// UnreadThread is a pupil's thread with how many messages in it the
// reader has not read.
type UnreadThread struct {
	PupilID string `json:"pupil_id"`
	Pupil   string `json:"pupil"` // the pupil's display name
	Unread  int    `json:"unread"`
}

// UnreadThreads are the threads the reader follows, those with messages
// they have not read first: a member of staff's as key adult (and an
// EWO's caseload), a parent's children's.
func (s *Store) UnreadThreads(ctx context.Context, a people.Actor) ([]UnreadThread, error) {
	var q string
	var args []any
	switch a.Kind {
	case "staff":
		q = `SELECT p.id, p.display_name FROM pupils p WHERE p.id IN (SELECT pupil_id FROM key_adults WHERE staff_id = ?)
			OR (? = 'ewo' AND p.id IN (SELECT pupil_id FROM caseload WHERE staff_id = ?)) ORDER BY p.display_name, p.id`
		args = []any{a.ID, string(a.Role), a.ID}
	case "parent":
		q = `SELECT p.id, p.display_name FROM pupils p JOIN parent_pupils pp ON pp.pupil_id = p.id WHERE pp.parent_id = ?
			ORDER BY p.display_name, p.id`
		args = []any{a.ID}
	default:
		return nil, people.ErrForbidden
	}
	rows, err := s.db.Q().Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	var out []UnreadThread
	var ids []string
	for rows.Next() {
		var u UnreadThread
		if err := rows.Scan(&u.PupilID, &u.Pupil); err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, u)
		ids = append(ids, u.PupilID)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	counts, err := s.Unread(ctx, a, ids)
	if err != nil {
		return nil, err
	}
	kept := []UnreadThread{}
	for _, u := range out {
		n, ok := counts[u.PupilID]
		if !ok {
			continue // not readable after all (the permissions table decides)
		}
		u.Unread = n
		kept = append(kept, u)
	}
	sort.SliceStable(kept, func(i, j int) bool { return kept[i].Unread > 0 && kept[j].Unread == 0 })
	return kept, nil
}
