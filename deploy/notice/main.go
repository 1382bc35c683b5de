// Command notice writes NOTICE: the modules linked into the seatlink
// binary, each with the licence its own licence files hold. With -check it
// writes nothing and fails when NOTICE is not what it would write, or when
// a module's licence is not on the allow-list or cannot be identified.
//
//	go run ./deploy/notice          # write NOTICE
//	go run ./deploy/notice -check   # deploy/test.sh runs this
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

func main() {
	check := flag.Bool("check", false, "do not write NOTICE; fail if it is out of date or a licence is refused")
	flag.Parse()
	os.Exit(run(*check))
}

func run(check bool) int {
	root, err := moduleRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "notice:", err)
		return 2
	}
	entries, problems, err := gather(root)
	if err != nil {
		fmt.Fprintln(os.Stderr, "notice:", err)
		return 2
	}
	for _, p := range problems {
		fmt.Fprintln(os.Stderr, "notice: licence:", p)
	}
	want := render(entries)
	path := filepath.Join(root, "NOTICE")
	have, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintln(os.Stderr, "notice:", err)
		return 2
	}
	if check {
		failed := len(problems) > 0
		if !bytes.Equal(have, want) {
			failed = true
			if have == nil {
				fmt.Fprintln(os.Stderr, "notice: there is no NOTICE: run go run ./deploy/notice")
			} else {
				fmt.Fprintln(os.Stderr, "notice: NOTICE is out of date (a dependency was added, removed or upgraded, or its licence files changed): run go run ./deploy/notice")
				for _, l := range lineDiff(have, want, 20) {
					fmt.Fprintln(os.Stderr, "   ", l)
				}
			}
		}
		if failed {
			return 1
		}
		fmt.Fprintf(os.Stderr, "notice: NOTICE is current; %d entries, every licence on the allow-list\n", len(entries))
		return 0
	}
	if len(problems) > 0 {
		fmt.Fprintln(os.Stderr, "notice: NOTICE not written")
		return 1
	}
	if bytes.Equal(have, want) {
		fmt.Fprintf(os.Stderr, "notice: NOTICE already current (%d entries)\n", len(entries))
		return 0
	}
	if err := os.WriteFile(path, want, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "notice:", err)
		return 2
	}
	fmt.Fprintf(os.Stderr, "notice: wrote NOTICE (%d entries)\n", len(entries))
	return 0
}
