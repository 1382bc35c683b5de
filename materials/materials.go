// Package materials keeps lesson material: each file's record, and its
// bytes streamed to an object store (objects.go: a local folder;
// objects_s3.go: MinIO or any S3), the type allow-list, who may see what,
// short-lived download links, and a pupil's list with the lessons they
// missed first (from the measures of package engagement).
package materials

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"seatlink/engagement"
	"seatlink/internal/store"
	"seatlink/people"
)

// Material is one piece of lesson material: its record (here) and its
// bytes (in the object store, under ObjectKey).
type Material struct {
	ID          string    `json:"id"`
	SchoolID    string    `json:"school_id"`
	ClassroomID string    `json:"classroom_id"`
	Title       string    `json:"title"`
	Subject     string    `json:"subject,omitempty"`
	LessonDate  string    `json:"lesson_date"`
	PhaseID     string    `json:"phase_id,omitempty"`
	UploaderID  string    `json:"uploader_id"`
	Filename    string    `json:"filename"`
	Size        int64     `json:"size"`
	ContentType string    `json:"content_type"`
	SHA256      string    `json:"sha256"`
	CreatedAt   time.Time `json:"created_at"`
	// Missed is set in a pupil's list: the pupil was neither in school nor
	// engaged through the robot on the lesson's day.
	Missed bool `json:"missed,omitempty"`
	key    string
}

// Input describes an upload; the bytes come separately.
type Input struct {
	ClassroomID string `json:"classroom_id"`
	Title       string `json:"title"`
	Subject     string `json:"subject"`
	LessonDate  string `json:"lesson_date"`
	PhaseID     string `json:"phase_id"`
	Filename    string `json:"filename"`
}

// Upload refusals.
var (
	ErrTooLarge = errors.New("materials: the file is larger than the limit")
	ErrBadType  = errors.New("materials: this kind of file is not accepted")
)

// DefaultMaxSize is the default upload limit.
const DefaultMaxSize = 200 << 20

// Library keeps lesson material.
type Library struct {
	db      *store.DB
	people  *people.Store
	store   ObjectStore
	reports *engagement.Reports
	// MaxSize bounds an upload (default DefaultMaxSize).
	MaxSize int64
	// LinkTTL is how long a download link works (default 5 minutes).
	LinkTTL time.Duration
}

// NewLibrary returns the materials service over an object store; reports
// gives the pupils' weeks that tell which lessons a pupil missed.
func NewLibrary(db *store.DB, ps *people.Store, reports *engagement.Reports, os ObjectStore) *Library {
	return &Library{db: db, people: ps, store: os, reports: reports, MaxSize: DefaultMaxSize, LinkTTL: 5 * time.Minute}
}

// Store is the object store behind the materials.
func (m *Library) Store() ObjectStore { return m.store }

// officeTypes are the zip-based document formats, known by extension
// once the bytes have sniffed as a zip.
var officeTypes = map[string]string{
	".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
	".odt":  "application/vnd.oasis.opendocument.text",
	".ods":  "application/vnd.oasis.opendocument.spreadsheet",
	".odp":  "application/vnd.oasis.opendocument.presentation",
}

// sniffType decides a file's type from its first bytes (never from what
// the uploader claims), against the allow-list: PDF, pictures, plain text,
// office documents, MP3, MP4 and WebM. HTML, SVG, scripts and programs
// are refused: a download must never run in the gateway's origin.
func sniffType(head []byte, filename string) string {
	dt, _, _ := strings.Cut(http.DetectContentType(head), ";")
	ext := strings.ToLower(filepath.Ext(filename))
	switch dt {
	case "application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp", "audio/mpeg", "video/mp4", "video/webm":
		return dt
	case "application/zip":
		return officeTypes[ext]
	case "text/plain":
		if t := bytes.TrimLeft(head, " \t\r\n\ufeff"); len(t) > 0 && t[0] == '<' {
			return "" // markup (SVG, XML, HTML fragments) is not plain text
		}
		switch ext {
		case ".txt", ".md":
			return "text/plain; charset=utf-8"
		case ".csv":
			return "text/csv; charset=utf-8"
		}
	}
	return ""
}

// limited fails a read past n bytes and remembers that it did.
type limited struct {
	r        io.Reader
	n        int64
	exceeded bool
}

func (l *limited) Read(p []byte) (int, error) {
	if l.n <= 0 {
		var one [1]byte
		if k, _ := l.r.Read(one[:]); k > 0 {
			l.exceeded = true
			return 0, ErrTooLarge
		}
		return 0, io.EOF
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	k, err := l.r.Read(p)
	l.n -= int64(k)
	return k, err
}

func (in *Input) validate() error {
	in.Title, in.Subject, in.Filename = strings.TrimSpace(in.Title), strings.TrimSpace(in.Subject), strings.TrimSpace(filepath.Base(in.Filename))
	switch {
	case in.Title == "" || len(in.Title) > 200:
		return &people.FieldError{Field: "title", Code: "bad_title", Message: "a title of 1 to 200 characters is needed"}
	case len(in.Subject) > 100:
		return &people.FieldError{Field: "subject", Code: "too_long", Message: "the subject has at most 100 characters"}
	case in.Filename == "" || in.Filename == "." || len(in.Filename) > 200:
		return &people.FieldError{Field: "filename", Code: "bad_filename", Message: "the file's name is needed (at most 200 characters)"}
	}
	day, err := engagement.ParseDay(in.LessonDate)
	if err != nil {
		return &people.FieldError{Field: "lesson_date", Code: "bad_date", Message: "the lesson date is like 2026-11-23"}
	}
	in.LessonDate = day
	return nil
}

// Upload streams a file into the object store and records it. The type is
// sniffed from the first bytes; the sha256 and size are taken while
// streaming; a file over MaxSize or of a refused type leaves nothing
// behind, in the store or the records.
func (m *Library) Upload(ctx context.Context, a people.Actor, in Input, body io.Reader) (Material, error) {
	if err := in.validate(); err != nil {
		return Material{}, err
	}
	if err := m.people.Authorize(ctx, a, people.ActMaterialUpload, people.Target{ClassroomID: in.ClassroomID}); err != nil {
		return Material{}, err
	}
	mat := Material{ID: store.NewID("mat-"), ClassroomID: in.ClassroomID, Title: in.Title, Subject: in.Subject, LessonDate: in.LessonDate,
		PhaseID: in.PhaseID, UploaderID: a.ID, Filename: in.Filename, CreatedAt: time.Now().UTC().Truncate(time.Millisecond)}
	if err := m.db.Q().QueryRow(ctx, `SELECT school_id FROM classrooms WHERE id = ?`, in.ClassroomID).Scan(&mat.SchoolID); err != nil {
		return Material{}, people.NotFoundIfNoRows(err)
	}
	if in.PhaseID != "" && !m.phaseInClassroom(ctx, in.PhaseID, in.ClassroomID) {
		return Material{}, &people.FieldError{Field: "phase_id", Code: "unknown_phase",
			Message: "no plan phase of a pupil in this classroom has that id"}
	}
	head := make([]byte, 512)
	n, err := io.ReadFull(body, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return Material{}, err
	}
	if n == 0 {
		return Material{}, &people.FieldError{Field: "file", Code: "empty", Message: "the file is empty"}
	}
	if mat.ContentType = sniffType(head[:n], in.Filename); mat.ContentType == "" {
		return Material{}, ErrBadType
	}
	h := sha256.New()
	lim := &limited{r: io.MultiReader(bytes.NewReader(head[:n]), body), n: m.MaxSize}
	counted := &countingReader{r: io.TeeReader(lim, h)}
	mat.key = "materials/" + mat.ID
	if err := m.store.Put(ctx, mat.key, counted, -1, mat.ContentType); err != nil {
		_ = m.store.Delete(context.WithoutCancel(ctx), mat.key)
		if lim.exceeded {
			return Material{}, ErrTooLarge
		}
		return Material{}, err
	}
	mat.Size, mat.SHA256 = counted.n, hex.EncodeToString(h.Sum(nil))
	_, err = m.db.Q().Exec(ctx, `INSERT INTO materials (id, school_id, classroom_id, title, subject, lesson_date, phase_id,
		uploader_id, filename, size, content_type, sha256, object_key, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		mat.ID, mat.SchoolID, mat.ClassroomID, mat.Title, mat.Subject, mat.LessonDate, mat.PhaseID, mat.UploaderID, mat.Filename,
		mat.Size, mat.ContentType, mat.SHA256, mat.key, mat.CreatedAt.UnixMilli())
	if err != nil {
		_ = m.store.Delete(context.WithoutCancel(ctx), mat.key)
		return Material{}, err
	}
	return mat, nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	k, err := c.r.Read(p)
	c.n += int64(k)
	return k, err
}

func (m *Library) phaseInClassroom(ctx context.Context, phaseID, classroomID string) bool {
	var one int
	return m.db.Q().QueryRow(ctx, `SELECT 1 FROM plan_phases ph JOIN plans pl ON pl.id = ph.plan_id JOIN pupils p ON p.id = pl.pupil_id
		WHERE ph.id = ? AND p.classroom_id = ?`, phaseID, classroomID).Scan(&one) == nil
}

const materialCols = `id, school_id, classroom_id, title, subject, lesson_date, phase_id, uploader_id, filename, size,
	content_type, sha256, object_key, created_at`

func scanMaterials(rows *sql.Rows) ([]Material, error) {
	defer rows.Close()
	out := []Material{}
	for rows.Next() {
		var mat Material
		var at int64
		if err := rows.Scan(&mat.ID, &mat.SchoolID, &mat.ClassroomID, &mat.Title, &mat.Subject, &mat.LessonDate, &mat.PhaseID,
			&mat.UploaderID, &mat.Filename, &mat.Size, &mat.ContentType, &mat.SHA256, &mat.key, &at); err != nil {
			return nil, err
		}
		mat.CreatedAt = time.UnixMilli(at).UTC()
		out = append(out, mat)
	}
	return out, rows.Err()
}

func (m *Library) get(ctx context.Context, id string) (Material, error) {
	rows, err := m.db.Q().Query(ctx, `SELECT `+materialCols+` FROM materials WHERE id = ?`, id)
	if err != nil {
		return Material{}, err
	}
	ms, err := scanMaterials(rows)
	if err != nil {
		return Material{}, err
	}
	if len(ms) == 0 {
		return Material{}, people.ErrNotFound
	}
	return ms[0], nil
}

// ForClassroom lists a classroom's material, newest lesson first.
// Material attached to a pupil's plan is listed only to those who may see
// that plan.
func (m *Library) ForClassroom(ctx context.Context, a people.Actor, classroomID string) ([]Material, error) {
	if classroomID == "" {
		return nil, people.ErrNotFound
	}
	if err := m.people.Authorize(ctx, a, people.ActMaterialView, people.Target{ClassroomID: classroomID}); err != nil {
		return nil, err
	}
	rows, err := m.db.Q().Query(ctx, `SELECT `+materialCols+` FROM materials WHERE classroom_id = ?
		ORDER BY lesson_date DESC, created_at DESC`, classroomID)
	if err != nil {
		return nil, err
	}
	all, err := scanMaterials(rows)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, mat := range all {
		if m.planVisible(ctx, a, mat) == nil {
			out = append(out, mat)
		}
	}
	return out, nil
}

// planVisible checks a material attached to a plan against that plan's
// own visibility (material not attached to a plan passes).
func (m *Library) planVisible(ctx context.Context, a people.Actor, mat Material) error {
	if mat.PhaseID == "" || a.Kind == "system" {
		return nil
	}
	var pupil string
	if err := m.db.Q().QueryRow(ctx, `SELECT pl.pupil_id FROM plan_phases ph JOIN plans pl ON pl.id = ph.plan_id WHERE ph.id = ?`,
		mat.PhaseID).Scan(&pupil); err != nil {
		return people.ErrNotFound
	}
	return m.people.Authorize(ctx, a, people.ActPlanView, people.Target{PupilID: pupil})
}

// ForPupil lists what a pupil may read: their classroom's material and
// any attached to a phase of their plans, the lessons they missed first
// (neither in school nor engaged through the robot that day), then the
// newest.
func (m *Library) ForPupil(ctx context.Context, a people.Actor, pupilID string) ([]Material, error) {
	if err := m.people.Authorize(ctx, a, people.ActMaterialView, people.Target{PupilID: pupilID}); err != nil {
		return nil, err
	}
	p, err := m.people.LookupPupil(ctx, pupilID)
	if err != nil {
		return nil, err
	}
	rows, err := m.db.Q().Query(ctx, `SELECT `+materialCols+` FROM materials WHERE classroom_id = ?
		OR phase_id IN (SELECT ph.id FROM plan_phases ph JOIN plans pl ON pl.id = ph.plan_id WHERE pl.pupil_id = ?)`, p.ClassroomID, pupilID)
	if err != nil {
		return nil, err
	}
	ms, err := scanMaterials(rows)
	if err != nil || len(ms) == 0 {
		return ms, err
	}
	first := ms[0].LessonDate
	for _, mat := range ms {
		first = min(first, mat.LessonDate)
	}
	from, _ := time.Parse(time.DateOnly, first)
	weeks := min(60, int(time.Since(from).Hours()/24/7)+2)
	hs, err := m.reports.Histories(ctx, []people.Pupil{p}, engagement.Range{Through: time.Now(), Weeks: weeks}, true)
	if err != nil {
		return nil, err
	}
	educated := map[string]bool{} // days the pupil was in school or engaged remotely
	schoolDay := map[string]bool{}
	for _, w := range hs[0].Weeks {
		for _, s := range w.Sessions {
			if s.Possible {
				schoolDay[s.Day] = true
			}
			if s.Present || s.EngagedRemote {
				educated[s.Day] = true
			}
		}
	}
	for i := range ms {
		ms[i].Missed = schoolDay[ms[i].LessonDate] && !educated[ms[i].LessonDate]
	}
	sort.SliceStable(ms, func(i, j int) bool {
		if ms[i].Missed != ms[j].Missed {
			return ms[i].Missed
		}
		if ms[i].LessonDate != ms[j].LessonDate {
			return ms[i].LessonDate > ms[j].LessonDate
		}
		return ms[i].CreatedAt.After(ms[j].CreatedAt)
	})
	return ms, nil
}

// canSee says whether a may read a material: staff by their scope over its
// classroom; a pupil, or a parent for one of their children, when the
// material is the pupil's classroom's or attached to the pupil's plan.
func (m *Library) canSee(ctx context.Context, a people.Actor, mat Material) error {
	var pupils []string
	switch a.Kind {
	case "system":
		return nil
	case "staff":
		if err := m.people.Authorize(ctx, a, people.ActMaterialView, people.Target{ClassroomID: mat.ClassroomID, SchoolID: mat.SchoolID}); err != nil {
			return err
		}
		return m.planVisible(ctx, a, mat)
	case "pupil":
		pupils = []string{a.ID}
	case "parent":
		rows, err := m.db.Q().Query(ctx, `SELECT pupil_id FROM parent_pupils WHERE parent_id = ?`, a.ID)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			pupils = append(pupils, id)
		}
		rows.Close()
	}
	for _, pupil := range pupils {
		if err := m.people.Authorize(ctx, a, people.ActMaterialView, people.Target{PupilID: pupil}); err != nil {
			continue
		}
		var one int
		if m.db.Q().QueryRow(ctx, `SELECT 1 FROM pupils WHERE id = ? AND classroom_id = ?`, pupil, mat.ClassroomID).Scan(&one) == nil ||
			(mat.PhaseID != "" && m.db.Q().QueryRow(ctx, `SELECT 1 FROM plan_phases ph JOIN plans pl ON pl.id = ph.plan_id
				WHERE ph.id = ? AND pl.pupil_id = ?`, mat.PhaseID, pupil).Scan(&one) == nil) {
			return nil
		}
	}
	return people.ErrNotFound
}

// AttachToPhase puts a material on a phase of a plan (the EWO's choice
// of what the pupil should work on): the caller must be one who may edit
// the pupil's plan, and the material must be of the pupil's school.
func (m *Library) AttachToPhase(ctx context.Context, a people.Actor, phaseID, materialID string) error {
	var pupil, school string
	if err := m.db.Q().QueryRow(ctx, `SELECT pl.pupil_id, pu.school_id FROM plan_phases ph JOIN plans pl ON pl.id = ph.plan_id
		JOIN pupils pu ON pu.id = pl.pupil_id WHERE ph.id = ?`, phaseID).Scan(&pupil, &school); err != nil {
		return people.NotFoundIfNoRows(err)
	}
	if err := m.people.Authorize(ctx, a, people.ActPlanEdit, people.Target{PupilID: pupil}); err != nil {
		return err
	}
	// The material's own visibility too, never only its school: the
	// caller must see it (its classroom, and the plan it is attached to,
	// if any), so no one moves another pupil's material to a plan of theirs.
	mat, err := m.get(ctx, materialID)
	if err != nil {
		return err
	}
	if err := m.canSee(ctx, a, mat); err != nil {
		return people.ErrNotFound
	}
	res, err := m.db.Q().Exec(ctx, `UPDATE materials SET phase_id = ? WHERE id = ? AND school_id = ?`, phaseID, materialID, school)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return people.ErrNotFound
	}
	return nil
}

// Link is a short-lived download link, issued after the role check.
type Link struct {
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expires_at"`
	Material  Material  `json:"material"`
}

// Link checks that a may read the material and returns a presigned link.
func (m *Library) Link(ctx context.Context, a people.Actor, id string) (Link, error) {
	mat, err := m.get(ctx, id)
	if err != nil {
		return Link{}, err
	}
	if err := m.canSee(ctx, a, mat); err != nil {
		return Link{}, err
	}
	u, err := m.store.URL(ctx, mat.key, mat.Filename, m.LinkTTL)
	if err != nil {
		return Link{}, err
	}
	return Link{URL: u, ExpiresAt: time.Now().Add(m.LinkTTL).UTC().Truncate(time.Second), Material: mat}, nil
}

// OpenLocal serves a DirStore link: the signature and expiry are checked,
// and the record gives the type to send.
func (m *Library) OpenLocal(ctx context.Context, key, name, exp, sig string) (*os.File, Material, error) {
	ds, ok := m.store.(*DirStore)
	if !ok {
		return nil, Material{}, people.ErrNotFound
	}
	f, err := ds.Open(key, name, exp, sig)
	if err != nil {
		return nil, Material{}, err
	}
	rows, err := m.db.Q().Query(ctx, `SELECT `+materialCols+` FROM materials WHERE object_key = ?`, key)
	if err != nil {
		f.Close()
		return nil, Material{}, err
	}
	ms, err := scanMaterials(rows)
	if err != nil || len(ms) == 0 {
		f.Close()
		return nil, Material{}, people.ErrNotFound
	}
	return f, ms[0], nil
}

// Delete removes a material's record, then its object (the sweep removes
// the object later if that fails).
func (m *Library) Delete(ctx context.Context, a people.Actor, id string) error {
	mat, err := m.get(ctx, id)
	if err != nil {
		return err
	}
	if err := m.people.Authorize(ctx, a, people.ActMaterialDelete, people.Target{ClassroomID: mat.ClassroomID}); err != nil {
		return err
	}
	if _, err := m.db.Q().Exec(ctx, `DELETE FROM materials WHERE id = ?`, id); err != nil {
		return err
	}
	return m.store.Delete(ctx, mat.key)
}

// Sweep deletes objects older than grace whose records are gone (an
// upload interrupted between store and record, a failed delete).
func (m *Library) Sweep(ctx context.Context, grace time.Duration) (int, error) {
	keys, err := m.store.List(ctx, "materials/", time.Now().Add(-grace))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, k := range keys {
		var one int
		err := m.db.Q().QueryRow(ctx, `SELECT 1 FROM materials WHERE object_key = ?`, k).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			if err := m.store.Delete(ctx, k); err != nil {
				return n, err
			}
			n++
		} else if err != nil {
			return n, err
		}
	}
	return n, nil
}
