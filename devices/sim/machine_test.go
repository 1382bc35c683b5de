package sim

import (
	"os"
	"testing"
)

func TestParseProcStat(t *testing.T) {
	// A command name with spaces and a parenthesis, as /proc allows.
	line := "4242 (sea link) x) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 150 0 0 20 0 12 0 100 123456789 2560 18446744073709551615"
	got, err := parseProcStat(line)
	if err != nil {
		t.Fatal(err)
	}
	if got.cpu != 4 {
		t.Errorf("cpu = %v s, want 4 (250 + 150 ticks)", got.cpu)
	}
	if want := 2560 * float64(os.Getpagesize()) / (1 << 20); got.rssMiB != want {
		t.Errorf("rss = %v MiB, want %v", got.rssMiB, want)
	}
	for _, bad := range []string{"", "4242 no name S 1", "1 (x) S 1 2", "1 (x) S 1 1 1 0 -1 0 0 0 0 0 u s 0 0 20 0 1 0 1 1 r"} {
		if _, err := parseProcStat(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	if s, err := procStat(os.Getpid()); err != nil || s.rssMiB <= 0 {
		t.Errorf("own process: %+v %v", s, err)
	}
}

func TestParseRcvbufErrors(t *testing.T) {
	snmp := "Ip: Forwarding DefaultTTL\nIp: 1 64\nUdp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors\nUdp: 12502828 282 3698660 16202594 3698661 0\nUdpLite: InDatagrams\nUdpLite: 0\n"
	if got := parseRcvbufErrors(snmp); got != 3698661 {
		t.Errorf("got %d, want 3698661", got)
	}
	if got := parseRcvbufErrors("Udp: InDatagrams\nUdp: 5\n"); got != 0 {
		t.Errorf("no such column: got %d", got)
	}
}
