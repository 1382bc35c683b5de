package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"testing"
)

// repoRoot is the repository's top folder (the module root).
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("no go.mod at %s: %v", root, err)
	}
	return root
}

// importRule is one row of docs/ARCHITECTURE.md's import table.
type importRule struct {
	pkg   string   // a package of this module, or "x/..." for x and below
	may   []string // packages of this module it may import (patterns)
	never []string // outside packages it must not import
}

// matches says whether pattern (a package or "x/...") covers pkg.
func matches(pattern, pkg string) bool {
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return pkg == base || strings.HasPrefix(pkg, base+"/")
	}
	return pkg == pattern
}

var backticked = regexp.MustCompile("`([^`]+)`")

// importRules reads the table under "What each room may import": the
// document is the rule, so the two cannot drift apart.
func importRules(t *testing.T, root string) []importRule {
	t.Helper()
	f, err := os.Open(filepath.Join(root, "docs", "ARCHITECTURE.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rules []importRule
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "### What each room may import"):
			in = true
		case in && strings.HasPrefix(line, "#"):
			in = false
		case in && strings.HasPrefix(line, "| `"):
			cells := strings.Split(strings.Trim(line, "|"), "|")
			if len(cells) != 3 {
				t.Fatalf("import table row %q: want 3 cells", line)
			}
			var r importRule
			for i, cell := range cells {
				for _, m := range backticked.FindAllStringSubmatch(cell, -1) {
					switch i {
					case 0:
						r.pkg = m[1]
					case 1:
						r.may = append(r.may, m[1])
					case 2:
						r.never = append(r.never, m[1])
					}
				}
			}
			rules = append(rules, r)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(rules) < 5 {
		t.Fatalf("found %d rows in docs/ARCHITECTURE.md's import table; the heading or the table moved", len(rules))
	}
	return rules
}

// ruleFor is the most specific rule covering pkg: an exact row first,
// then the longest "x/..." row.
func ruleFor(rules []importRule, pkg string) (importRule, bool) {
	var best importRule
	found := false
	for _, r := range rules {
		if r.pkg == pkg {
			return r, true
		}
		if matches(r.pkg, pkg) && (!found || len(r.pkg) > len(best.pkg)) {
			best, found = r, true
		}
	}
	return best, found
}

func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

// TestRoomsImportOneWay holds every package of the module to the import
// table of docs/ARCHITECTURE.md: each package has a row, imports of this
// module only what its row allows, and none of what it must never import;
// every row covers a package, and the rows themselves point one way (no
// room may reach back to itself through others). Test files are not held
// to it: a test may import whatever it exercises.
func TestRoomsImportOneWay(t *testing.T) {
	root := repoRoot(t)
	rules := importRules(t, root)
	cmd := exec.Command(goTool(), "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "./...")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	used := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg, ok := strings.CutPrefix(fields[0], "seatlink/")
		if !ok {
			t.Errorf("package %s is outside the module's folders", fields[0])
			continue
		}
		r, ok := ruleFor(rules, pkg)
		if !ok {
			t.Errorf("%s has no row in docs/ARCHITECTURE.md's import table: add one (which room is it?)", pkg)
			continue
		}
		used[r.pkg] = true
		for _, imp := range fields[1:] {
			if own, ok := strings.CutPrefix(imp, "seatlink/"); ok {
				allowed := false
				for _, m := range r.may {
					allowed = allowed || matches(m, own)
				}
				if !allowed {
					t.Errorf("%s imports %s, which its row (%s) does not allow: move the code, or change the design and the table together", pkg, own, r.pkg)
				}
				continue
			}
			for _, n := range r.never {
				if imp == n {
					t.Errorf("%s imports %s, which its room never does", pkg, imp)
				}
			}
		}
	}
	for _, r := range rules {
		if !used[r.pkg] {
			t.Errorf("docs/ARCHITECTURE.md has a row for %s, but no package matches it", r.pkg)
		}
	}
	// The rows, as a graph of rooms, have no cycle.
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(pkg string, path []string)
	visit = func(pkg string, path []string) {
		switch state[pkg] {
		case 1:
			t.Errorf("the import table has a cycle: %s", strings.Join(append(path, pkg), " → "))
			return
		case 2:
			return
		}
		state[pkg] = 1
		for _, r := range rules {
			if r.pkg != pkg {
				continue
			}
			for _, m := range r.may {
				for _, next := range rules {
					if next.pkg != pkg && (matches(m, strings.TrimSuffix(next.pkg, "/...")) || matches(next.pkg, strings.TrimSuffix(m, "/..."))) {
						visit(next.pkg, append(path, pkg))
					}
				}
			}
		}
		state[pkg] = 2
	}
	pkgs := make([]string, 0, len(rules))
	for _, r := range rules {
		pkgs = append(pkgs, r.pkg)
	}
	sort.Strings(pkgs)
	for _, p := range pkgs {
		visit(p, nil)
	}
}

func TestImportRuleMatching(t *testing.T) {
	rules := []importRule{{pkg: "internal/..."}, {pkg: "devices"}, {pkg: "devices/agent"}, {pkg: "deploy/..."}}
	for _, tc := range []struct {
		pkg, want string
		ok        bool
	}{
		{"internal", "internal/...", true},
		{"internal/store/storetest", "internal/...", true},
		{"internalx", "", false},
		{"devices", "devices", true},
		{"devices/agent", "devices/agent", true},
		{"devices/sim", "", false},
		{"deploy/bench/report", "deploy/...", true},
	} {
		r, ok := ruleFor(rules, tc.pkg)
		if ok != tc.ok || r.pkg != tc.want {
			t.Errorf("ruleFor(%q) = %q, %v; want %q, %v", tc.pkg, r.pkg, ok, tc.want, tc.ok)
		}
	}
}

// TestNothingPointsOutsideTheRepository: a newcomer has only the
// repository, so no file in it may send them to a folder beside it.
func TestNothingPointsOutsideTheRepository(t *testing.T) {
	root := repoRoot(t)
	outside := []byte(".." + "/shared") // spelled in two parts, so this file does not match itself
	n := 0
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); name == ".git" || name == "node_modules" {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		n++
		if bytes.IndexByte(b, 0) >= 0 {
			return nil // binary
		}
		if i := bytes.Index(b, outside); i >= 0 {
			line := bytes.Count(b[:i], []byte("\n")) + 1
			rel, _ := filepath.Rel(root, path)
			t.Errorf("%s:%d points outside the repository (%s); say it here instead", rel, line, outside)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 50 {
		t.Fatalf("walked only %d files from %s", n, root)
	}
}

// TestDocsNameFilesThatExist: every path of the repository that a
// document names in backticks (`media/batchconn.go`, `deploy/notice/`,
// `internal/...`) exists, so a map that sends a newcomer to a file that
// moved fails here instead of in their first hour.
func TestDocsNameFilesThatExist(t *testing.T) {
	root := repoRoot(t)
	tops := map[string]bool{}
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			tops[e.Name()] = true
		}
	}
	docs, _ := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	more, _ := filepath.Glob(filepath.Join(root, "*.md"))
	checked := 0
	for _, doc := range append(docs, more...) {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, doc)
		for _, m := range backticked.FindAllStringSubmatch(string(b), -1) {
			tok := m[1]
			first, _, ok := strings.Cut(tok, "/")
			if !ok || !tops[first] || strings.ContainsAny(tok, " *{}:<>$=?#") {
				continue
			}
			path := strings.TrimSuffix(strings.TrimSuffix(tok, "/..."), "/")
			checked++
			if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(path))); err != nil {
				t.Errorf("%s names %s, which is not in the repository", rel, tok)
			}
		}
	}
	if checked < 20 {
		t.Fatalf("checked only %d paths named in the docs", checked)
	}
}

// TestSystemdUnitsVerify: the units in deploy/systemd pass systemd's own
// check (where systemd-analyze is installed).
func TestSystemdUnitsVerify(t *testing.T) {
	tool, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed")
	}
	units, _ := filepath.Glob(filepath.Join(repoRoot(t), "deploy", "systemd", "*.service"))
	if len(units) == 0 {
		t.Fatal("no units in deploy/systemd")
	}
	// verify checks that each command exists: the units name the
	// installed binary, so a copy names this test's own executable there.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, orig := range units {
		b, err := os.ReadFile(orig)
		if err != nil {
			t.Fatal(err)
		}
		u := filepath.Join(dir, filepath.Base(orig))
		if err := os.WriteFile(u, bytes.ReplaceAll(b, []byte("/usr/local/bin/seatlink"), []byte(self)), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(tool, "verify", u).CombinedOutput()
		if err != nil || len(bytes.TrimSpace(out)) > 0 {
			t.Errorf("%s: %v\n%s", filepath.Base(u), err, out)
		}
	}
}
