package archtest

import (
	"bytes"
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/paddock-lb/paddock"

type pkg struct {
	ImportPath string
	Imports    []string
}

func listPackages(t *testing.T) []pkg {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go command not on PATH; cannot list packages")
	}
	cmd := exec.Command("go", "list", "-json", module+"/...")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("decode go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

func under(path, prefix string) bool {
	return path == prefix || strings.HasPrefix(path, prefix+"/")
}

// TestImportRules checks the direct (non-test) imports of every package.
func TestImportRules(t *testing.T) {
	in := func(p string) string { return module + "/internal/" + p }
	rules := []struct {
		name    string
		applies func(pkg string) bool
		banned  func(imp string) bool
	}{
		{
			name: "the data plane never imports anything ARM or the store",
			applies: func(p string) bool {
				return under(p, in("dataplane")) || under(p, in("proxy")) || under(p, in("maglev")) || under(p, in("health")) || under(p, in("nft"))
			},
			banned: func(i string) bool {
				return under(i, in("arm")) || under(i, in("rp")) || under(i, in("resources")) || under(i, in("armhttp")) || under(i, in("store")) || under(i, in("server"))
			},
		},
		{
			name:    "armhttp reaches the store only through rp",
			applies: func(p string) bool { return under(p, in("armhttp")) },
			banned:  func(i string) bool { return under(i, in("store")) },
		},
		{
			name:    "rp does not depend on the HTTP boundary or the server",
			applies: func(p string) bool { return under(p, in("rp")) },
			banned: func(i string) bool {
				return under(i, in("armhttp")) || under(i, in("server")) || under(i, "net/http/httptest")
			},
		},
		{
			name:    "arm and resources are vocabulary: no Paddock imports beyond arm and extra",
			applies: func(p string) bool { return under(p, in("arm")) || under(p, in("resources")) },
			banned: func(i string) bool {
				return under(i, module) && !under(i, in("arm")) && !under(i, in("resources"))
			},
		},
		{
			name:    "lbplan is a pure compile: no store, providers, HTTP or running data plane",
			applies: func(p string) bool { return under(p, in("lbplan")) },
			banned: func(i string) bool {
				return under(i, in("store")) || under(i, in("rp")) || under(i, in("armhttp")) || under(i, in("server")) ||
					under(i, in("controller")) || under(i, in("proxy")) || i == "net" || i == "net/http" || i == "os"
			},
		},
		{
			name:    "the controller does not know HTTP",
			applies: func(p string) bool { return under(p, in("controller")) },
			banned:  func(i string) bool { return under(i, in("armhttp")) || under(i, in("server")) || i == "net/http" },
		},
		{
			name:    "bbolt lives in boltstore only",
			applies: func(p string) bool { return !under(p, in("store/boltstore")) },
			banned:  func(i string) bool { return under(i, "go.etcd.io/bbolt") },
		},
		{
			name:    "the etcd client lives in etcdstore only",
			applies: func(p string) bool { return !under(p, in("store/etcdstore")) },
			banned:  func(i string) bool { return under(i, "go.etcd.io/etcd") },
		},
		{
			name:    "nftables lives in nft only",
			applies: func(p string) bool { return !under(p, in("nft")) },
			banned: func(i string) bool {
				return under(i, "github.com/google/nftables") || under(i, "sigs.k8s.io/knftables")
			},
		},
		{
			name:    "store backends do not import the layers above them",
			applies: func(p string) bool { return under(p, in("store")) },
			banned: func(i string) bool {
				return under(i, module) && !under(i, in("store"))
			},
		},
	}
	pkgs := listPackages(t)
	if len(pkgs) < 5 {
		t.Fatalf("go list found only %d packages", len(pkgs))
	}
	for _, r := range rules {
		t.Run(r.name, func(t *testing.T) {
			for _, p := range pkgs {
				if !r.applies(p.ImportPath) {
					continue
				}
				for _, imp := range p.Imports {
					if r.banned(imp) {
						t.Errorf("%s imports %s", p.ImportPath, imp)
					}
				}
			}
		})
	}
}
