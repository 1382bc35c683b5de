package engagement

import "sort"

// Category is what an attendance code counts as.
type Category string

// The categories of the DfE attendance codes.
const (
	Present      Category = "present"      // attending (in school or an approved activity)
	Authorised   Category = "authorised"   // absent, authorised by the school
	Unauthorised Category = "unauthorised" // absent, not authorised
	NotPossible  Category = "not_possible" // not counted as a possible session
)

// Code is one attendance code.
type Code struct {
	Code     string   `json:"code"`
	Meaning  string   `json:"meaning"`
	Category Category `json:"category"`
}

// Codes is the DfE attendance code set in force in England since August
// 2024 ("Working together to improve school attendance", statutory
// guidance). It is the only copy in Seatlink: registers, measures and the
// pages all read it from here.
var Codes = []Code{
	{"/", "Present (morning session)", Present},
	{`\`, "Present (afternoon session)", Present},
	{"L", "Late arrival before the register closed", Present},
	{"K", "Attending education provision arranged by the local authority", Present},
	{"V", "Attending an educational visit or trip", Present},
	{"P", "Participating in a supervised sporting activity", Present},
	{"W", "Attending work experience", Present},
	{"B", "Attending any other approved educational activity", Present},
	{"D", "Dual registered: attending another school", NotPossible},

	{"C1", "Leave of absence: regulated performance or regulated employment abroad", Authorised},
	{"M", "Leave of absence: medical or dental appointment", Authorised},
	{"J1", "Leave of absence: interview for employment or a place at another educational institution", Authorised},
	{"S", "Leave of absence: studying for a public examination", Authorised},
	{"X", "Non-compulsory school age pupil not required to attend", NotPossible},
	{"C2", "Leave of absence: compulsory school age pupil on an agreed part-time timetable", Authorised},
	{"C", "Leave of absence for exceptional circumstances", Authorised},
	{"T", "Parent travelling for occupational purposes", Authorised},
	{"R", "Religious observance", Authorised},
	{"I", "Illness (not medical or dental appointment)", Authorised},
	{"E", "Suspended or permanently excluded, no alternative provision made", Authorised},

	{"Q", "Unable to attend: lack of access arrangements", NotPossible},
	{"Y1", "Unable to attend: transport normally provided not available", NotPossible},
	{"Y2", "Unable to attend: widespread disruption to travel", NotPossible},
	{"Y3", "Unable to attend: part of the school premises closed", NotPossible},
	{"Y4", "Unable to attend: whole school site unexpectedly closed", NotPossible},
	{"Y5", "Unable to attend: criminal justice detention", NotPossible},
	{"Y6", "Unable to attend: public health guidance or law", NotPossible},
	{"Y7", "Unable to attend: any other unavoidable cause", NotPossible},

	{"G", "Holiday not granted by the school", Unauthorised},
	{"N", "Reason for absence not yet established", Unauthorised},
	{"O", "Absent in other or unknown circumstances", Unauthorised},
	{"U", "Arrived in school after registration closed", Unauthorised},

	{"Z", "Prospective pupil not on the admission register", NotPossible},
	{"#", "Planned whole or partial school closure", NotPossible},
}

var codeIndex = func() map[string]Code {
	m := make(map[string]Code, len(Codes))
	for _, c := range Codes {
		m[c.Code] = c
	}
	return m
}()

// LookupCode returns an attendance code by its letters.
func LookupCode(code string) (Code, bool) {
	c, ok := codeIndex[code]
	return c, ok
}

// CodesIn lists the codes of a category, sorted.
func CodesIn(cat Category) []string {
	var out []string
	for _, c := range Codes {
		if c.Category == cat {
			out = append(out, c.Code)
		}
	}
	sort.Strings(out)
	return out
}

// OnSite says whether a code means the pupil was in school: present (/ \)
// or late before the register closed (L). The other attending codes (K V P
// W B) count toward attendance, as the DfE counts them, but the pupil was
// away on an approved educational activity, not in school.
func (c Code) OnSite() bool { return c.Code == "/" || c.Code == `\` || c.Code == "L" }

// Absence says whether a code records an absence (authorised or not).
func (c Code) Absence() bool { return c.Category == Authorised || c.Category == Unauthorised }

// PartTimeCode is the code a school uses for sessions outside a pupil's
// agreed part-time timetable (the gateway shows such sessions as the
// school's to mark, never marks them itself).
const PartTimeCode = "C2"
