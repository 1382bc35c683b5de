package sim

// What the load test reads of the server and the machine, apart from the
// media: the server's Prometheus metrics, its process in /proc, the
// kernel's UDP counters and the load test's own CPU time.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// scrape reads the server's Prometheus metrics from their URL (serve
// --metrics-addr): sums of each name's series.
func scrape(ctx context.Context, metricsURL string) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", metricsURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		name, rest, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		if i := strings.IndexByte(name, '{'); i >= 0 {
			name = name[:i]
		}
		v, err := strconv.ParseFloat(strings.Fields(rest)[0], 64)
		if err == nil {
			out[name] += v
		}
	}
	return out, sc.Err()
}

// udpRcvbufErrors reads the kernel's count of UDP datagrams dropped for a
// full receive buffer (/proc/net/snmp), or 0 where there is none.
func udpRcvbufErrors() int64 {
	b, err := os.ReadFile("/proc/net/snmp")
	if err != nil {
		return 0
	}
	return parseRcvbufErrors(string(b))
}

func parseRcvbufErrors(snmp string) int64 {
	var names []string
	for _, line := range strings.Split(snmp, "\n") {
		if !strings.HasPrefix(line, "Udp: ") {
			continue
		}
		f := strings.Fields(line)[1:]
		if names == nil {
			names = f
			continue
		}
		for i, n := range names {
			if n == "RcvbufErrors" && i < len(f) {
				v, _ := strconv.ParseInt(f[i], 10, 64)
				return v
			}
		}
	}
	return 0
}

type procSample struct{ cpu, rssMiB float64 }

// procStat reads a process's CPU time (user + system) and resident memory
// from /proc; pid 0 reads nothing.
func procStat(pid int) (procSample, error) {
	if pid == 0 {
		return procSample{}, nil
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procSample{}, err
	}
	return parseProcStat(string(b))
}

// parseProcStat reads utime, stime (fields 14, 15, in clock ticks of
// 1/100 s on Linux) and rss (field 24, in 4 KiB pages) from a
// /proc/PID/stat line; the command name (field 2) may hold spaces and
// parentheses, so fields are counted from its closing one.
func parseProcStat(line string) (procSample, error) {
	i := strings.LastIndexByte(line, ')')
	if i < 0 {
		return procSample{}, errors.New("/proc stat: no command name")
	}
	f := strings.Fields(line[i+1:]) // f[0] is field 3 (state)
	if len(f) < 22 {
		return procSample{}, errors.New("/proc stat: too few fields")
	}
	num := func(k int) (float64, error) { return strconv.ParseFloat(f[k-3], 64) }
	ut, err1 := num(14)
	st, err2 := num(15)
	rss, err3 := num(24)
	if err := errors.Join(err1, err2, err3); err != nil {
		return procSample{}, fmt.Errorf("/proc stat: %w", err)
	}
	return procSample{cpu: (ut + st) / 100, rssMiB: rss * float64(os.Getpagesize()) / (1 << 20)}, nil
}

// selfCPU is this process's CPU time in seconds (user + system).
func selfCPU() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime)
}
