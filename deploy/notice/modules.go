package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// mainPackage is the shipped binary.
const mainPackage = "./cmd/seatlink"

// platforms are the targets the module list is taken for: a module linked
// into the binary on any of them is listed, so NOTICE does not depend on
// the machine that writes it.
var platforms = []struct{ goos, goarch string }{
	{"linux", "amd64"}, {"linux", "arm64"},
	{"darwin", "amd64"}, {"darwin", "arm64"},
	{"windows", "amd64"}, {"windows", "arm64"},
}

// notLicences are files that look like licence files by name but, read by
// a person, are not the licence of code in the binary.
var notLicences = map[string]string{
	"modernc.org/memory/LICENSE-LOGO": "only a link to where logo.png came from; the image is in the repository, not in the binary",
}

type goModule struct {
	Path    string
	Version string
	Dir     string
	Main    bool
	Replace *goModule
}

type goPackage struct {
	ImportPath string
	Dir        string
	Standard   bool
	Module     *goModule
}

// depModule is one module other than the main one with packages in the
// binary.
type depModule struct {
	Path    string
	Version string // as NOTICE shows it, replacement included
	Source  string // module@version to download its source, "" for a local replacement
	Dir     string
	PkgDirs map[string]bool
}

// goCmd runs the go command in dir with extra environment and returns its
// standard output.
func goCmd(dir string, env []string, args ...string) ([]byte, error) {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return out, nil
}

// moduleRoot is the directory of the main module's go.mod.
func moduleRoot() (string, error) {
	out, err := goCmd("", nil, "env", "GOMOD")
	if err != nil {
		return "", err
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside the seatlink module (go env GOMOD is empty)")
	}
	return filepath.Dir(gomod), nil
}

// listDeps returns the modules, other than the main one, of the packages
// that mainPackage is built from on any of the platforms.
func listDeps(root string) ([]*depModule, error) {
	type result struct {
		pkgs []goPackage
		err  error
	}
	var jobs []func() result
	for _, p := range platforms {
		for _, cgo := range []string{"0", "1"} {
			env := []string{"GOOS=" + p.goos, "GOARCH=" + p.goarch, "CGO_ENABLED=" + cgo}
			jobs = append(jobs, func() result {
				out, err := goCmd(root, env, "list", "-deps", "-json=ImportPath,Dir,Standard,Module", mainPackage)
				if err != nil {
					return result{err: fmt.Errorf("%s: %w", strings.Join(env, " "), err)}
				}
				var pkgs []goPackage
				dec := json.NewDecoder(bytes.NewReader(out))
				for {
					var p goPackage
					if err := dec.Decode(&p); err == io.EOF {
						break
					} else if err != nil {
						return result{err: fmt.Errorf("%s: reading go list: %w", strings.Join(env, " "), err)}
					}
					pkgs = append(pkgs, p)
				}
				return result{pkgs: pkgs}
			})
		}
	}
	results := make([]result, len(jobs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for i, job := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			results[i] = job()
		}()
	}
	wg.Wait()

	mods := map[string]*depModule{}
	for _, r := range results {
		if r.err != nil {
			return nil, r.err
		}
		for _, p := range r.pkgs {
			if p.Standard || p.Module == nil || p.Module.Main {
				continue
			}
			m := mods[p.Module.Path]
			if m == nil {
				var err error
				if m, err = newDepModule(p.Module); err != nil {
					return nil, err
				}
				mods[p.Module.Path] = m
			}
			if p.Dir != "" {
				m.PkgDirs[p.Dir] = true
			}
		}
	}
	list := make([]*depModule, 0, len(mods))
	for _, m := range mods {
		list = append(list, m)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Path < list[j].Path })
	return list, nil
}

func newDepModule(gm *goModule) (*depModule, error) {
	m := &depModule{Path: gm.Path, Version: gm.Version, Source: gm.Path + "@" + gm.Version, Dir: gm.Dir, PkgDirs: map[string]bool{}}
	if r := gm.Replace; r != nil {
		switch {
		case r.Version != "":
			m.Version = fmt.Sprintf("%s => %s %s", gm.Version, r.Path, r.Version)
			m.Source = r.Path + "@" + r.Version
		case filepath.IsAbs(r.Path):
			m.Version = fmt.Sprintf("%s => (a local directory)", gm.Version)
			m.Source = ""
		default:
			m.Version = fmt.Sprintf("%s => %s", gm.Version, filepath.ToSlash(r.Path))
			m.Source = ""
		}
		if r.Dir != "" {
			m.Dir = r.Dir
		}
	}
	if m.Version == "" {
		m.Version = "(no version)"
	}
	if m.Dir == "" {
		return nil, fmt.Errorf("module %s has no directory in the module cache (vendor mode? run go mod download)", gm.Path)
	}
	return m, nil
}

var (
	licenceName   = regexp.MustCompile(`(?i)^(licen[cs]e|copying|unlicen[cs]e)([._-].*)?$`)
	licenceDir    = regexp.MustCompile(`(?i)^licen[cs]es?$`)
	aggregateName = regexp.MustCompile(`(?i)(3rd|third)[-_ ]?part(y|ies)`)
	noticeName    = regexp.MustCompile(`(?i)^notice(\.txt|\.md)?$`)
	// sourceExt are endings of program files named like licences
	// (license.go in a package about licence keys, say).
	sourceExt = map[string]bool{".go": true, ".s": true, ".c": true, ".h": true, ".py": true, ".js": true, ".json": true, ".yml": true, ".yaml": true, ".html": true, ".sh": true, ".tmpl": true}
)

// moduleFiles are the files of a module that bear on its licence, as
// slash-separated paths inside the module directory.
type moduleFiles struct {
	Licences   []string // the module's own licence texts
	Aggregates []string // lists of third-party code in the module, each with its licence
	Notices    []string // NOTICE files (Apache-2.0 section 4(d))
}

// findFiles looks for licence files in the module root (and a REUSE-style
// LICENSES directory there), and in each package directory used and the
// directories between it and the root, which may hold the licence of code
// copied from elsewhere.
func findFiles(modDir string, pkgDirs []string) (moduleFiles, error) {
	var mf moduleFiles
	seen := map[string]bool{}
	addLicence := func(rel string) {
		if seen[rel] {
			return
		}
		seen[rel] = true
		if aggregateName.MatchString(filepath.Base(rel)) {
			mf.Aggregates = append(mf.Aggregates, rel)
		} else {
			mf.Licences = append(mf.Licences, rel)
		}
	}
	scan := func(dir string, root bool) error {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return err
		}
		for _, e := range entries {
			full := filepath.Join(dir, e.Name())
			rel, err := filepath.Rel(modDir, full)
			if err != nil {
				return err
			}
			rel = filepath.ToSlash(rel)
			switch {
			case e.IsDir() && root && licenceDir.MatchString(e.Name()):
				sub, err := os.ReadDir(full)
				if err != nil {
					return err
				}
				for _, s := range sub {
					if s.Type().IsRegular() {
						addLicence(rel + "/" + s.Name())
					}
				}
			case !e.Type().IsRegular():
			case licenceName.MatchString(e.Name()) && !sourceExt[strings.ToLower(filepath.Ext(e.Name()))]:
				addLicence(rel)
			case root && noticeName.MatchString(e.Name()):
				mf.Notices = append(mf.Notices, rel)
			}
		}
		return nil
	}
	if err := scan(modDir, true); err != nil {
		return mf, err
	}
	dirs := map[string]bool{}
	for _, d := range pkgDirs {
		for {
			rel, err := filepath.Rel(modDir, d)
			if err != nil || rel == "." || strings.HasPrefix(rel, "..") {
				break
			}
			dirs[d] = true
			d = filepath.Dir(d)
		}
	}
	sorted := make([]string, 0, len(dirs))
	for d := range dirs {
		sorted = append(sorted, d)
	}
	sort.Strings(sorted)
	for _, d := range sorted {
		if err := scan(d, false); err != nil {
			return mf, err
		}
	}
	sort.Strings(mf.Licences)
	sort.Strings(mf.Aggregates)
	sort.Strings(mf.Notices)
	return mf, nil
}
