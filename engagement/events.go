// Package engagement turns evidence from the media and the devices into
// an education measure beside the school's attendance marks: engagement
// events (append-only), the intervals derived from them, and, later,
// timetables, registers and the weekly measures.
package engagement

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"seatlink/internal/store"
)

// Event kinds.
const (
	SessionUp     = "session_up"    // the pupil's media session started
	SessionDown   = "session_down"  // and ended
	MediaStarted  = "media_started" // classroom media began reaching the pupil
	MediaStopped  = "media_stopped" // and stopped
	MediaAlive    = "media_alive"   // still reaching the pupil (evidence every few seconds)
	VoiceStart    = "voice_start"   // the pupil began speaking (RFC 6464 audio level)
	VoiceStop     = "voice_stop"    // and stopped
	HandRaised    = "hand_raised"   // via the robot
	HandLowered   = "hand_lowered"
	HeadTurn      = "head_turn"
	Chat          = "chat"
	RobotAsleep   = "robot_asleep"
	RobotAwake    = "robot_awake"
	ServerStarted = "server_started" // closes nothing by itself; marks a restart in the log
)

// Event is one piece of evidence about a pupil.
type Event struct {
	At      time.Time
	PupilID string
	LinkID  string
	Kind    string
	Value   float64
}

// ErasePupil removes a pupil's engagement evidence; people.ErasePupil runs
// it (an erase hook) inside the erasure's transaction.
func ErasePupil(ctx context.Context, q store.Q, pupilID string) error {
	_, err := q.Exec(ctx, `DELETE FROM engagement_events WHERE pupil_id = ?`, pupilID)
	return err
}

// Recorder stores events append-only, off the caller's goroutine: Record
// never blocks (the media forwarding path calls it), and a writer
// goroutine inserts queued events in batches.
type Recorder struct {
	db      *store.DB
	log     *slog.Logger
	queue   chan Event
	dropped atomic.Int64
	done    chan struct{}
	once    sync.Once
	flushed chan chan struct{}

	mu   sync.Mutex
	gone map[string]time.Time // erased pupils: their late events are not stored
}

// forgetFor is how long an erased pupil's late events are refused: far
// longer than any event can wait in the queue.
const forgetFor = time.Hour

// Forget stops storing events for an erased pupil: events already queued
// or arriving late (a session ending after its pupil was erased) are
// dropped. The erasure calls it inside its transaction.
func (r *Recorder) Forget(pupilID string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	if r.gone == nil {
		r.gone = map[string]time.Time{}
	}
	for id, at := range r.gone {
		if now.Sub(at) > forgetFor {
			delete(r.gone, id)
		}
	}
	r.gone[pupilID] = now
}

func (r *Recorder) forgotten(pupilID string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.gone[pupilID]
	return ok
}

// NewRecorder starts a recorder with a queue of queueSize events.
func NewRecorder(db *store.DB, queueSize int, log *slog.Logger) *Recorder {
	if queueSize <= 0 {
		queueSize = 4096
	}
	if log == nil {
		log = slog.Default()
	}
	r := &Recorder{db: db, log: log, queue: make(chan Event, queueSize), done: make(chan struct{}),
		flushed: make(chan chan struct{})}
	go r.run()
	return r
}

// Record queues an event; if the queue is full the event is dropped and
// counted (the media must never wait for the database).
func (r *Recorder) Record(e Event) {
	if e.At.IsZero() {
		e.At = time.Now()
	}
	select {
	case r.queue <- e:
	default:
		if r.dropped.Add(1)%100 == 1 {
			r.log.Warn("engagement queue full; events dropped", "dropped", r.dropped.Load())
		}
	}
}

// Dropped counts events lost to a full queue.
func (r *Recorder) Dropped() int64 { return r.dropped.Load() }

// Flush waits until every event queued before the call has been written,
// or tried once if the store is down (then they stay pending).
func (r *Recorder) Flush() {
	ch := make(chan struct{})
	select {
	case r.flushed <- ch:
		<-ch
	case <-r.done:
	}
}

// Close stores what is queued and stops.
func (r *Recorder) Close() {
	r.once.Do(func() {
		r.Flush()
		close(r.done)
	})
}

// maxPending bounds the events kept for a store that is down: at 100
// live pupils an outage of a minute holds a few thousand; past the bound
// the oldest are dropped and counted.
const maxPending = 100_000

func (r *Recorder) run() {
	batch := make([]Event, 0, 256)
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	var retryAt time.Time
	backoff := time.Second
	// write stores what is pending in chunks; if the store is down the
	// events are kept (bounded) and tried again with a growing pause, so
	// an outage loses none of them.
	write := func(force bool) {
		if len(batch) == 0 || (!force && time.Now().Before(retryAt)) {
			return
		}
		for len(batch) > 0 {
			n := min(len(batch), 1000)
			if err := r.insert(batch[:n]); err != nil {
				if retryAt.IsZero() || backoff >= 8*time.Second {
					r.log.Warn("engagement events not stored yet; kept to retry", "pending", len(batch), "err", err)
				}
				retryAt = time.Now().Add(backoff)
				backoff = min(2*backoff, 10*time.Second)
				if over := len(batch) - maxPending; over > 0 {
					r.dropped.Add(int64(over))
					r.log.Error("engagement events dropped: the store has been down too long", "dropped", over)
					batch = append(batch[:0], batch[over:]...)
				}
				return
			}
			batch = append(batch[:0], batch[n:]...)
		}
		if !retryAt.IsZero() {
			r.log.Info("engagement events stored after the store came back")
		}
		retryAt, backoff = time.Time{}, time.Second
	}
	for {
		select {
		case e := <-r.queue:
			batch = append(batch, e)
			if len(batch) >= 256 {
				write(false)
			}
		case <-tick.C:
			write(false)
		case ch := <-r.flushed:
			for drained := false; !drained; {
				select {
				case e := <-r.queue:
					batch = append(batch, e)
				default:
					drained = true
				}
			}
			write(true)
			close(ch)
		case <-r.done:
			if len(batch) > 0 {
				r.log.Error("engagement events not stored at shutdown: the store is down", "events", len(batch))
			}
			return
		}
	}
}

func (r *Recorder) insert(events []Event) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return r.db.Tx(ctx, func(q store.Q) error {
		written := map[string]bool{}
		for _, e := range events {
			if r.forgotten(e.PupilID) {
				continue
			}
			if _, err := q.Exec(ctx, `INSERT INTO engagement_events (id, at, pupil_id, link_id, kind, value) VALUES (?, ?, ?, ?, ?, ?)`,
				store.NewID("ev-"), e.At.UnixMilli(), e.PupilID, e.LinkID, e.Kind, e.Value); err != nil {
				return err
			}
			written[e.PupilID] = true
		}
		// A pupil erased while this batch was written: take their rows
		// back out before it commits.
		for id := range written {
			if r.forgotten(id) {
				if err := ErasePupil(ctx, q, id); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// Events returns a pupil's events in [from, to), in time order.
func Events(ctx context.Context, db *store.DB, pupilID string, from, to time.Time) ([]Event, error) {
	rows, err := db.Q().Query(ctx, `SELECT at, pupil_id, link_id, kind, value FROM engagement_events
		WHERE pupil_id = ? AND at >= ? AND at < ? ORDER BY at, id`, pupilID, from.UnixMilli(), to.UnixMilli())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		var at int64
		if err := rows.Scan(&at, &e.PupilID, &e.LinkID, &e.Kind, &e.Value); err != nil {
			return nil, err
		}
		e.At = time.UnixMilli(at).UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}
