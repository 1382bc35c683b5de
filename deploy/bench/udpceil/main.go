// Command udpceil measures the machine's raw ceiling for the SFU's kind of
// traffic: 1200-byte UDP datagrams sent and received on loopback, by
// pairs of sockets in parallel, for a few seconds. docs/BENCHMARKS.md
// compares the SFU's forwarded packet rate with it.
//
//	go run ./deploy/bench/udpceil -seconds 3 -pairs 2 [-json]
//
// It only ever sends to 127.0.0.1, to sockets it opened itself, and stops
// after -seconds (at most 30).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

type result struct {
	Cores        int     `json:"cores"`
	Pairs        int     `json:"pairs"`
	Size         int     `json:"size_bytes"`
	Seconds      float64 `json:"seconds"`
	SentPPS      float64 `json:"sent_packets_per_second"`
	ReceivedPPS  float64 `json:"received_packets_per_second"`
	ReceivedMbit float64 `json:"received_mbit_per_second"`
	LossPct      float64 `json:"loss_pct"`
}

func main() {
	seconds := flag.Float64("seconds", 3, "how long to send (at most 30)")
	pairs := flag.Int("pairs", runtime.GOMAXPROCS(0), "sender/receiver socket pairs in parallel (1 to 64)")
	size := flag.Int("size", 1200, "datagram size in bytes (64 to 1472)")
	asJSON := flag.Bool("json", false, "print JSON")
	flag.Parse()
	if *seconds <= 0 || *seconds > 30 || *pairs < 1 || *pairs > 64 || *size < 64 || *size > 1472 {
		fmt.Fprintln(os.Stderr, "udpceil: -seconds 0 to 30, -pairs 1 to 64, -size 64 to 1472")
		os.Exit(2)
	}
	r, err := run(time.Duration(*seconds*float64(time.Second)), *pairs, *size)
	if err != nil {
		fmt.Fprintln(os.Stderr, "udpceil:", err)
		os.Exit(1)
	}
	if *asJSON {
		_ = json.NewEncoder(os.Stdout).Encode(r)
		return
	}
	fmt.Printf("loopback UDP, %d-byte datagrams, %d pairs on %d cores, %.1f s: sent %.0f pkt/s, received %.0f pkt/s (%.0f Mbit/s), loss %.2f%%\n",
		r.Size, r.Pairs, r.Cores, r.Seconds, r.SentPPS, r.ReceivedPPS, r.ReceivedMbit, r.LossPct)
}

func run(d time.Duration, pairs, size int) (result, error) {
	var sent, received atomic.Int64
	var wg sync.WaitGroup
	deadline := time.Now().Add(d)
	var conns []*net.UDPConn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := 0; i < pairs; i++ {
		rx, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			return result{}, err
		}
		tx, err := net.DialUDP("udp4", nil, rx.LocalAddr().(*net.UDPAddr))
		if err != nil {
			return result{}, err
		}
		conns = append(conns, rx, tx)
		_ = rx.SetReadBuffer(4 << 20)
		wg.Add(2)
		go func() {
			defer wg.Done()
			buf := make([]byte, 2048)
			for {
				_ = rx.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
				if _, err := rx.Read(buf); err != nil {
					if time.Now().After(deadline) {
						return
					}
					continue
				}
				received.Add(1)
			}
		}()
		go func() {
			defer wg.Done()
			pkt := make([]byte, size)
			for n := 0; ; n++ {
				if n%256 == 0 && time.Now().After(deadline) {
					return
				}
				if _, err := tx.Write(pkt); err == nil {
					sent.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	secs := d.Seconds()
	r := result{Cores: runtime.NumCPU(), Pairs: pairs, Size: size, Seconds: secs,
		SentPPS: float64(sent.Load()) / secs, ReceivedPPS: float64(received.Load()) / secs}
	r.ReceivedMbit = r.ReceivedPPS * float64(size) * 8 / 1e6
	if s := sent.Load(); s > 0 {
		r.LossPct = 100 * float64(s-received.Load()) / float64(s)
	}
	return r, nil
}
