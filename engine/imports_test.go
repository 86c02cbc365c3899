//go:build !js

package engine_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// forbiddenImport is the package engine/ and cyclegan/ must never import.
// Spelled in two parts so that a plain text search for the quoted import
// path finds real imports only, not this test.
const forbiddenImport = "syscall" + "/js"

// pureDirs are the module directories whose packages must stay pure Go:
// everything that touches JavaScript lives in wasm/.
var pureDirs = []string{"engine", "cyclegan"}

// listedPackage is the part of `go list -json` output this test reads.
type listedPackage struct {
	ImportPath   string
	Imports      []string
	TestImports  []string
	XTestImports []string
	Deps         []string
	Module       *struct {
		Path string
		Main bool
	}
}

// TestNoSyscallJS fails if a package of this module under engine/ or
// cyclegan/ imports syscall/js, in its own files or its test files, for the
// native build or for GOOS=js GOARCH=wasm. It also fails if such a package
// depends, directly or not, on another package of this module that imports
// syscall/js (say, one under wasm/). The standard library's own use of
// syscall/js on js/wasm is fine.
func TestNoSyscallJS(t *testing.T) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("go command not found on PATH: %v", err)
	}
	root := moduleRoot(t, goCmd)
	recordInputs(t, root)

	for _, target := range []struct{ name, goos, goarch string }{
		{"native", "", ""},
		{"js/wasm", "js", "wasm"},
	} {
		t.Run(target.name, func(t *testing.T) {
			pkgs := goList(t, goCmd, root, target.goos, target.goarch)
			checkPackages(t, pkgs)
		})
	}
}

func checkPackages(t *testing.T, pkgs []listedPackage) {
	byPath := make(map[string]listedPackage, len(pkgs))
	for _, p := range pkgs {
		byPath[p.ImportPath] = p
	}
	checked := 0
	for _, p := range pkgs {
		if !isPure(p) {
			continue
		}
		checked++
		for _, kind := range []struct {
			what    string
			imports []string
		}{
			{"imports", p.Imports},
			{"test files import", p.TestImports},
			{"external test files import", p.XTestImports},
		} {
			if contains(kind.imports, forbiddenImport) {
				t.Errorf("%s %s syscall/js; code touching JavaScript belongs in wasm/", p.ImportPath, kind.what)
			}
		}
		for _, dep := range p.Deps {
			d, ok := byPath[dep]
			if !ok || d.Module == nil || !d.Module.Main {
				continue // not a package of this module
			}
			if contains(d.Imports, forbiddenImport) {
				t.Errorf("%s depends on %s, which imports syscall/js", p.ImportPath, dep)
			}
		}
	}
	t.Logf("checked %d packages under %s", checked, strings.Join(pureDirs, "/, ")+"/")
	if checked == 0 {
		t.Errorf("found no packages under %v; the go list query is broken", pureDirs)
	}
}

// isPure reports whether p is a package of the main module under one of
// pureDirs.
func isPure(p listedPackage) bool {
	if p.Module == nil || !p.Module.Main {
		return false
	}
	rel, ok := strings.CutPrefix(p.ImportPath, p.Module.Path+"/")
	if !ok {
		return false
	}
	for _, dir := range pureDirs {
		if rel == dir || strings.HasPrefix(rel, dir+"/") {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// moduleRoot returns the directory holding the main module's go.mod.
func moduleRoot(t *testing.T, goCmd string) string {
	t.Helper()
	out, err := exec.Command(goCmd, "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v%s", err, stderrOf(err))
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		t.Fatalf("go env GOMOD = %q: not inside the module", gomod)
	}
	return filepath.Dir(gomod)
}

// recordInputs stats every Go source file and go.mod of the module. The
// go list subprocess's reads are invisible to go test's result cache; the
// test's own stat and directory reads are recorded, so a new, changed or
// removed file anywhere in the module (a new package under engine/, say)
// invalidates a cached pass.
func recordInputs(t *testing.T, root string) {
	t.Helper()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") ||
				name == "testdata" || name == "node_modules" || name == "data") {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(name, ".go") || name == "go.mod" {
			_, err := os.Stat(path)
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walking %s: %v", root, err)
	}
}

// goList lists every package of the module (./..., filtered afterwards, so
// that an empty cyclegan/ is not an error) for the given GOOS/GOARCH; empty
// means native.
func goList(t *testing.T, goCmd, root, goos, goarch string) []listedPackage {
	t.Helper()
	cmd := exec.Command(goCmd, "list", "-e",
		"-json=ImportPath,Imports,TestImports,XTestImports,Deps,Module", "./...")
	cmd.Dir = root
	cmd.Env = os.Environ()
	if goos != "" {
		cmd.Env = append(cmd.Env, "GOOS="+goos, "GOARCH="+goarch)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("GOOS=%s GOARCH=%s go list ./... in %s: %v\n%s", goos, goarch, root, err, stderr.String())
	}
	var pkgs []listedPackage
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listedPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decoding go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	sort.Slice(pkgs, func(i, j int) bool { return pkgs[i].ImportPath < pkgs[j].ImportPath })
	return pkgs
}

func stderrOf(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) && len(ee.Stderr) > 0 {
		return "\n" + string(ee.Stderr)
	}
	return ""
}
