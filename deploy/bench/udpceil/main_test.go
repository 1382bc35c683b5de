package main

import (
	"testing"
	"time"
)

func TestRunSendsAndReceivesOnLoopback(t *testing.T) {
	r, err := run(200*time.Millisecond, 1, 1200)
	if err != nil {
		t.Fatal(err)
	}
	if r.SentPPS <= 0 || r.ReceivedPPS <= 0 || r.ReceivedPPS > r.SentPPS || r.LossPct < 0 {
		t.Fatalf("implausible result %+v", r)
	}
}
