package signaling

// What a parent's page reads of their child: attendance and engagement
// this week and this term, as figures the page says in plain words. The
// same check as any view of the pupil (a parent's own children only, an
// EWO's caseload, a school's pupils), and audited like one.

import (
	"regexp"
	"strings"

	"github.com/gin-gonic/gin"

	"seatlink/engagement"
	"seatlink/people"
)

// PupilOverview is a pupil's week so far and term to date.
type PupilOverview struct {
	PupilID     string `json:"pupil_id"`
	DisplayName string `json:"display_name"`
	Through     string `json:"through"` // the last day counted (today, or the day asked for)
	// WeekMonday is the Monday of the school week that holds Through.
	WeekMonday string `json:"week_monday"`
	// Week counts the week's sessions that have ended.
	Week      engagement.Measures `json:"this_week"`
	Term      string              `json:"term"`
	TermStart string              `json:"term_start"`
	// TermToDate counts from the start of the term to Through.
	TermToDate engagement.Measures `json:"term_to_date"`
}

// pupilOverview answers GET /api/v1/pupils/:pupil/overview[?through=].
func (s *Server) pupilOverview(c *gin.Context, a people.Actor) (any, error) {
	rg, err := reportRange(c)
	if err != nil {
		return nil, err
	}
	rg.Weeks = 1
	h, err := s.deps.Reports.PupilHistory(c.Request.Context(), a, c.Param("pupil"), rg)
	if err != nil {
		return nil, err
	}
	out := PupilOverview{PupilID: h.Pupil.ID, DisplayName: h.Pupil.DisplayName, Through: h.Through,
		Term: h.Term, TermStart: h.TermStart, TermToDate: h.TermToDate}
	out.TermToDate.Sessions = nil
	if n := len(h.Weeks); n > 0 {
		out.WeekMonday = h.Weeks[n-1].Monday
		out.Week = h.Weeks[n-1].Measures
		out.Week.Sessions = nil
	}
	return out, nil
}

// unsafeInName are the characters a download's name does without.
var unsafeInName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// downloadName is a CSV file's name: seatlink-<what>-<from>-to-<to>.csv,
// what (a pupil number) reduced to letters, digits, dot, dash and
// underscore so that it is safe in a header and on any disk.
func downloadName(what, from, to string) string {
	what = strings.Trim(unsafeInName.ReplaceAllString(what, "_"), "_.")
	if what == "" {
		what = "pupil"
	}
	return "seatlink-" + what + "-" + from + "-to-" + to + ".csv"
}

// firstMonday is the first day of a history's weeks (its through if it
// has none).
func firstMonday(h engagement.PupilHistory) string {
	if len(h.Weeks) > 0 {
		return h.Weeks[0].Monday
	}
	return h.Through
}
