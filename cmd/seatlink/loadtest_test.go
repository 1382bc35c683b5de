package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"seatlink/devices/sim"
	"seatlink/people"
)

// The CI smoke run of the load test: 2 links for 5 seconds against a real
// server. Every link gets media, latency is measured, the server's
// figures are read. (Here the server runs in the test's own process, so
// its CPU and memory include the load's; the command against a separate
// server process reports them apart.)
func TestLoadtestSmoke(t *testing.T) {
	a := testApp(t)
	bg := context.Background()
	la, _ := a.people.CreateLA(bg, people.System, "Load LA")
	sys := people.System
	sys.LAID = la.ID
	const pw = "load test admin password"
	if _, err := a.people.CreateStaff(bg, sys, people.StaffInput{Role: people.RoleAdmin, Email: "load@x.test", Name: "L", Password: pw}); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SEATLINK_LOADTEST_ADMIN_PASSWORD", pw)
	out := filepath.Join(t.TempDir(), "report.json")
	var stdout, stderr bytes.Buffer
	err := loadtestCmd(bg, []string{"--server", a.baseURL(), "--metrics", a.metricsURL(), "--admin-email", "load@x.test", "--links", "2", "--seconds", "5",
		"--bitrate", "500000", "--json", out}, &stdout, &stderr)
	t.Logf("\n%s", stdout.String())
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rep sim.LoadReport
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.LinksWithMedia != 2 || rep.ForwardLatency.N == 0 || rep.ForwardLatency.P99 <= 0 || rep.JoinToKeyframe.N != 2 ||
		rep.ForwardedMbitS <= 0 || rep.ServerCPUSeconds <= 0 || rep.ServerRSSMiB <= 0 || rep.LoadCPUSeconds <= 0 {
		t.Fatalf("implausible report %+v", rep)
	}
	// The load test drives loopback only.
	for _, bad := range []string{"http://10.0.0.1:8080", "http://example.org", "ftp:"} {
		if err := loadtestCmd(bg, []string{"--server", bad, "--admin-email", "x"}, &stdout, &stderr); err == nil {
			t.Errorf("--server %s was accepted", bad)
		}
	}
}
