package engagement

import (
	"context"
	"time"
)

// SchoolDay is the date of t in a school's time zone (YYYY-MM-DD) and
// whether it is a school day: inside a term and not one of its holidays
// (with no terms recorded, every date is).
func (tt *Timetables) SchoolDay(ctx context.Context, schoolID string, t time.Time) (string, bool, error) {
	c, err := loadCalendar(ctx, tt.db.Q(), schoolID)
	if err != nil {
		return "", false, err
	}
	day := c.noon(t).Format(time.DateOnly)
	return day, c.inTerm(day), nil
}
