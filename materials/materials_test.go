package materials

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"seatlink/engagement"
	"seatlink/internal/store/storetest"
	"seatlink/people"
	"seatlink/people/peopletest"
	"seatlink/plans"
)

// testS3 is the test MinIO (deploy/minio.sh), in a fresh bucket.
func testS3(t *testing.T) *S3Store {
	t.Helper()
	ep := os.Getenv("SEATLINK_TEST_S3_ENDPOINT")
	if ep == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("SEATLINK_TEST_S3_ENDPOINT is not set: the MinIO tests cannot run, and CI does not skip them (run deploy/test.sh)")
		}
		t.Skip("SEATLINK_TEST_S3_ENDPOINT not set; run deploy/test.sh to test against MinIO")
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	s, err := NewS3Store(context.Background(), S3Config{Endpoint: ep, AccessKey: os.Getenv("SEATLINK_TEST_S3_ACCESS_KEY"),
		SecretKey: os.Getenv("SEATLINK_TEST_S3_SECRET_KEY"), Bucket: "seatlink-test-" + hex.EncodeToString(b)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// pdfStream is n bytes that sniff as a PDF, made as they are read.
type pdfStream struct {
	n, off int64
	rng    *mrand.ChaCha8
}

func newPDF(n int64) *pdfStream { return &pdfStream{n: n, rng: mrand.NewChaCha8([32]byte{7})} }

func (p *pdfStream) Read(b []byte) (int, error) {
	if p.off >= p.n {
		return 0, io.EOF
	}
	if int64(len(b)) > p.n-p.off {
		b = b[:p.n-p.off]
	}
	_, _ = p.rng.Read(b)
	if p.off == 0 {
		copy(b, "%PDF-1.7\n")
	}
	p.off += int64(len(b))
	return len(b), nil
}

type materialWorld struct {
	m                 *Library
	sys, teacher      people.Actor
	pupilA, pupilB    people.Actor
	classA, classB    string
	pupilAID, schoolA string
}

func newMaterialWorld(t *testing.T, os ObjectStore) *materialWorld {
	t.Helper()
	db := storetest.SQLite(t)
	ctx := context.Background()
	tl := peopletest.NewLA(t, db, false)
	ps, sys, la, school := tl.People, tl.Sys, tl.LA, tl.School
	ca, _ := ps.CreateClassroom(ctx, sys, school.ID, "A")
	cb, _ := ps.CreateClassroom(ctx, sys, school.ID, "B")
	year := 5
	pa, _ := ps.CreatePupil(ctx, sys, people.PupilInput{SchoolID: school.ID, ClassroomID: ca.ID, PupilNumber: "A1", DisplayName: "A", YearGroup: &year})
	pb, _ := ps.CreatePupil(ctx, sys, people.PupilInput{SchoolID: school.ID, ClassroomID: cb.ID, PupilNumber: "B1", DisplayName: "B", YearGroup: &year})
	tc, err := ps.CreateStaff(ctx, sys, people.StaffInput{Role: people.RoleTeacher, Email: "t@x.test", Name: "T", SchoolID: school.ID,
		Password: "a teacher password"})
	if err != nil {
		t.Fatal(err)
	}
	if err := ps.AssignClassroom(ctx, sys, tc.ID, ca.ID); err != nil {
		t.Fatal(err)
	}
	return &materialWorld{m: NewLibrary(db, ps, engagement.NewReports(db, ps), os), sys: sys,
		teacher: people.Actor{Kind: "staff", ID: tc.ID, Role: people.RoleTeacher, LAID: la.ID, SchoolID: school.ID},
		pupilA:  people.Actor{Kind: "pupil", ID: pa.ID, Role: people.RolePupil},
		pupilB:  people.Actor{Kind: "pupil", ID: pb.ID, Role: people.RolePupil},
		classA:  ca.ID, classB: cb.ID, pupilAID: pa.ID, schoolA: school.ID}
}

// eachStore runs f against the local directory store and a real MinIO.
func eachStore(t *testing.T, f func(t *testing.T, w *materialWorld)) {
	t.Run("dir", func(t *testing.T) {
		var files atomic.Pointer[Library]
		srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			q := r.URL.Query()
			file, mat, err := files.Load().OpenLocal(r.Context(), strings.TrimPrefix(r.URL.Path, "/files/"), q.Get("name"), q.Get("exp"), q.Get("sig"))
			if err != nil {
				http.Error(rw, err.Error(), http.StatusNotFound)
				return
			}
			defer file.Close()
			rw.Header().Set("Content-Type", mat.ContentType)
			_, _ = io.Copy(rw, file)
		}))
		t.Cleanup(srv.Close)
		ds, err := NewDirStore(t.TempDir(), srv.URL, []byte("a test secret of enough bytes"))
		if err != nil {
			t.Fatal(err)
		}
		w := newMaterialWorld(t, ds)
		files.Store(w.m)
		f(t, w)
	})
	t.Run("minio", func(t *testing.T) { f(t, newMaterialWorld(t, testS3(t))) })
}

func fetch(t *testing.T, url string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func TestMaterialsInBothStores(t *testing.T) {
	eachStore(t, func(t *testing.T, w *materialWorld) {
		ctx := context.Background()
		body := append([]byte("%PDF-1.4\nworksheet"), bytes.Repeat([]byte{'x'}, 100_000)...)
		sum := sha256.Sum256(body)
		in := Input{ClassroomID: w.classA, Title: "Fractions worksheet", Subject: "Maths", LessonDate: "2026-11-23", Filename: "fractions.pdf"}
		mat, err := w.m.Upload(ctx, w.teacher, in, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if mat.ContentType != "application/pdf" || mat.Size != int64(len(body)) || mat.SHA256 != hex.EncodeToString(sum[:]) {
			t.Fatalf("recorded %+v", mat)
		}
		list, err := w.m.ForPupil(ctx, w.pupilA, w.pupilAID)
		if err != nil || len(list) != 1 || list[0].ID != mat.ID {
			t.Fatalf("the pupil's list: %v %+v", err, list)
		}
		link, err := w.m.Link(ctx, w.pupilA, mat.ID)
		if err != nil {
			t.Fatal(err)
		}
		status, got := fetch(t, link.URL)
		if gs := sha256.Sum256(got); status != 200 || gs != sum {
			t.Fatalf("download: %d, %d bytes, sha256 differs: %v", status, len(got), gs != sum)
		}
		// A pupil of another classroom gets nothing.
		if _, err := w.m.Link(ctx, w.pupilB, mat.ID); !errors.Is(err, people.ErrNotFound) {
			t.Fatalf("another classroom's pupil: %v", err)
		}
		if l, _ := w.m.ForPupil(ctx, w.pupilB, w.pupilB.ID); len(l) != 0 {
			t.Fatalf("another classroom's pupil lists %+v", l)
		}
		// A teacher of another classroom may not upload to this one.
		in2 := in
		in2.ClassroomID = w.classB
		if _, err := w.m.Upload(ctx, w.teacher, in2, bytes.NewReader(body)); !errors.Is(err, people.ErrNotFound) {
			t.Fatalf("upload to a classroom not the teacher's: %v", err)
		}
		// Refused uploads leave nothing behind.
		w.m.MaxSize = 1 << 20
		if _, err := w.m.Upload(ctx, w.teacher, in, newPDF(2<<20)); !errors.Is(err, ErrTooLarge) {
			t.Fatalf("too large: %v", err)
		}
		html := in
		html.Filename = "page.pdf" // the claimed name does not matter: the bytes are HTML
		if _, err := w.m.Upload(ctx, w.teacher, html, strings.NewReader("<!DOCTYPE html><script>alert(1)</script>")); !errors.Is(err, ErrBadType) {
			t.Fatalf("HTML: %v", err)
		}
		keys, err := w.m.store.List(ctx, "materials/", time.Now().Add(time.Hour))
		if err != nil || len(keys) != 1 {
			t.Fatalf("objects after refused uploads: %v %v", err, keys)
		}
		if l, _ := w.m.ForClassroom(ctx, w.teacher, w.classA); len(l) != 1 {
			t.Fatalf("records after refused uploads: %d", len(l))
		}
		// The sweep removes an object whose record is gone, and only that.
		if err := w.m.store.Put(ctx, "materials/mat-orphan", strings.NewReader("left over"), -1, "text/plain"); err != nil {
			t.Fatal(err)
		}
		if n, err := w.m.Sweep(ctx, -time.Hour); err != nil || n != 1 {
			t.Fatalf("sweep: %d %v", n, err)
		}
		if status, _ := fetch(t, link.URL); status != 200 {
			t.Fatalf("the sweep took a recorded object: %d", status)
		}
		// Deleting removes record and object; the old link stops working.
		if err := w.m.Delete(ctx, w.pupilA, mat.ID); !errors.Is(err, people.ErrForbidden) {
			t.Fatalf("a pupil deleting: %v", err)
		}
		if err := w.m.Delete(ctx, w.teacher, mat.ID); err != nil {
			t.Fatal(err)
		}
		if status, _ := fetch(t, link.URL); status == 200 {
			t.Fatal("a deleted material still downloads")
		}
		if keys, _ := w.m.store.List(ctx, "materials/", time.Now().Add(time.Hour)); len(keys) != 0 {
			t.Fatalf("objects left after delete: %v", keys)
		}
	})
}

// A 150 MB upload streams: the heap stays far below the file's size.
func TestLargeUploadStreamsWithBoundedMemory(t *testing.T) {
	eachStore(t, func(t *testing.T, w *materialWorld) {
		ctx := context.Background()
		const size = 150 << 20
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		var peak atomic.Uint64
		done := make(chan struct{})
		go func() {
			var ms runtime.MemStats
			for {
				select {
				case <-done:
					return
				case <-time.After(20 * time.Millisecond):
				}
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > peak.Load() {
					peak.Store(ms.HeapInuse)
				}
			}
		}()
		start := time.Now()
		mat, err := w.m.Upload(ctx, w.teacher, Input{ClassroomID: w.classA, Title: "Recorded lesson notes", LessonDate: "2026-11-24",
			Filename: "big.pdf"}, newPDF(size))
		close(done)
		if err != nil {
			t.Fatal(err)
		}
		grew := int64(peak.Load()) - int64(before.HeapInuse)
		t.Logf("150 MB upload in %s; heap in use grew by at most %.1f MiB", time.Since(start).Round(time.Millisecond), float64(grew)/(1<<20))
		if mat.Size != size {
			t.Fatalf("size %d", mat.Size)
		}
		if grew > 48<<20 {
			t.Fatalf("the heap grew by %d MiB during a 150 MB upload: not streaming", grew>>20)
		}
		h := sha256.New()
		_, _ = io.Copy(h, newPDF(size))
		if hex.EncodeToString(h.Sum(nil)) != mat.SHA256 {
			t.Fatal("sha256 differs from the bytes sent")
		}
	})
}

func TestSniffType(t *testing.T) {
	for _, tc := range []struct {
		head, name, want string
	}{
		{"%PDF-1.7", "a.pdf", "application/pdf"},
		{"%PDF-1.7", "a.exe", "application/pdf"},
		{"\x89PNG\r\n\x1a\n", "a.png", "image/png"},
		{"PK\x03\x04", "w.docx", officeTypes[".docx"]},
		{"PK\x03\x04", "w.zip", ""},
		{"plain words", "notes.txt", "text/plain; charset=utf-8"},
		{"plain words", "notes.html", ""},
		{"<!DOCTYPE html>", "x.txt", ""},
		{"<svg xmlns='http://www.w3.org/2000/svg'>", "x.txt", ""},
		{"MZ\x90\x00", "setup.pdf", ""},
	} {
		if got := sniffType([]byte(tc.head), tc.name); got != tc.want {
			t.Errorf("%q as %s: %q, want %q", tc.head, tc.name, got, tc.want)
		}
	}
}

// Material attached to a phase of a pupil's plan reaches that pupil even
// from another classroom; nobody else gains access.
func TestMaterialAttachedToAPhase(t *testing.T) {
	ds, err := NewDirStore(t.TempDir(), "http://127.0.0.1:1", []byte("a test secret of enough bytes"))
	if err != nil {
		t.Fatal(err)
	}
	w := newMaterialWorld(t, ds)
	ctx := context.Background()
	mat, err := w.m.Upload(ctx, w.teacher, Input{ClassroomID: w.classA, Title: "Reading list", LessonDate: "2026-11-23",
		Filename: "list.txt"}, strings.NewReader("Books for the holidays."))
	if err != nil {
		t.Fatal(err)
	}
	pl, err := plans.New(w.m.db, w.m.people, w.m.reports).Create(ctx, w.sys, w.pupilB.ID, plans.Input{Status: plans.Active,
		StartsOn: "2026-11-16", EndsOn: "2026-12-18",
		Phases: []plans.Phase{{Name: "Robot mornings", StartsOn: "2026-11-16", EndsOn: "2026-12-18", SchoolSessions: 2, RobotSessions: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.m.Link(ctx, w.pupilB, mat.ID); !errors.Is(err, people.ErrNotFound) {
		t.Fatalf("before attaching: %v", err)
	}
	if err := w.m.AttachToPhase(ctx, w.teacher, pl.Phases[0].ID, mat.ID); !errors.Is(err, people.ErrForbidden) {
		t.Fatalf("a teacher attaching: %v", err)
	}
	if err := w.m.AttachToPhase(ctx, w.sys, pl.Phases[0].ID, "mat-none"); !errors.Is(err, people.ErrNotFound) {
		t.Fatalf("attaching a missing material: %v", err)
	}
	if err := w.m.AttachToPhase(ctx, w.sys, pl.Phases[0].ID, mat.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := w.m.Link(ctx, w.pupilB, mat.ID); err != nil {
		t.Fatalf("after attaching, pupil B: %v", err)
	}
	if l, _ := w.m.ForPupil(ctx, w.pupilB, w.pupilB.ID); len(l) != 1 || l[0].PhaseID != pl.Phases[0].ID {
		t.Fatalf("pupil B's list: %+v", l)
	}
	if _, err := w.m.Link(ctx, w.pupilA, mat.ID); err != nil {
		t.Fatalf("pupil A lost their class's material: %v", err)
	}
}
