package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestFindFiles(t *testing.T) {
	mod := t.TempDir()
	files := map[string]string{
		"LICENSE":                    mit,
		"LICENSE-GO":                 bsd3,
		"LICENSES/CC0-1.0.txt":       cc0,
		"LICENSE-3RD-PARTY.md":       "third-party code",
		"NOTICE":                     "Example\nCopyright 2020\n",
		"license.go":                 "package m // a package about licence keys",
		"used/deep/pkg/LICENSE":      bsd2,
		"used/COPYING":               isc,
		"used/deep/pkg/code.go":      "package pkg",
		"unused/LICENSE":             gpl3,
		"used/deep/pkg/sub/NOTICE":   "a NOTICE below the root is not the module's",
		"used/deep/pkg/licence.json": "{}",
	}
	for name, text := range files {
		p := filepath.Join(mod, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := findFiles(mod, []string{filepath.Join(mod, "used", "deep", "pkg"), mod})
	if err != nil {
		t.Fatal(err)
	}
	want := moduleFiles{
		Licences:   []string{"LICENSE", "LICENSE-GO", "LICENSES/CC0-1.0.txt", "used/COPYING", "used/deep/pkg/LICENSE"},
		Aggregates: []string{"LICENSE-3RD-PARTY.md"},
		Notices:    []string{"NOTICE"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("findFiles =\n%+v\nwant\n%+v", got, want)
	}
}

func TestNewDepModuleReplace(t *testing.T) {
	tests := []struct {
		m       goModule
		version string
		source  string
		dir     string
	}{
		{goModule{Path: "a.example/m", Version: "v1.0.0", Dir: "/c/a@v1.0.0"}, "v1.0.0", "a.example/m@v1.0.0", "/c/a@v1.0.0"},
		{goModule{Path: "a.example/m", Version: "v1.0.0", Dir: "/c/b@v1.1.0", Replace: &goModule{Path: "b.example/m", Version: "v1.1.0", Dir: "/c/b@v1.1.0"}},
			"v1.0.0 => b.example/m v1.1.0", "b.example/m@v1.1.0", "/c/b@v1.1.0"},
		{goModule{Path: "a.example/m", Version: "v1.0.0", Dir: "/src/fork", Replace: &goModule{Path: "../fork", Dir: "/src/fork"}},
			"v1.0.0 => ../fork", "", "/src/fork"},
		{goModule{Path: "a.example/m", Version: "v1.0.0", Dir: "/src/fork", Replace: &goModule{Path: "/src/fork", Dir: "/src/fork"}},
			"v1.0.0 => (a local directory)", "", "/src/fork"},
	}
	for _, tt := range tests {
		m, err := newDepModule(&tt.m)
		if err != nil {
			t.Fatal(err)
		}
		if m.Version != tt.version || m.Source != tt.source || m.Dir != tt.dir {
			t.Errorf("%+v: version %q source %q dir %q, want %q %q %q", tt.m, m.Version, m.Source, m.Dir, tt.version, tt.source, tt.dir)
		}
	}
	if _, err := newDepModule(&goModule{Path: "a.example/m", Version: "v1.0.0"}); err == nil {
		t.Error("a module without a directory was accepted")
	}
}

func TestRender(t *testing.T) {
	entries := []entry{
		{Path: stdlibName, Version: "go1.26.8+", Licences: []string{"BSD-3-Clause"}},
		{Path: "a.example/lib", Version: "v1.2.3", Licences: []string{"Apache-2.0", "MIT"},
			Notices: []noticeText{{File: "NOTICE", Text: "Lib\nCopyright 2020 Lib authors"}}},
		{Path: "b.example/mpl", Version: "v0.1.0", Source: "b.example/mpl@v0.1.0", Licences: []string{"MPL-2.0"}},
		{Path: "b.example/mpl2", Version: "v0.2.0 => ../mpl2", Licences: []string{"MPL-2.0"}},
		{Path: "c.example/c", Version: "v2.0.0", Licences: []string{"BSD-3-Clause"}, Aggregates: []string{"LICENSE-3RD-PARTY.md"}},
	}
	out := string(render(entries))
	if !strings.HasPrefix(out, header) {
		t.Fatalf("NOTICE does not start with the header:\n%s", out)
	}
	for _, want := range []string{
		"Modules that only the tests use (chromedp and others)",
		"Go standard library  go1.26.8+          BSD-3-Clause\n",
		"a.example/lib        v1.2.3             Apache-2.0, MIT\n",
		"b.example/mpl        v0.1.0             MPL-2.0\n",
		"b.example/mpl v0.1.0: used unmodified; its source is at https://pkg.go.dev/b.example/mpl@v0.1.0 and from go mod download -json b.example/mpl@v0.1.0\n",
		"b.example/mpl2 v0.2.0 => ../mpl2: replaced by a local directory, whose source must be published with the binary\n",
		"c.example/c v2.0.0: LICENSE-3RD-PARTY.md",
		"----- a.example/lib v1.2.3: NOTICE -----\nLib\nCopyright 2020 Lib authors\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("NOTICE lacks %q:\n%s", want, out)
		}
	}
	if again := string(render(entries)); again != out {
		t.Error("render is not deterministic")
	}
	noMPL := string(render(entries[:2]))
	if strings.Contains(out, "/tmp") || strings.Contains(out, "\t") {
		t.Errorf("NOTICE has an absolute path or a tab:\n%s", out)
	}
	if strings.Contains(noMPL, "Mozilla") {
		t.Errorf("MPL section without an MPL module:\n%s", noMPL)
	}
}

func TestLineDiff(t *testing.T) {
	have := []byte("a\nb\nc\n")
	want := []byte("a\nc\nd\n")
	got := lineDiff(have, want, 10)
	if !reflect.DeepEqual(got, []string{"- b", "+ d"}) {
		t.Fatalf("lineDiff = %q", got)
	}
	if got := lineDiff(have, have, 10); len(got) != 0 {
		t.Fatalf("lineDiff of equal texts = %q", got)
	}
}

func TestTidy(t *testing.T) {
	if got := tidy("\r\n\nA  \r\nB\t\n\n"); got != "A\nB" {
		t.Fatalf("tidy = %q", got)
	}
}
