package main

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"flag"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"seatlink/internal/config"
)

// The README's serve rows name the HTTPS and TURN flags, and every flag
// they name is a real one.
func TestReadmeServeRowsNameRealFlags(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, fs, err := config.LoadServe(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	fs.VisitAll(func(f *flag.Flag) { known[f.Name] = true })
	var rows strings.Builder
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "| `seatlink serve") {
			rows.WriteString(line + "\n")
		}
	}
	for _, m := range regexp.MustCompile("--([a-z][a-z0-9-]+)").FindAllStringSubmatch(rows.String(), -1) {
		if !known[m[1]] {
			t.Errorf("the README's serve rows name --%s, which serve does not have", m[1])
		}
	}
	for _, f := range []string{"tls-cert", "tls-key", "tls-self-signed", "acme-domain", "acme-directory", "acme-email", "acme-cache", "acme-ca",
		"redirect-addr", "turn-udp", "turn-tcp", "turn-tls", "turn-relay-ip", "turn-relay-ports", "turn-host", "turn-secret", "turn-ttl"} {
		if !strings.Contains(rows.String(), "`--"+f) && !strings.Contains(rows.String(), " --"+f) {
			t.Errorf("the README's serve rows do not list --%s", f)
		}
	}
}

// With --turn-secret, the turn: URLs of --ice-servers (an external
// coturn with static-auth-secret) get a credential per join that coturn's
// own check accepts; stun: URLs are handed out as they are.
func TestExternalTURNCredentials(t *testing.T) {
	const secret = "a-long-shared-secret-for-coturn"
	a := testAppWith(t, func(c *config.Serve) {
		c.TURNSecret = secret
		c.ICEServers = []string{"stun:stun.example.org:3478", "turn:turn.example.org:3478?transport=udp"}
	})
	ice := a.sfu.ICEServersFor("peer-9")
	if len(ice) != 2 || ice[0].URLs[0] != "stun:stun.example.org:3478" || ice[0].Username != "" ||
		ice[1].URLs[0] != "turn:turn.example.org:3478?transport=udp" {
		t.Fatalf("ICE servers %+v", ice)
	}
	user := ice[1].Username
	exp, peer, _ := strings.Cut(user, ":")
	e, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || peer != "peer-9" {
		t.Fatalf("username %q: want EXPIRY:PEER", user)
	}
	if d := time.Until(time.Unix(e, 0)); d < 29*time.Minute || d > 31*time.Minute {
		t.Fatalf("credential valid for %s, want the 30m --turn-ttl", d)
	}
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write([]byte(user))
	if want := base64.StdEncoding.EncodeToString(mac.Sum(nil)); ice[1].Credential != want {
		t.Fatalf("password %v, want coturn's %s", ice[1].Credential, want)
	}
	// Two joins, two credentials.
	if other := a.sfu.ICEServersFor("peer-10"); other[1].Username == user {
		t.Fatal("two peers got the same TURN username")
	}
}
