package config

import (
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Every SEATLINK_ variable that any code or script of the repository
// reads or sets is either a serve setting or known to be another tool's:
// serve refuses unknown ones, so a test helper's variable in the
// environment must not stop the server (the clean-clone CI run found
// SEATLINK_TEST_S3_* doing just that).
func TestEveryEnvironmentVariableIsKnown(t *testing.T) {
	c := Defaults()
	fsys := flag.NewFlagSet("x", flag.ContinueOnError)
	c.bind(fsys)
	known := map[string]bool{}
	fsys.VisitAll(func(f *flag.Flag) { known[EnvName(f.Name)] = true })
	re := regexp.MustCompile(`SEATLINK_[A-Z0-9_]*[A-Z0-9]`)
	root := filepath.Join("..", "..")
	found := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "seatlink-data" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() || !(strings.HasSuffix(p, ".go") || strings.HasSuffix(p, ".sh")) || strings.HasSuffix(p, "_test.go") && strings.Contains(p, "internal/config") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, name := range re.FindAllString(string(b), -1) {
			found++
			if strings.HasPrefix(name, "SEATLINK_PG_") || strings.HasPrefix(name, "SEATLINK_MINIO_") || strings.HasPrefix(name, "SEATLINK_LIVEKIT_") {
				continue // the test scripts' own shell variables, never exported
			}
			if !known[name] && !allowedElsewhere[name] {
				t.Errorf("%s uses %s: neither a serve setting nor in allowedElsewhere, so serve would refuse to start with it set", p, name)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found == 0 {
		t.Fatal("found no SEATLINK_ names: the walk read nothing")
	}
}
