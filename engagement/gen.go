package engagement

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"seatlink/internal/store"
	"seatlink/people"
)

// StandardTimetable is a typical English primary/secondary day.
const StandardTimetable = `weekday,start,end,kind,session,name
%[1]s,08:45,09:00,registration,AM,Registration
%[1]s,09:00,10:00,lesson,AM,Lesson 1
%[1]s,10:00,10:15,break,AM,Break
%[1]s,10:15,11:15,lesson,AM,Lesson 2
%[1]s,11:15,12:15,lesson,AM,Lesson 3
%[1]s,12:15,13:15,lunch,PM,Lunch
%[1]s,13:15,14:15,lesson,PM,Lesson 4
%[1]s,14:15,15:15,lesson,PM,Lesson 5
%[1]s,15:30,16:30,club,PM,Club
`

// standardWeek is StandardTimetable for Monday to Friday.
func standardWeek() string {
	var b strings.Builder
	for i, d := range []string{"Mon", "Tue", "Wed", "Thu", "Fri"} {
		t := fmt.Sprintf(StandardTimetable, d)
		if i > 0 {
			t = t[strings.Index(t, "\n")+1:]
		}
		b.WriteString(t)
	}
	return b.String()
}

// GenOptions shape generated history.
type GenOptions struct {
	Weeks int       // whole school weeks of history before the week of Until, and that week's days before Until; 0: from 1 September
	Until time.Time // default now
	Seed  uint64
	// Progress, if set, is called after each pupil.
	Progress func(done, total int)
}

// StandardTerms are an English school's three terms of the academic year
// that starts in September of year, each with its half-term break as a
// holiday inside it (dates as most LAs set them).
func StandardTerms(year int) []Term {
	d := func(y int, m time.Month, day int) string {
		return time.Date(y, m, day, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
	}
	half := func(from, to string) []Holiday { return []Holiday{{Name: "Half term", StartsOn: from, EndsOn: to}} }
	return []Term{
		{Name: "Autumn", StartsOn: d(year, 9, 3), EndsOn: d(year, 12, 18), Holidays: half(d(year, 10, 24), d(year, 11, 1))},
		{Name: "Spring", StartsOn: d(year+1, 1, 5), EndsOn: d(year+1, 3, 26), Holidays: half(d(year+1, 2, 13), d(year+1, 2, 21))},
		{Name: "Summer", StartsOn: d(year+1, 4, 12), EndsOn: d(year+1, 7, 21), Holidays: half(d(year+1, 5, 22), d(year+1, 5, 31))},
	}
}

// pupilProfile is how a generated pupil attends: the chance of being in
// school for a session at the start, its weekly drift (a plan working, or
// things getting worse), and the chance of joining through the robot when
// not in school.
type pupilProfile struct{ present, drift, remote float64 }

var profiles = []pupilProfile{
	{0.96, 0, 0.5},     // mostly in school
	{0.55, 0.02, 0.85}, // part-time, returning step by step, engaging remotely
	{0.35, -0.01, 0.7}, // persistently absent, engaging remotely
	{0.15, 0, 0.1},     // severely absent, rarely engaging
}

// Generate writes realistic synthetic history for pupils of one school: a
// standard timetable and terms (if the school has none), register marks
// for every session, and, for sessions a pupil missed in person,
// engagement events when they joined through the robot (most of the
// session, some speaking, a hand or two). Each pupil is given a profile
// (see profiles). Each pupil's history is one transaction.
func Generate(ctx context.Context, db *store.DB, ps *people.Store, a people.Actor, schoolID string, pupilIDs []string,
	opt GenOptions) (marks, events int, err error) {
	if opt.Until.IsZero() {
		opt.Until = time.Now()
	}
	if opt.Weeks <= 0 {
		// From the academic year's first day (1 September), so that the
		// year-to-date figures rest on a whole register.
		y := opt.Until.Year()
		if opt.Until.Month() < time.September {
			y--
		}
		opt.Weeks = int(opt.Until.Sub(time.Date(y, time.September, 1, 0, 0, 0, 0, time.UTC)).Hours()/24/7) + 1
	}
	r := rand.New(rand.NewPCG(opt.Seed, opt.Seed^0x5ea71)) //nolint:gosec // synthetic data
	tt := NewTimetables(db, ps)
	cal, err := loadCalendar(ctx, db.Q(), schoolID)
	if err != nil {
		return 0, 0, err
	}
	if len(cal.school) == 0 {
		if _, err := tt.Import(ctx, a, schoolID, strings.NewReader(standardWeek())); err != nil {
			return 0, 0, err
		}
	}
	thisMonday := cal.monday(opt.Until)
	today := cal.noon(opt.Until)
	first := thisMonday.AddDate(0, 0, -7*opt.Weeks)
	if len(cal.terms) == 0 {
		var terms []Term
		for y := first.Year() - 1; y <= thisMonday.Year(); y++ {
			terms = append(terms, StandardTerms(y)...)
		}
		if err := tt.SetTerms(ctx, a, schoolID, terms); err != nil {
			return 0, 0, err
		}
	}
	if cal, err = loadCalendar(ctx, db.Q(), schoolID); err != nil {
		return 0, 0, err
	}
	classrooms := map[string]string{}
	rows, err := db.Q().Query(ctx, `SELECT id, COALESCE(classroom_id, '') FROM pupils WHERE school_id = ?`, schoolID)
	if err != nil {
		return 0, 0, err
	}
	for rows.Next() {
		var id, cls string
		if err := rows.Scan(&id, &cls); err != nil {
			rows.Close()
			return 0, 0, err
		}
		classrooms[id] = cls
	}
	rows.Close()
	run := uint32(time.Now().UnixNano()) ^ r.Uint32() // event ids stay unique if the generator runs again
	for pi, pupil := range pupilIDs {
		pr := profiles[pi%len(profiles)]
		var ms []Mark
		var evs []Event
		week := 0
		for d := first; d.Before(today); d = d.AddDate(0, 0, 1) {
			if d.Weekday() == time.Monday {
				week++
			}
			day := d.Format(time.DateOnly)
			if d.Weekday() == time.Saturday || d.Weekday() == time.Sunday || !cal.inTerm(day) {
				continue
			}
			slots := cal.slots(classrooms[pupil], d)
			for _, half := range []string{"AM", "PM"} {
				code := "/"
				if half == "PM" {
					code = `\`
				}
				inSchool := r.Float64() < pr.present+pr.drift*float64(week)
				if !inSchool {
					code = []string{"I", "I", "C2", "N", "O", "M"}[r.IntN(6)]
				}
				ms = append(ms, Mark{PupilID: pupil, Day: day, Session: half, Code: code, Source: "mis"})
				if inSchool || r.Float64() >= pr.remote {
					continue
				}
				evs = append(evs, remoteSession(r, slots, half)...)
			}
		}
		err := db.Tx(ctx, func(q store.Q) error {
			if err := insertMarks(ctx, q, ms, opt.Until); err != nil {
				return err
			}
			return insertEvents(ctx, q, run, pupil, evs)
		})
		if err != nil {
			return marks, events, err
		}
		marks += len(ms)
		events += len(evs)
		if opt.Progress != nil {
			opt.Progress(pi+1, len(pupilIDs))
		}
	}
	return marks, events, nil
}

// remoteSession is the evidence of a pupil joining one session through
// the robot: a little late, leaving a little early, media alive every
// ten minutes (the live SFU records it every 5 s; fewer rows, each saying
// how often it repeats, give the same intervals), some speaking and the odd raised hand.
func remoteSession(r *rand.Rand, slots []Slot, half string) []Event {
	var from, to time.Time
	var lessons []Slot
	for _, sl := range slots {
		if sl.Session != half || sl.Kind == KindRegistration || sl.Kind == KindClub {
			continue
		}
		if from.IsZero() || sl.From.Before(from) {
			from = sl.From
		}
		if sl.To.After(to) {
			to = sl.To
		}
		if sl.Kind == KindLesson {
			lessons = append(lessons, sl)
		}
	}
	if from.IsZero() {
		return nil
	}
	from = from.Add(time.Duration(r.IntN(10)) * time.Minute)
	to = to.Add(-time.Duration(r.IntN(10)) * time.Minute)
	if r.IntN(5) == 0 { // left at the break
		to = from.Add(to.Sub(from) / 2)
	}
	// The media evidence says how often it repeats (Value, in seconds),
	// so Connected knows a ten-minute gap here is no lost evidence.
	const every = 10 * time.Minute
	evs := []Event{{At: from, Kind: SessionUp}, {At: from.Add(2 * time.Second), Kind: MediaStarted, Value: every.Seconds()}}
	for t := from.Add(every); t.Before(to); t = t.Add(every) {
		evs = append(evs, Event{At: t, Kind: MediaAlive, Value: every.Seconds()})
	}
	for _, l := range lessons {
		if !l.From.After(from) || !l.To.Before(to) {
			continue
		}
		for k := r.IntN(4); k > 0; k-- {
			at := l.From.Add(time.Duration(r.Int64N(int64(l.Duration() - time.Minute))))
			evs = append(evs, Event{At: at, Kind: VoiceStart}, Event{At: at.Add(time.Duration(5+r.IntN(40)) * time.Second), Kind: VoiceStop})
		}
		if r.IntN(3) == 0 {
			at := l.From.Add(time.Duration(r.Int64N(int64(l.Duration() - time.Minute))))
			evs = append(evs, Event{At: at, Kind: HandRaised}, Event{At: at.Add(30 * time.Second), Kind: HandLowered})
		}
	}
	return append(evs, Event{At: to, Kind: MediaStopped}, Event{At: to.Add(time.Second), Kind: SessionDown})
}

// insertMarks writes generated marks, many rows a statement; a mark
// already there is replaced, as a fresh MIS export would.
func insertMarks(ctx context.Context, q store.Q, ms []Mark, at time.Time) error {
	const batch = 200
	for lo := 0; lo < len(ms); lo += batch {
		hi := min(lo+batch, len(ms))
		var sb strings.Builder
		sb.WriteString(`INSERT INTO marks (pupil_id, day, session, code, source, entered_by, entered_at) VALUES `)
		args := make([]any, 0, 5*(hi-lo))
		for i, m := range ms[lo:hi] {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString("(?, ?, ?, ?, 'mis', 'generator', ?)")
			args = append(args, m.PupilID, m.Day, m.Session, m.Code, at.UnixMilli())
		}
		sb.WriteString(` ON CONFLICT (pupil_id, day, session) DO UPDATE SET code = excluded.code, source = excluded.source,
			entered_by = excluded.entered_by, entered_at = excluded.entered_at`)
		if _, err := q.Exec(ctx, sb.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

// insertEvents writes a pupil's generated events, many rows a statement.
func insertEvents(ctx context.Context, q store.Q, run uint32, pupil string, evs []Event) error {
	const batch = 200
	for lo := 0; lo < len(evs); lo += batch {
		hi := min(lo+batch, len(evs))
		var sb strings.Builder
		sb.WriteString(`INSERT INTO engagement_events (id, at, pupil_id, link_id, kind, value) VALUES `)
		args := make([]any, 0, 5*(hi-lo))
		for i, e := range evs[lo:hi] {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString("(?, ?, ?, 'generated', ?, ?)")
			args = append(args, fmt.Sprintf("gen-%08x-%s-%d", run, pupil, lo+i), e.At.UnixMilli(), pupil, e.Kind, e.Value)
		}
		if _, err := q.Exec(ctx, sb.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

// LAOptions shape a generated local authority.
type LAOptions struct {
	Name    string
	Schools int // default 1
	Pupils  int // per school, default 30
	GenOptions
	// Password is given to the generated admin and EWOs (required).
	Password string
}

// GeneratedLA is what GenerateLA made.
type GeneratedLA struct {
	LAID       string   `json:"la_id"`
	AdminEmail string   `json:"admin_email"`
	EWOEmails  []string `json:"ewo_emails"`
	Schools    []string `json:"schools"`
	Pupils     int      `json:"pupils"`
	Marks      int      `json:"marks"`
	Events     int      `json:"events"`
}

var firstNames = []string{"Amara", "Ben", "Chloe", "Dev", "Ella", "Finn", "Grace", "Hassan", "Isla", "Jack", "Keira", "Leo",
	"Maya", "Noah", "Olivia", "Priya", "Quinn", "Ruby", "Sami", "Tom", "Uma", "Vik", "Willow", "Yusuf", "Zara"}

// GenerateLA creates a synthetic local authority for demos and
// benchmarks: an admin, schools each with classrooms of up to 30 pupils,
// an EWO per school with the school's pupils on their caseload, and each
// school's history (Generate). Pupil numbers and names are made up.
func GenerateLA(ctx context.Context, db *store.DB, ps *people.Store, opt LAOptions) (GeneratedLA, error) {
	if opt.Schools <= 0 {
		opt.Schools = 1
	}
	if opt.Pupils <= 0 {
		opt.Pupils = 30
	}
	if opt.Name == "" {
		opt.Name = "Generated Local Authority"
	}
	var out GeneratedLA
	la, err := ps.CreateLA(ctx, people.System, opt.Name)
	if err != nil {
		return out, err
	}
	out.LAID = la.ID
	sys := people.System
	sys.LAID = la.ID
	tag := la.ID[len(la.ID)-6:]
	out.AdminEmail = "admin-" + tag + "@generated.seatlink.test"
	if _, err := ps.CreateStaff(ctx, sys, people.StaffInput{Role: people.RoleAdmin, Email: out.AdminEmail, Name: "Generated admin",
		Password: opt.Password}); err != nil {
		return out, err
	}
	total := opt.Schools * opt.Pupils
	for si := 0; si < opt.Schools; si++ {
		school, err := ps.CreateSchool(ctx, sys, la.ID, fmt.Sprintf("Generated School %d", si+1))
		if err != nil {
			return out, err
		}
		out.Schools = append(out.Schools, school.ID)
		email := fmt.Sprintf("ewo%d-%s@generated.seatlink.test", si+1, tag)
		ewo, err := ps.CreateStaff(ctx, sys, people.StaffInput{Role: people.RoleEWO, Email: email, Name: fmt.Sprintf("EWO %d", si+1),
			SchoolID: school.ID, Password: opt.Password})
		if err != nil {
			return out, err
		}
		out.EWOEmails = append(out.EWOEmails, email)
		var ids []string
		var class people.Classroom
		for pi := 0; pi < opt.Pupils; pi++ {
			if pi%30 == 0 {
				if class, err = ps.CreateClassroom(ctx, sys, school.ID, fmt.Sprintf("Class %d", pi/30+1)); err != nil {
					return out, err
				}
			}
			year := 3 + pi%8
			n := si*opt.Pupils + pi
			p, err := ps.CreatePupil(ctx, sys, people.PupilInput{SchoolID: school.ID, ClassroomID: class.ID,
				PupilNumber: fmt.Sprintf("G%06d", n), DisplayName: fmt.Sprintf("%s %c.", firstNames[n%len(firstNames)], 'A'+rune(n*7%26)),
				YearGroup: &year})
			if err != nil {
				return out, err
			}
			if err := ps.AssignCaseload(ctx, sys, ewo.ID, p.ID); err != nil {
				return out, err
			}
			ids = append(ids, p.ID)
		}
		g := opt.GenOptions
		g.Seed += uint64(si)
		base := si * opt.Pupils
		if opt.Progress != nil {
			g.Progress = func(done, _ int) { opt.Progress(base+done, total) }
		}
		m, e, err := Generate(ctx, db, ps, sys, school.ID, ids, g)
		if err != nil {
			return out, err
		}
		out.Pupils += len(ids)
		out.Marks += m
		out.Events += e
	}
	return out, nil
}
