package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
)

// entry is one line of NOTICE's table.
type entry struct {
	Path       string
	Version    string
	Source     string       // module@version of its source; "" if replaced by a local directory
	Licences   []string     // SPDX identifiers, sorted
	Aggregates []string     // files listing third-party code inside the module
	Notices    []noticeText // the module's NOTICE files
}

type noticeText struct {
	File string
	Text string
}

const stdlibName = "Go standard library"

// gather reads the module graph of the binary and every module's licence
// files. problems are the reasons NOTICE may not be written: a licence off
// the allow-list, or one that cannot be identified.
func gather(root string) (entries []entry, problems []string, err error) {
	out, err := goCmd(root, nil, "env", "GOROOT")
	if err != nil {
		return nil, nil, err
	}
	goroot := strings.TrimSpace(string(out))
	out, err = goCmd(root, nil, "list", "-m", "-f", "{{.GoVersion}}")
	if err != nil {
		return nil, nil, err
	}
	std := entry{Path: stdlibName, Version: "go" + strings.TrimSpace(string(out)) + "+"}
	text, err := os.ReadFile(filepath.Join(goroot, "LICENSE"))
	if err != nil {
		return nil, nil, fmt.Errorf("the Go standard library's licence: %w", err)
	}
	std.Licences = Classify(string(text))
	problems = append(problems, judge(stdlibName, "", "$GOROOT/LICENSE", std.Licences)...)
	entries = append(entries, std)

	deps, err := listDeps(root)
	if err != nil {
		return nil, nil, err
	}
	for _, m := range deps {
		pkgDirs := make([]string, 0, len(m.PkgDirs))
		for d := range m.PkgDirs {
			pkgDirs = append(pkgDirs, d)
		}
		files, err := findFiles(m.Dir, pkgDirs)
		if err != nil {
			return nil, nil, fmt.Errorf("%s %s: %w", m.Path, m.Version, err)
		}
		e := entry{Path: m.Path, Version: m.Version, Source: m.Source}
		ids := map[string]bool{}
		unidentified := 0
		for _, rel := range files.Licences {
			text, err := os.ReadFile(filepath.Join(m.Dir, filepath.FromSlash(rel)))
			if err != nil {
				return nil, nil, err
			}
			found := Classify(string(text))
			if len(found) == 0 {
				if _, ok := notLicences[m.Path+"/"+rel]; ok {
					continue
				}
			}
			if len(found) == 0 {
				unidentified++
			}
			problems = append(problems, judge(m.Path, m.Version, rel, found)...)
			for _, id := range found {
				ids[id] = true
			}
		}
		for id := range ids {
			e.Licences = append(e.Licences, id)
		}
		sort.Strings(e.Licences)
		if len(e.Licences) == 0 && unidentified == 0 {
			problems = append(problems, fmt.Sprintf("%s %s: no licence file in the module root or the package directories used (%s): find its licence before shipping it",
				m.Path, m.Version, filepath.ToSlash(m.Dir)))
		}
		for _, rel := range files.Aggregates {
			text, err := os.ReadFile(filepath.Join(m.Dir, filepath.FromSlash(rel)))
			if err != nil {
				return nil, nil, err
			}
			// Such a list also names code the module's tests use and code
			// in its repository that is built into nothing, so only the
			// refused licences in it count.
			found := Classify(string(text))
			var refused []string
			for _, id := range found {
				if _, ok := allowed[id]; !ok {
					refused = append(refused, id)
				}
			}
			if len(found) == 0 {
				problems = append(problems, fmt.Sprintf("%s %s: %s: cannot identify any licence in this list of third-party code", m.Path, m.Version, rel))
			} else if len(refused) > 0 {
				problems = append(problems, fmt.Sprintf("%s %s: %s names third-party code under %s, not on the allow-list: read it to see whether that code is in the binary",
					m.Path, m.Version, rel, strings.Join(refused, ", ")))
			}
			e.Aggregates = append(e.Aggregates, rel)
		}
		for _, rel := range files.Notices {
			text, err := os.ReadFile(filepath.Join(m.Dir, filepath.FromSlash(rel)))
			if err != nil {
				return nil, nil, err
			}
			if t := tidy(string(text)); t != "" {
				e.Notices = append(e.Notices, noticeText{File: rel, Text: t})
			}
		}
		entries = append(entries, e)
	}
	return entries, problems, nil
}

// judge returns a problem for a licence file whose licences cannot be
// identified or are not all on the allow-list.
func judge(module, version, file string, ids []string) []string {
	name := strings.TrimSpace(module + " " + version)
	if len(ids) == 0 {
		return []string{fmt.Sprintf("%s: cannot identify the licence in %s: read it, then teach deploy/notice/classify.go its wording (if it is on the allow-list) or, if the file is no licence, list it in notLicences in deploy/notice/modules.go", name, file)}
	}
	var out []string
	for _, id := range ids {
		if _, ok := allowed[id]; !ok {
			out = append(out, fmt.Sprintf("%s: %s is %s, which is not on the allow-list of licences compatible with shipping an Apache-2.0 binary (%s): drop the dependency or have its licence reviewed",
				name, file, id, strings.Join(allowedIDs(), ", ")))
		}
	}
	return out
}

func allowedIDs() []string {
	ids := make([]string, 0, len(allowed))
	for id := range allowed {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// tidy drops carriage returns, spaces at line ends, and blank lines at the
// start and end.
func tidy(s string) string {
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t\r")
	}
	return strings.Trim(strings.Join(lines, "\n"), "\n")
}

const header = "Seatlink\nCopyright 2026 The Seatlink authors\n\nThis product is licensed under the Apache License 2.0 (see LICENSE). The seatlink binary includes the following software, each under its own licence; the full texts are in each module's source (go mod download -json <module>@<version>).\n"

// render writes NOTICE. entries[0] is the Go standard library; the rest
// are modules sorted by path.
func render(entries []entry) []byte {
	var b bytes.Buffer
	b.WriteString(header)
	b.WriteString(`
Listed are the modules of the packages in "go list -deps ./cmd/seatlink"
on linux, darwin and windows, amd64 and arm64, with and without cgo, and
the standard library of the Go toolchain that builds it (the version go.mod
asks for or later). Modules that only the tests use (chromedp and others)
are not in the binary and are not listed. deploy/notice writes this file
("go run ./deploy/notice"); "go run ./deploy/notice -check", part of
deploy/test.sh, fails when it is out of date or a licence is not on the
allow-list.

`)
	tw := tabwriter.NewWriter(&b, 0, 8, 2, ' ', 0)
	for _, e := range entries {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", e.Path, e.Version, strings.Join(e.Licences, ", "))
	}
	tw.Flush()

	var mpl, agg []string
	for _, e := range entries {
		for _, id := range e.Licences {
			if id != "MPL-2.0" {
				continue
			}
			if e.Source == "" {
				mpl = append(mpl, fmt.Sprintf("  %s %s: replaced by a local directory, whose source must be published with the binary\n", e.Path, e.Version))
			} else {
				mpl = append(mpl, fmt.Sprintf("  %s %s: used unmodified; its source is at https://pkg.go.dev/%s and from go mod download -json %s\n",
					e.Path, e.Version, e.Source, e.Source))
			}
		}
		for _, f := range e.Aggregates {
			agg = append(agg, fmt.Sprintf("  %s %s: %s\n", e.Path, e.Version, f))
		}
	}
	if len(mpl) > 0 {
		b.WriteString("\nUnder the Mozilla Public License 2.0 (file-level copyleft; Seatlink does not\nmodify these files):\n")
		b.WriteString(strings.Join(mpl, ""))
	}
	if len(agg) > 0 {
		b.WriteString("\nThese modules contain code from other projects, listed with its licences in\nthe file named (all of them on the allow-list for what is in the binary):\n")
		b.WriteString(strings.Join(agg, ""))
	}
	first := true
	for _, e := range entries {
		for _, n := range e.Notices {
			if first {
				b.WriteString("\nThe NOTICE files of the modules above, reproduced as section 4(d) of the\nApache License 2.0 asks:\n")
				first = false
			}
			fmt.Fprintf(&b, "\n----- %s %s: %s -----\n%s\n", e.Path, e.Version, n.File, n.Text)
		}
	}
	return b.Bytes()
}

// lineDiff lists, up to max, the lines only in want (+) and only in have (-).
func lineDiff(have, want []byte, max int) []string {
	count := map[string]int{}
	for _, l := range strings.Split(string(have), "\n") {
		count[l]--
	}
	for _, l := range strings.Split(string(want), "\n") {
		count[l]++
	}
	var out []string
	for _, l := range strings.Split(string(have), "\n") {
		if count[l] < 0 {
			out = append(out, "- "+l)
			count[l]++
		}
	}
	for _, l := range strings.Split(string(want), "\n") {
		if count[l] > 0 {
			out = append(out, "+ "+l)
			count[l]--
		}
	}
	if len(out) > max {
		out = append(out[:max], fmt.Sprintf("  (%d more)", len(out)-max))
	}
	return out
}
