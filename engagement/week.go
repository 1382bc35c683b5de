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
	// Plans gives the caseload's plan column; nil leaves it empty.
	Plans PlanFlagger
	// KeyAdults gives the caseload's key adult column; nil leaves it
	// empty (no pupil flagged).
	KeyAdults KeyAdultNamer
	now       func() time.Time
}

// NewReports returns the reports service.
func NewReports(db *store.DB, ps *people.Store) *Reports {
	return &Reports{db: db, people: ps, timetables: NewTimetables(db, ps), Share: DefaultEngagedShare, now: time.Now}
}

// Week is one pupil's week.
type Week struct {
	PupilID string `json:"pupil_id"`
	Monday  string `json:"monday"`
	// Complete: every session of the week has ended.
	Complete bool `json:"complete"`
	// FullWeekSessions: the sessions of a whole school week on the
	// pupil's timetable (a part week's targets are pro-rated to it).
	FullWeekSessions int `json:"full_week_sessions"`
	// Cells are the week's row of the pupil page's grid (its CSV's text).
	Cells []string `json:"cells,omitempty"`
	Measures
}

// PupilWeek returns a pupil's measures for the school week (Monday to
// Friday, in the school's time zone) that contains day, counting only the
// sessions that have ended; a day after today is refused (ErrFuture). The
// view is checked and, for staff, audited like any view of the pupil's
// records.
func (r *Reports) PupilWeek(ctx context.Context, a people.Actor, pupilID string, day time.Time) (Week, error) {
	p, err := r.people.GetPupil(ctx, a, pupilID)
	if err != nil {
		return Week{}, err
	}
	cal, err := loadCalendar(ctx, r.db.Q(), p.SchoolID)
	if err != nil {
		return Week{}, err
	}
	now := r.now()
	if cal.noon(day).After(cal.noon(now)) {
		return Week{}, ErrFuture
	}
	through := cal.monday(day).AddDate(0, 0, 4)
	if through.After(cal.noon(now)) {
		through = now
	}
	hs, err := r.Histories(ctx, []people.Pupil{p}, Range{Through: through, Weeks: 1, Now: now}, true)
	if err != nil {
		return Week{}, err
	}
	return hs[0].Weeks[0], nil
}
