package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"seatlink/engagement"
	"seatlink/internal/config"
	"seatlink/internal/store"
	"seatlink/internal/store/storetest"
	"seatlink/people"
)

// cutProxy forwards TCP to a target until cut: then the listener closes
// (new connections are refused) and every open connection is dropped, as
// when the database's host goes away; restore listens again.
type cutProxy struct {
	addr, target string
	mu           sync.Mutex
	ln           net.Listener
	conns        map[net.Conn]bool
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	p := &cutProxy{target: target, conns: map[net.Conn]bool{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(p.cut)
	return p
}

func (p *cutProxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns[c], p.conns[up] = true, true
			p.mu.Unlock()
			go func() { _, _ = io.Copy(up, c); up.Close() }()
			go func() { _, _ = io.Copy(c, up); c.Close() }()
		}
	}()
}

func (p *cutProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

func (p *cutProxy) restore(t *testing.T) {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	p.serve(ln)
}

// A database outage is reported as one, and loses no evidence: while the
// store is unreachable a signed-in teacher gets 503 store_unavailable (not
// "sign in first"), a right password is not "wrong", /readyz fails so no
// traffic is sent here, and engagement events are kept; when the store is
// back they are all stored and everything answers again.
func TestStoreOutageIsReportedAndLosesNoEvidence(t *testing.T) {
	base := os.Getenv(storetest.EnvURL)
	if base == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not set", storetest.EnvURL)
		}
		t.Skipf("%s not set; run deploy/test.sh", storetest.EnvURL)
	}
	ctx := context.Background()
	admin, err := store.Open(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "outage_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newCutProxy(t, u.Host)
	u.Host = proxy.addr
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	a := testAppWith(t, func(c *config.Serve) { c.DatabaseURL = u.String() })
	link := newTestLink(t, a)
	teacher := signInStaff(t, a, link.LAID, link.SchoolID, people.RoleTeacher)
	ready := func() int {
		resp, err := http.Get(a.baseURL() + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if ready() != 200 {
		t.Fatal("not ready before the outage")
	}

	proxy.cut()
	if status, body := teacher.do("GET", "/api/v1/session", nil); status != 503 || !contains(body, "store_unavailable") {
		t.Errorf("a signed-in teacher during the outage: %d %s, want 503 store_unavailable", status, body)
	}
	if status, body := teacher.do("GET", "/api/v1/pupils", nil); status != 503 || !contains(body, "store_unavailable") {
		t.Errorf("a list during the outage: %d %s", status, body)
	}
	fresh := &staffClient{t: t, base: a.baseURL(), c: &http.Client{Timeout: 20 * time.Second}}
	if status, body := fresh.do("POST", "/api/v1/session", map[string]string{"email": "nobody@outage.test", "password": "a long enough password"}); status != 503 {
		t.Errorf("a sign-in during the outage: %d %s, want 503", status, body)
	}
	if got := ready(); got != 503 {
		t.Errorf("/readyz during the outage: %d, want 503", got)
	}
	for i := 0; i < 40; i++ {
		a.recorder.Record(engagement.Event{At: time.Now(), PupilID: link.PupilID, LinkID: link.RobotID, Kind: engagement.MediaAlive, Value: 5})
	}
	a.recorder.Flush() // tried once, kept

	proxy.restore(t)
	waitFor(t, 20*time.Second, "ready again", func() bool { return ready() == 200 })
	waitFor(t, 30*time.Second, "the 40 events kept through the outage", func() bool {
		a.recorder.Flush()
		evs, err := engagement.Events(ctx, a.db, link.PupilID, time.Now().Add(-time.Hour), time.Now().Add(time.Minute))
		return err == nil && len(evs) == 40
	})
	if a.recorder.Dropped() != 0 {
		t.Errorf("%d events dropped", a.recorder.Dropped())
	}
	if status, body := teacher.do("GET", "/api/v1/session", nil); status != 200 {
		t.Errorf("the teacher after the outage: %d %s", status, body)
	}
}

func contains(b []byte, s string) bool { return strings.Contains(string(b), s) }
