package engagement

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"seatlink/internal/store"
	"seatlink/internal/store/storetest"
)

func TestRecorderStoresEventsInOrder(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		r := NewRecorder(db, 16, slog.New(slog.NewTextHandler(io.Discard, nil)))
		defer r.Close()
		for i, k := range []string{SessionUp, MediaStarted, MediaAlive, VoiceStart, VoiceStop, MediaStopped, SessionDown} {
			r.Record(Event{At: at(i * 10), PupilID: "pu-1", LinkID: "dev-1", Kind: k})
		}
		r.Record(Event{At: at(5), PupilID: "pu-2", LinkID: "dev-2", Kind: MediaStarted})
		r.Flush()
		got, err := Events(context.Background(), db, "pu-1", at(0), at(3600))
		if err != nil || len(got) != 7 || got[0].Kind != SessionUp || got[6].Kind != SessionDown || !got[3].At.Equal(at(30)) {
			t.Fatalf("events %+v %v", got, err)
		}
		if total := Total(Connected(got)); total != 40*time.Second {
			t.Fatalf("connected %s, want 40s (10 s to 50 s)", total)
		}
	})
}

func TestRecorderNeverBlocks(t *testing.T) {
	db := storetest.SQLite(t)
	r := NewRecorder(db, 4, slog.New(slog.NewTextHandler(io.Discard, nil)))
	defer r.Close()
	start := time.Now()
	for i := 0; i < 10000; i++ {
		r.Record(Event{At: at(i), PupilID: "p", LinkID: "l", Kind: MediaAlive})
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("recording 10000 events took %s: the caller waited for the database", el)
	}
	r.Flush()
	got, _ := Events(context.Background(), db, "p", at(0), at(20000))
	if int64(len(got))+r.Dropped() != 10000 {
		t.Fatalf("%d stored + %d dropped != 10000", len(got), r.Dropped())
	}
}
