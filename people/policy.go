package people

import (
	"context"
	"sort"
)

// Action is something a person may do.
type Action string

// The actions. Each route and WebSocket message names one.
const (
	ActSchoolCreate     Action = "school.create"
	ActSchoolList       Action = "school.list"
	ActClassroomCreate  Action = "classroom.create"
	ActClassroomList    Action = "classroom.list"
	ActStaffCreate      Action = "staff.create"
	ActStaffList        Action = "staff.list"
	ActStaffReset       Action = "staff.reset_password"
	ActTeacherClassroom Action = "staff.assign_classroom"
	ActCaseloadAssign   Action = "caseload.assign"
	ActPupilCreate      Action = "pupil.create"
	ActPupilImport      Action = "pupil.import"
	ActPupilList        Action = "pupil.list"
	ActPupilView        Action = "pupil.view"
	ActPupilExport      Action = "pupil.export"
	ActPupilErase       Action = "pupil.erase"
	ActParentCreate     Action = "parent.create"
	ActJoinLinkIssue    Action = "joinlink.issue"
	ActJoinLinkList     Action = "joinlink.list"
	ActJoinLinkRevoke   Action = "joinlink.revoke"
	ActAuditRead        Action = "audit.read"
	ActDeviceCreate     Action = "device.create" // create a device and its enrollment codes
	ActDeviceList       Action = "device.list"
	ActDeviceManage     Action = "device.manage" // lend, place, pair, revoke
	ActDeviceCommand    Action = "device.command"
	ActTimetableEdit    Action = "timetable.edit"
	ActRegisterEdit     Action = "register.edit" // import or enter attendance marks
	ActPlanEdit         Action = "plan.edit"     // create and change re-integration plans
	ActPlanView         Action = "plan.view"
	ActPlanNote         Action = "plan.note" // add a note in one's own voice
	ActMaterialUpload   Action = "material.upload"
	ActMaterialView     Action = "material.view"
	ActMaterialDelete   Action = "material.delete"
	ActLinkJoin         Action = "link.join"   // join one's robot link over the WebSocket
	ActLinkSignal       Action = "link.signal" // answer, candidate, restart ICE, leave
	ActKeyAdultSet      Action = "keyadult.set"
	ActKeyAdultView     Action = "keyadult.view"
	ActMessageRead      Action = "message.read"  // a pupil's thread between family and school
	ActMessageWrite     Action = "message.write" // write in it
	ActCheckInWrite     Action = "checkin.write" // the pupil's own "how did today feel?"
	ActCheckInRead      Action = "checkin.read"
	ActCaseView         Action = "case.view" // barriers, support, contacts, reviews' records
	ActCaseEdit         Action = "case.edit"
	ActPupilVoice       Action = "pupil.voice" // the pupil's own words before a review
	// ActSignInLocked is audited, never granted: an address locked out
	// from a source after repeated failed sign-ins.
	ActSignInLocked Action = "signin.locked"
)

// Scope limits an action to records related to the actor.
type Scope string

// The scopes.
const (
	ScopeLA       Scope = "la"        // records in the actor's local authority
	ScopeSchool   Scope = "school"    // records in the actor's school
	ScopeClass    Scope = "classroom" // records in one of the actor's (teacher's) classrooms
	ScopeCaseload Scope = "caseload"  // pupils on the actor's (EWO's) caseload
	ScopeChild    Scope = "child"     // the actor's (parent's) own children
	ScopeSelf     Scope = "self"      // the actor's own record
	ScopeKeyAdult Scope = "key_adult" // pupils whose key adult the actor (a member of staff) is
)

// policy is the one permissions table: role × action → scope. An action
// missing for a role is forbidden to it.
var policy = map[Role]map[Action]Scope{
	RoleAdmin: {
		ActSchoolCreate: ScopeLA, ActSchoolList: ScopeLA,
		ActClassroomCreate: ScopeLA, ActClassroomList: ScopeLA,
		ActStaffCreate: ScopeLA, ActStaffList: ScopeLA, ActStaffReset: ScopeLA,
		ActTeacherClassroom: ScopeLA, ActCaseloadAssign: ScopeLA,
		ActPupilCreate: ScopeLA, ActPupilImport: ScopeLA, ActPupilList: ScopeLA, ActPupilView: ScopeLA,
		ActPupilExport: ScopeLA, ActPupilErase: ScopeLA,
		ActParentCreate:  ScopeLA,
		ActJoinLinkIssue: ScopeLA, ActJoinLinkList: ScopeLA, ActJoinLinkRevoke: ScopeLA,
		ActAuditRead:    ScopeLA,
		ActDeviceCreate: ScopeLA, ActDeviceList: ScopeLA, ActDeviceManage: ScopeLA, ActDeviceCommand: ScopeLA,
		ActTimetableEdit: ScopeLA, ActRegisterEdit: ScopeLA,
		ActPlanEdit: ScopeLA, ActPlanView: ScopeLA, ActPlanNote: ScopeLA,
		ActMaterialUpload: ScopeLA, ActMaterialView: ScopeLA, ActMaterialDelete: ScopeLA,
		// An admin names key adults, and reads a family's messages or a
		// pupil's check-ins only as the pupil's key adult.
		ActKeyAdultSet: ScopeLA, ActKeyAdultView: ScopeLA,
		ActMessageRead: ScopeKeyAdult, ActMessageWrite: ScopeKeyAdult, ActCheckInRead: ScopeKeyAdult,
		ActCaseView: ScopeLA, ActCaseEdit: ScopeLA,
	},
	RoleTeacher: {
		ActSchoolList: ScopeSchool, ActClassroomList: ScopeSchool,
		ActPupilList: ScopeSchool, ActPupilView: ScopeSchool,
		ActJoinLinkIssue: ScopeSchool, ActJoinLinkList: ScopeSchool, ActJoinLinkRevoke: ScopeSchool,
		ActDeviceList: ScopeSchool, ActDeviceCommand: ScopeClass,
		ActRegisterEdit: ScopeSchool,
		ActPlanView:     ScopeSchool, ActPlanNote: ScopeSchool,
		ActMaterialUpload: ScopeClass, ActMaterialView: ScopeSchool, ActMaterialDelete: ScopeClass,
		ActKeyAdultSet: ScopeSchool, ActKeyAdultView: ScopeSchool,
		ActMessageRead: ScopeKeyAdult, ActMessageWrite: ScopeKeyAdult, ActCheckInRead: ScopeKeyAdult,
		ActCaseView: ScopeSchool, ActCaseEdit: ScopeSchool,
	},
	RoleEWO: {
		ActSchoolList: ScopeSchool, ActClassroomList: ScopeSchool,
		ActPupilList: ScopeCaseload, ActPupilView: ScopeCaseload,
		ActJoinLinkIssue: ScopeCaseload, ActJoinLinkList: ScopeCaseload, ActJoinLinkRevoke: ScopeCaseload,
		ActPlanEdit: ScopeCaseload, ActPlanView: ScopeCaseload, ActPlanNote: ScopeCaseload,
		ActMaterialView: ScopeCaseload,
		// The EWO works with the family: their caseload's threads are theirs.
		ActKeyAdultSet: ScopeCaseload, ActKeyAdultView: ScopeCaseload,
		ActMessageRead: ScopeCaseload, ActMessageWrite: ScopeCaseload, ActCheckInRead: ScopeKeyAdult,
		ActCaseView: ScopeCaseload, ActCaseEdit: ScopeCaseload,
	},
	RoleParent: {
		ActPupilList: ScopeChild, ActPupilView: ScopeChild,
		ActPlanView: ScopeChild, ActPlanNote: ScopeChild, ActMaterialView: ScopeChild,
		ActKeyAdultView: ScopeChild, ActMessageRead: ScopeChild, ActMessageWrite: ScopeChild,
	},
	RolePupil: {
		ActPupilView: ScopeSelf, ActLinkJoin: ScopeSelf, ActLinkSignal: ScopeSelf,
		ActPlanView: ScopeSelf, ActPlanNote: ScopeSelf, ActMaterialView: ScopeSelf,
		ActKeyAdultView: ScopeSelf, ActCheckInWrite: ScopeSelf, ActCheckInRead: ScopeSelf,
		ActPupilVoice: ScopeSelf,
	},
}

// ScopeOf returns the scope in which role may do act, if at all.
func ScopeOf(role Role, act Action) (Scope, bool) {
	s, ok := policy[role][act]
	return s, ok
}

// RolesFor lists the roles that may do act (for the API document).
func RolesFor(act Action) []Role {
	var out []Role
	for role, acts := range policy {
		if _, ok := acts[act]; ok {
			out = append(out, role)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Target is the record an action is on; the fields that matter depend on
// the scope, and the rest are looked up.
type Target struct {
	LAID        string
	SchoolID    string
	ClassroomID string
	PupilID     string
	StaffID     string
}

// Authorize checks that a may do act on t. A role that may never do act
// gets ErrForbidden; a record outside the actor's scope gets ErrNotFound.
func (s *Store) Authorize(ctx context.Context, a Actor, act Action, t Target) error {
	if a.Kind == "system" {
		return nil
	}
	scope, ok := ScopeOf(a.Role, act)
	if !ok {
		return ErrForbidden
	}
	if t.PupilID != "" && (t.SchoolID == "" || t.LAID == "") {
		if err := s.q().QueryRow(ctx, `SELECT p.school_id, s.la_id FROM pupils p JOIN schools s ON s.id = p.school_id
			WHERE p.id = ?`, t.PupilID).Scan(&t.SchoolID, &t.LAID); err != nil {
			return NotFoundIfNoRows(err)
		}
	}
	if t.ClassroomID != "" && t.SchoolID == "" {
		if err := s.q().QueryRow(ctx, `SELECT school_id FROM classrooms WHERE id = ?`, t.ClassroomID).Scan(&t.SchoolID); err != nil {
			return NotFoundIfNoRows(err)
		}
	}
	if t.SchoolID != "" && t.LAID == "" {
		if err := s.q().QueryRow(ctx, `SELECT la_id FROM schools WHERE id = ?`, t.SchoolID).Scan(&t.LAID); err != nil {
			return NotFoundIfNoRows(err)
		}
	}
	if t.StaffID != "" && t.LAID == "" {
		if err := s.q().QueryRow(ctx, `SELECT la_id FROM staff WHERE id = ?`, t.StaffID).Scan(&t.LAID); err != nil {
			return NotFoundIfNoRows(err)
		}
	}
	var in bool
	switch scope {
	case ScopeLA:
		in = t.LAID != "" && t.LAID == a.LAID
	case ScopeSchool:
		in = t.SchoolID != "" && t.SchoolID == a.SchoolID
	case ScopeClass:
		in = t.ClassroomID != "" &&
			s.exists(ctx, `SELECT 1 FROM teacher_classrooms WHERE staff_id = ? AND classroom_id = ?`, a.ID, t.ClassroomID)
	// A pupil's record is in an EWO's (parent's) scope when the pupil is
	// on their caseload (is their child); a classroom's, when one of those
	// pupils is in it. A target naming neither is in no one's: an empty or
	// missing id fails the check, never passes as "a listing".
	case ScopeCaseload:
		switch {
		case t.PupilID != "":
			in = s.exists(ctx, `SELECT 1 FROM caseload WHERE staff_id = ? AND pupil_id = ?`, a.ID, t.PupilID)
		case t.ClassroomID != "":
			in = s.exists(ctx, `SELECT 1 FROM caseload c JOIN pupils p ON p.id = c.pupil_id WHERE c.staff_id = ? AND p.classroom_id = ?`,
				a.ID, t.ClassroomID)
		}
	case ScopeChild:
		switch {
		case t.PupilID != "":
			in = s.exists(ctx, `SELECT 1 FROM parent_pupils WHERE parent_id = ? AND pupil_id = ?`, a.ID, t.PupilID)
		case t.ClassroomID != "":
			in = s.exists(ctx, `SELECT 1 FROM parent_pupils pp JOIN pupils p ON p.id = pp.pupil_id WHERE pp.parent_id = ? AND p.classroom_id = ?`,
				a.ID, t.ClassroomID)
		}
	case ScopeSelf:
		in = (t.PupilID != "" && t.PupilID == a.ID) || (t.StaffID != "" && t.StaffID == a.ID)
	case ScopeKeyAdult:
		in = t.PupilID != "" && a.Kind == "staff" &&
			s.exists(ctx, `SELECT 1 FROM key_adults WHERE pupil_id = ? AND staff_id = ?`, t.PupilID, a.ID)
	}
	if !in {
		return ErrOutOfScope
	}
	return nil
}

func (s *Store) exists(ctx context.Context, q string, args ...any) bool {
	var one int
	return s.q().QueryRow(ctx, q, args...).Scan(&one) == nil
}
