// Command report writes docs/BENCHMARKS.md from the JSON that
// deploy/bench/run.sh collected: the machine, the UDP ceiling and one row
// per load test size.
//
//	go run ./deploy/bench/report -dir RESULTS -out docs/BENCHMARKS.md
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"

	"seatlink/devices/sim"
)

type ceiling struct {
	Cores       int     `json:"cores"`
	Pairs       int     `json:"pairs"`
	Size        int     `json:"size_bytes"`
	ReceivedPPS float64 `json:"received_packets_per_second"`
	ReceivedMb  float64 `json:"received_mbit_per_second"`
}

func main() {
	dir := flag.String("dir", "", "folder with ceiling.json and links-N.json files")
	out := flag.String("out", "docs/BENCHMARKS.md", "the page to write")
	flag.Parse()
	if err := run(*dir, *out); err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "model name") {
			_, v, _ := strings.Cut(l, ":")
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func run(dir, out string) error {
	var c ceiling
	if b, err := os.ReadFile(filepath.Join(dir, "ceiling.json")); err == nil {
		_ = json.Unmarshal(b, &c)
	}
	reps, err := reports(dir, "links-*.json")
	if err != nil {
		return err
	}
	peer, err := reports(dir, "peer-*.json")
	if err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Benchmarks\n\nWritten by `deploy/bench/run.sh` on %s. Machine: %d cores (%s), Go %s, %s/%s.\n"+
		"The machine is shared and noisy: compare figures as ratios within one run.\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), runtime.NumCPU(), cpuModel(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	b.WriteString("## Load test (`seatlink loadtest`)\n\nEach link is a robot publishing synthetic VP8 (packetised frames, send time in each payload) and 64 kbit/s Opus, and a pupil publishing Opus; both receive. The server and the load test share the machine; their CPU is reported apart.\n\n")
	b.WriteString("| links | with media | join→video p50/p95/p99 ms | join→keyframe p50/p95/p99 ms | added latency p50/p99 ms | loss % | NACKs | forwarded Mbit/s | packets/s | server cores | cores per Gbit/s | RSS MiB (per link) | goroutines | load test CPU-s | kernel UDP drops |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range reps {
		fmt.Fprintf(&b, "| %d | %d | %.0f / %.0f / %.0f | %.0f / %.0f / %.0f | %.2f / %.2f | %.3f | %.0f | %.1f | %.0f | %.2f | %.2f | %.0f (%.2f) | %.0f | %.1f | %d |\n",
			r.Links, r.LinksWithMedia, r.JoinToFirstVideo.P50, r.JoinToFirstVideo.P95, r.JoinToFirstVideo.P99,
			r.JoinToKeyframe.P50, r.JoinToKeyframe.P95, r.JoinToKeyframe.P99, r.ForwardLatency.P50, r.ForwardLatency.P99,
			r.LossPct, r.NACKs, r.ForwardedMbitS, r.ForwardedPktS, r.ServerCPUSeconds/max(r.Seconds, 1e-9), r.ServerCoresPerGbS,
			r.ServerRSSMiB, r.ServerRSSPerLink, r.ServerGoroutines, r.LoadCPUSeconds, r.KernelUDPDrops)
	}
	if c.ReceivedPPS > 0 {
		fmt.Fprintf(&b, "\n## The machine's ceiling (`deploy/bench/udpceil`)\n\nLoopback UDP, %d-byte datagrams, %d socket pairs: **%.0f packets/s** received (%.0f Mbit/s).\n",
			c.Size, c.Pairs, c.ReceivedPPS, c.ReceivedMb)
		if n := len(reps); n > 0 {
			top := reps[n-1]
			fmt.Fprintf(&b, "\nAt %d links the SFU forwarded %.0f packets/s: %.1f %% of that ceiling (which uses both cores for nothing but the socket calls).\n",
				top.Links, top.ForwardedPktS, 100*top.ForwardedPktS/c.ReceivedPPS)
		}
	}
	b.WriteString("\n## Where it saturates first\n\n")
	b.WriteString(saturation(reps))
	if prof, err := os.ReadFile(filepath.Join(dir, "profile.txt")); err == nil && len(prof) > 0 {
		fmt.Fprintf(&b, "\n## Where the server's time goes (CPU profile in the middle of the %d-link run, `go tool pprof -top -cum`)\n\n```\n%s```\n",
			reps[len(reps)-1].Links, prof)
	}
	b.WriteString(comparison(reps, peer, idleMiB(dir, "idle-seatlink.txt"), idleMiB(dir, "idle-livekit.txt")))
	// The network-lab figures (deploy/bench/netlab.sh) are measured
	// apart: keep their section as it is.
	if old, err := os.ReadFile(out); err == nil {
		b.WriteString(keptSection(string(old), "## Networks"))
	}
	return os.WriteFile(out, []byte(b.String()), 0o644)
}

// reports reads the load test reports matching pattern, smallest first.
func reports(dir, pattern string) ([]sim.LoadReport, error) {
	files, _ := filepath.Glob(filepath.Join(dir, pattern))
	var reps []sim.LoadReport
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var r sim.LoadReport
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		reps = append(reps, r)
	}
	// File names sort by size, then run: keep the runs in order.
	sort.SliceStable(reps, func(i, j int) bool { return reps[i].Links < reps[j].Links })
	return reps, nil
}

// nth is the i-th report (from 0) of a size.
func nth(reps []sim.LoadReport, links, i int) (sim.LoadReport, bool) {
	for _, r := range reps {
		if r.Links == links {
			if i == 0 {
				return r, true
			}
			i--
		}
	}
	return sim.LoadReport{}, false
}

func median(v []float64) float64 {
	s := slices.Sorted(slices.Values(v))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// idleMiB reads a server's resident memory before any load (run.sh
// writes it from /proc), or 0.
func idleMiB(dir, name string) float64 {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return 0
	}
	var v float64
	fmt.Sscan(string(b), &v)
	return v
}

// comparison sets Seatlink's runs beside the peer's at the same sizes:
// server CPU per Gbit/s that reached the subscribers, and memory per link
// above each server's idle footprint, both read from /proc the same way.
func comparison(ours, peer []sim.LoadReport, idleOurs, idlePeer float64) string {
	var b strings.Builder
	b.WriteString("\n## Peer comparison: LiveKit server v1.13.11\n\n")
	if len(peer) == 0 {
		b.WriteString("Not run: LiveKit could not be built or started (see run.sh's output).\n")
		return b.String()
	}
	b.WriteString("The same workload against LiveKit (`deploy/bench/livekit.sh` builds it from the Go module proxy's source into ~/.cache, " +
		"against upstream Pion because its Pion forks are not served; `deploy/bench/livekit` is its load client, the same `sim.Load` engine " +
		"with LiveKit's Go SDK for signalling). Both servers' CPU and memory are read from /proc of their process, and throughput is what " +
		"the load test's subscribers received, so each figure is measured the same way for both. A ratio below 1 means Seatlink uses less.\n\n")
	fmt.Fprintf(&b, "Idle resident memory: Seatlink %.0f MiB, LiveKit %.0f MiB.\n\n", idleOurs, idlePeer)
	b.WriteString("| links | run | with media (Seatlink / LiveKit) | received Mbit/s | server cores | cores per Gbit/s | **ratio** | MiB per link above idle | **ratio** | join→keyframe p95 ms | added latency p99 ms | loss % | load test CPU-s |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	ratio := func(a, p float64) string {
		if p <= 0 {
			return "–"
		}
		return fmt.Sprintf("%.2f", a/p)
	}
	// The runs alternate (Seatlink, then LiveKit, at each size and
	// repeat), so the i-th run of a size on one server pairs with the
	// i-th on the other.
	var cpuRatios, memRatios []float64
	seen := map[int]int{}
	for _, o := range ours {
		i := seen[o.Links]
		seen[o.Links]++
		p, ok := nth(peer, o.Links, i)
		if !ok {
			continue
		}
		memO := (o.ServerRSSMiB - idleOurs) / float64(o.Links)
		memP := (p.ServerRSSMiB - idlePeer) / float64(p.Links)
		if memO <= 0 || memP <= 0 { // the collector gave back more than the links took: too small to tell
			memO, memP = 0, 0
		}
		if o.ServerCoresPerGbS > 0 && p.ServerCoresPerGbS > 0 {
			cpuRatios = append(cpuRatios, o.ServerCoresPerGbS/p.ServerCoresPerGbS)
		}
		if memP > 0 {
			memRatios = append(memRatios, memO/memP)
		}
		fmt.Fprintf(&b, "| %d | %d | %d / %d | %.1f / %.1f | %.2f / %.2f | %.2f / %.2f | %s | %.2f / %.2f | %s | %.0f / %.0f | %.2f / %.2f | %.3f / %.3f | %.1f / %.1f |\n",
			o.Links, i+1, o.LinksWithMedia, p.LinksWithMedia, o.ReceivedMbitS, p.ReceivedMbitS,
			o.ServerCPUSeconds/max(o.Seconds, 1e-9), p.ServerCPUSeconds/max(p.Seconds, 1e-9),
			o.ServerCoresPerGbS, p.ServerCoresPerGbS, ratio(o.ServerCoresPerGbS, p.ServerCoresPerGbS),
			memO, memP, ratio(memO, memP), o.JoinToKeyframe.P95, p.JoinToKeyframe.P95,
			o.ForwardLatency.P99, p.ForwardLatency.P99, o.LossPct, p.LossPct, o.LoadCPUSeconds, p.LoadCPUSeconds)
	}
	if len(cpuRatios) > 0 {
		fmt.Fprintf(&b, "\n**Seatlink's server CPU per Gbit/s delivered, as a ratio of LiveKit's: median %.2f over %d paired runs (%.2f to %.2f).**",
			median(cpuRatios), len(cpuRatios), slices.Min(cpuRatios), slices.Max(cpuRatios))
	}
	if len(memRatios) > 0 {
		fmt.Fprintf(&b, " Memory per link above idle: median %.2f (%.2f to %.2f).", median(memRatios), slices.Min(memRatios), slices.Max(memRatios))
	}
	b.WriteString("\n\nWhere both servers are short of CPU (the largest size, on this machine), each gets what the machine leaves it, " +
		"so the sizes below that are the fairer comparison of what a forwarded Gbit/s costs.\n")
	return b.String()
}

// saturation says which resource ran out first in the largest run.
func saturation(reps []sim.LoadReport) string {
	if len(reps) == 0 {
		return "No runs.\n"
	}
	top := reps[len(reps)-1]
	cores := top.ServerCPUSeconds / max(top.Seconds, 1e-9)
	load := top.LoadCPUSeconds / max(top.Seconds, 1e-9)
	switch {
	case cores+load > 0.9*float64(runtime.NumCPU()):
		who := "the server and the load generator take about the same share"
		if load > 1.2*cores {
			who = "the load generator takes more of it than the server"
		} else if cores > 1.2*load {
			who = "the server takes more of it than the load generator"
		}
		return fmt.Sprintf("CPU: at %d links the server used %.2f cores and the load test %.2f of the %d; the machine is full, so "+
			"latency and join times rise from here (%d links got no media, %.3f %% loss, %d datagrams dropped by the kernel for full "+
			"socket buffers). The packet rate is far below the UDP ceiling and memory far below the machine's, so CPU is the limit, "+
			"and %s.\n", top.Links, cores, load, runtime.NumCPU(), top.LinksFailed, top.LossPct, top.KernelUDPDrops, who)
	case top.LinksFailed > 0:
		return fmt.Sprintf("At %d links, %d links got no media before CPU or memory ran out.\n", top.Links, top.LinksFailed)
	default:
		return fmt.Sprintf("Not reached at %d links: the server used %.2f cores and %.0f MiB.\n", top.Links, cores, top.ServerRSSMiB)
	}
}

// keptSection is the section of page that starts with heading, up to the
// next heading of its level ("" if there is none), with a blank line before.
func keptSection(page, heading string) string {
	i := strings.Index(page, "\n"+heading+"\n")
	if i < 0 {
		return ""
	}
	rest := page[i+1:]
	if j := strings.Index(rest[len(heading):], "\n## "); j >= 0 {
		rest = rest[:len(heading)+j+1]
	}
	return "\n" + strings.TrimRight(rest, "\n") + "\n"
}
