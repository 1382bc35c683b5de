package signaling

// The staff console's Today view: for each of the teacher's classrooms,
// today's lessons from the school's timetable, the robot (or classroom
// station) in the room with its state now, and whether its pupil is in
// class through it now. The page reads this once (it names pupils, so it
// is audited) and follows the devices' live events for the states.

import (
	"sort"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"seatlink/devices"
	"seatlink/engagement"
	"seatlink/people"
)

// todayRoutes is the Today view's one route.
func (s *Server) todayRoutes() []apiRoute {
	return []apiRoute{
		{Method: "GET", Path: "/api/v1/today",
			Summary: "Today in your classrooms: each one's lessons, its robot's state (online, asleep, offline) and whether the pupil is in class now (audited; classroom= one of them, date= another day, like 2026-11-23)",
			Action:  people.ActDeviceList, Query: []string{"classroom", "date"}, handle: s.today},
	}
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
