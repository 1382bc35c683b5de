package signaling

// The staff console's Today view: for each of the teacher's classrooms,
// today's lessons from the school's timetable, the robot (or classroom
// station) in the room with its state now, and whether its pupil is in
// class through it now. The page reads this once (it names pupils, so it
// is audited) and follows the devices' live events for the states.

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"seatlink/casework"
	"seatlink/devices"
	"seatlink/engagement"
	"seatlink/people"
	"seatlink/plans"
)

// todayRoutes is the Today view's one route.
func (s *Server) todayRoutes() []apiRoute {
	return []apiRoute{
		{Method: "GET", Path: "/api/v1/today",
			Summary: "Today in your classrooms: each one's lessons, its robot's state (online, asleep, offline) and whether the pupil is in class now (audited; classroom= one of them, date= another day, like 2026-11-23)",
			Action:  people.ActDeviceList, Query: []string{"classroom", "date"}, handle: s.today},
		{Method: "GET", Path: "/api/v1/today/check-ins",
			Summary: "Check in on return: the pupils whose key adult you are who moved into a plan phase with more time in school, or were marked present after a run of absences, in the last 14 days, until you mark each done (audited)",
			Action:  people.ActCheckInRead, handle: s.returnPrompts},
		{Method: "POST", Path: "/api/v1/pupils/:pupil/return-check-ins",
			Summary: "Mark a check-in on return done, as the pupil's key adult (reason: the prompt's reason); it is not listed again (audited)",
			Action:  people.ActCheckInRead, Body: "ReturnCheckInInput", handle: s.returnDone},
	}
}

// returnFacts are what the check-in on return rules (casework) read from
// the register and the plans. Casework asks only about a pupil whose key
// adult the caller is (its permission check), so they are read here as
// the system: the key adult's prompt needs them even where the key adult
// may not otherwise read the plan (an EWO named for a pupil who is not on
// their caseload). The prompt shows only the pupil's name and the event.
type returnFacts struct{ s *Server }

func (f returnFacts) Today(ctx context.Context, schoolID string) (string, error) {
	if f.s.deps.Timetables == nil {
		return time.Now().UTC().Format(time.DateOnly), nil
	}
	day, _, err := f.s.deps.Timetables.SchoolDay(ctx, schoolID, time.Now())
	return day, err
}

func (f returnFacts) Plans(ctx context.Context, pupilID string) ([]casework.ReturnPlan, error) {
	if f.s.deps.Plans == nil {
		return nil, nil
	}
	pls, err := f.s.deps.Plans.ForPupil(ctx, people.System, pupilID)
	if err != nil {
		return nil, err
	}
	out := make([]casework.ReturnPlan, 0, len(pls))
	for _, pl := range pls {
		rp := casework.ReturnPlan{ID: pl.ID, Active: pl.Status == plans.Active}
		for _, ph := range pl.Phases {
			rp.Phases = append(rp.Phases, casework.ReturnPhase{ID: ph.ID, Name: ph.Name, StartsOn: ph.StartsOn, EndsOn: ph.EndsOn,
				SchoolSessions: ph.SchoolSessions})
		}
		out = append(out, rp)
	}
	return out, nil
}

func (f returnFacts) Marks(ctx context.Context, pupilID, from, to string) ([]casework.RegisterMark, error) {
	if f.s.deps.Registers == nil {
		return nil, nil
	}
	ms, err := f.s.deps.Registers.Marks(ctx, people.System, pupilID, from, to)
	if err != nil {
		return nil, err
	}
	out := make([]casework.RegisterMark, 0, len(ms))
	for _, m := range ms {
		code, ok := engagement.LookupCode(m.Code)
		if !ok {
			continue
		}
		kind := casework.MarkNotCounted
		switch {
		case code.Category == engagement.Present:
			kind = casework.MarkPresent
		case code.Absence():
			kind = casework.MarkAbsent
		}
		out = append(out, casework.RegisterMark{Day: m.Day, Session: m.Session, Kind: kind})
	}
	return out, nil
}

func (s *Server) returnPrompts(c *gin.Context, a people.Actor) (any, error) {
	prompts, err := s.deps.Casework.ReturnPrompts(c.Request.Context(), a, returnFacts{s})
	if err != nil {
		return nil, err
	}
	return gin.H{"check_ins": prompts}, nil
}

func (s *Server) returnDone(c *gin.Context, a people.Actor) (any, error) {
	var in struct {
		Reason string `json:"reason"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return nil, err
	}
	return s.deps.Casework.MarkReturnDone(c.Request.Context(), a, returnFacts{s}, c.Param("pupil"), in.Reason)
}

// todayLesson is one lesson of the day.
type todayLesson struct {
	From    time.Time `json:"from"`
	To      time.Time `json:"to"`
	Kind    string    `json:"kind"`
	Session string    `json:"session"`
	Name    string    `json:"name,omitempty"`
}

// todaySeat is a device in the pupil's seat and its pupil, as they are now.
type todaySeat struct {
	DeviceID   string `json:"device_id"`
	DeviceName string `json:"device_name"`
	Kind       string `json:"kind"`
	State      string `json:"state"` // online, asleep or offline
	PupilID    string `json:"pupil_id,omitempty"`
	PupilName  string `json:"pupil_name,omitempty"`
	PupilIn    bool   `json:"pupil_in"`
}

// todayClassroom is one classroom's day.
type todayClassroom struct {
	ID        string        `json:"id"`
	Name      string        `json:"name"`
	SchoolID  string        `json:"school_id"`
	Date      string        `json:"date"`       // in the school's time zone
	SchoolDay bool          `json:"school_day"` // in a term and not a holiday
	Lessons   []todayLesson `json:"lessons"`
	Seats     []todaySeat   `json:"seats"`
}

// seatState is a device's state in words the page keys on.
func seatState(st devices.Status) string {
	switch {
	case !st.Online:
		return "offline"
	case st.State.Asleep:
		return "asleep"
	}
	return "online"
}

func (s *Server) today(c *gin.Context, a people.Actor) (any, error) {
	ctx := c.Request.Context()
	at := time.Now()
	if d := c.Query("date"); d != "" {
		day, err := time.Parse(time.DateOnly, d)
		if err != nil || day.Year() < 2000 || day.Year() > 2100 {
			return nil, &people.FieldError{Field: "date", Code: "bad_date", Message: "date is like 2026-11-23"}
		}
		at = day.Add(12 * time.Hour)
	}
	want := c.Query("classroom")
	if len(want) > 100 || strings.ContainsAny(want, " /?#") {
		return nil, &people.FieldError{Field: "classroom", Code: "bad_classroom", Message: "classroom is a classroom's id"}
	}
	seats, err := s.deps.Devices.List(ctx, a)
	if err != nil {
		return nil, err
	}
	inRoom := map[string][]devices.Device{}
	for _, d := range seats {
		if devices.SitsInASeat(d.Kind) && !d.Revoked && d.ClassroomID != "" {
			inRoom[d.ClassroomID] = append(inRoom[d.ClassroomID], d)
		}
	}
	var rooms []people.Classroom
	switch {
	case want != "":
		if err := s.deps.People.Authorize(ctx, a, people.ActClassroomList, people.Target{ClassroomID: want}); err != nil {
			return nil, err
		}
		room, err := s.deps.People.LookupClassroom(ctx, want)
		if err != nil {
			return nil, err
		}
		rooms = []people.Classroom{room}
	default:
		// A teacher's own classrooms; with none given them (or for an
		// admin), the classrooms that have a robot in them.
		if rooms, err = s.deps.People.TeacherClassrooms(ctx, a); err != nil {
			return nil, err
		}
		if len(rooms) == 0 {
			for id := range inRoom {
				room, err := s.deps.People.LookupClassroom(ctx, id)
				if err != nil {
					continue
				}
				rooms = append(rooms, room)
			}
			sort.Slice(rooms, func(i, j int) bool { return rooms[i].Name < rooms[j].Name })
		}
	}
	out := make([]todayClassroom, 0, len(rooms))
	for _, room := range rooms {
		tc := todayClassroom{ID: room.ID, Name: room.Name, SchoolID: room.SchoolID, Lessons: []todayLesson{}, Seats: []todaySeat{}}
		if s.deps.Timetables != nil {
			day, school, err := s.deps.Timetables.SchoolDay(ctx, room.SchoolID, at)
			if err != nil {
				return nil, err
			}
			tc.Date, tc.SchoolDay = day, school
			if school {
				slots, err := s.deps.Timetables.Day(ctx, room.SchoolID, room.ID, at)
				if err != nil {
					return nil, err
				}
				for _, sl := range slots {
					if sl.Kind == engagement.KindLesson {
						tc.Lessons = append(tc.Lessons, todayLesson{From: sl.From, To: sl.To, Kind: sl.Kind, Session: sl.Session, Name: sl.Name})
					}
				}
			}
		}
		for _, d := range inRoom[room.ID] {
			seat := todaySeat{DeviceID: d.ID, DeviceName: d.Name, Kind: d.Kind, State: seatState(s.deps.Hub.Status(d.ID)), PupilID: d.PupilID}
			if st := s.deps.SFU.Stats(d.ID); st.Pupil != nil && st.Pupil.Connected {
				seat.PupilIn = true
			}
			if d.PupilID != "" {
				p, err := s.deps.People.LookupPupil(ctx, d.PupilID)
				if err != nil {
					return nil, err
				}
				if err := s.deps.People.AuditView(ctx, a, p.ID, "today"); err != nil {
					return nil, err
				}
				seat.PupilName = p.DisplayName
			}
			tc.Seats = append(tc.Seats, seat)
		}
		out = append(out, tc)
	}
	return gin.H{"classrooms": out}, nil
}
