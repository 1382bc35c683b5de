package engagement

import (
	"context"
	"time"

	"seatlink/internal/store"
	"seatlink/people"
)

// Reports computes pupils' measures from the stored timetables, registers
// and engagement events.
type Reports struct {
	db         *store.DB
	people     *people.Store
	timetables *Timetables
	// Share is the engaged-session bar (default 50 %).
	Share float64
}

// NewReports returns the reports service.
func NewReports(db *store.DB, ps *people.Store) *Reports {
	return &Reports{db: db, people: ps, timetables: NewTimetables(db, ps), Share: DefaultEngagedShare}
}

// Week is one pupil's week.
type Week struct {
	PupilID string `json:"pupil_id"`
	Monday  string `json:"monday"`
	Measures
}

// PupilWeek returns a pupil's measures for the school week (Monday to
// Friday, in the school's time zone) that contains day. The view is
// checked and, for staff, audited like any view of the pupil's records.
func (r *Reports) PupilWeek(ctx context.Context, a people.Actor, pupilID string, day time.Time) (Week, error) {
	p, err := r.people.GetPupil(ctx, a, pupilID)
	if err != nil {
		return Week{}, err
	}
	var tz string
	if err := r.db.Q().QueryRow(ctx, `SELECT timezone FROM schools WHERE id = ?`, p.SchoolID).Scan(&tz); err != nil {
		return Week{}, err
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		loc = time.UTC
	}
	y, m, d := day.In(loc).Date()
	noon := time.Date(y, m, d, 12, 0, 0, 0, loc)
	monday := noon.AddDate(0, 0, -((int(noon.Weekday()) + 6) % 7))
	marks := map[string]string{}
	rows, err := r.db.Q().Query(ctx, `SELECT day, session, code FROM marks WHERE pupil_id = ? AND day >= ? AND day <= ?`,
		pupilID, monday.Format(time.DateOnly), monday.AddDate(0, 0, 4).Format(time.DateOnly))
	if err != nil {
		return Week{}, err
	}
	for rows.Next() {
		var dd, s, c string
		if err := rows.Scan(&dd, &s, &c); err != nil {
			rows.Close()
			return Week{}, err
		}
		marks[dd+" "+s] = c
	}
	rows.Close()
	var sessions []Session
	for i := 0; i < 5; i++ {
		date := monday.AddDate(0, 0, i)
		slots, err := r.timetables.Day(ctx, p.SchoolID, p.ClassroomID, date)
		if err != nil {
			return Week{}, err
		}
		for _, half := range []string{"AM", "PM"} {
			s := Session{Day: date.Format(time.DateOnly), Session: half, Code: marks[date.Format(time.DateOnly)+" "+half]}
			for _, sl := range slots {
				if sl.Session == half {
					s.Slots = append(s.Slots, sl)
				}
			}
			if s.Code != "" || len(s.Slots) > 0 {
				sessions = append(sessions, s)
			}
		}
	}
	from := time.Date(monday.Year(), monday.Month(), monday.Day(), 0, 0, 0, 0, loc)
	events, err := Events(ctx, r.db, pupilID, from, from.AddDate(0, 0, 5))
	if err != nil {
		return Week{}, err
	}
	return Week{PupilID: pupilID, Monday: monday.Format(time.DateOnly), Measures: Measure(sessions, events, r.Share)}, nil
}
