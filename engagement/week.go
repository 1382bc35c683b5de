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
	cal, err := loadCalendar(ctx, r.db.Q(), p.SchoolID)
	if err != nil {
		return Week{}, err
	}
	hs, err := r.histories(ctx, []people.Pupil{p}, Range{Through: cal.monday(day).AddDate(0, 0, 4), Weeks: 1}, true)
	if err != nil {
		return Week{}, err
	}
	return hs[0].Weeks[0], nil
}
