package router

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestImportDirection keeps the layers apart: the parser sees only the
// standard library and sqlparser; the router (a pure planner) never sees
// the proxy, the network or a driver; sharding functions do not import
// the plan engine; sqlerr is a leaf.
func TestImportDirection(t *testing.T) {
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	out, err := exec.Command(gobin, "list", "-json=ImportPath,Imports,Deps", "../...").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	const mod = "github.com/courier-proxy/courier/"
	dec := json.NewDecoder(strings.NewReader(string(out)))
	seen := 0
	for ; dec.More(); seen++ {
		var p struct {
			ImportPath    string
			Imports, Deps []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		name := strings.TrimPrefix(p.ImportPath, mod)
		for _, imp := range p.Imports {
			own := strings.HasPrefix(imp, mod)
			switch {
			case name == "parser" && !isStd(imp) && imp != "vitess.io/vitess/go/vt/sqlparser" && imp != "vitess.io/vitess/go/sqltypes":
				t.Errorf("parser imports %s", imp)
			case name == "sqlerr" && !isStd(imp) && imp != "github.com/go-mysql-org/go-mysql/mysql":
				t.Errorf("sqlerr imports %s; it takes only SQLSTATEs from go-mysql", imp)
			case strings.HasPrefix(name, "router") && imp == mod+"config":
				t.Errorf("%s imports config; the schema is built from it by package layout", name)
			case strings.HasPrefix(name, "router") && (imp == "net" || strings.Contains(imp, "mysql") ||
				(own && strings.HasPrefix(strings.TrimPrefix(imp, mod), "proxy"))):
				t.Errorf("%s imports %s", name, imp)
			case name == "router/vindex" && own:
				t.Errorf("router/vindex imports %s", imp)
			case imp == "github.com/spf13/viper" && name != "config":
				t.Errorf("%s imports viper; only config may", name)
			}
		}
	}
	if seen < 10 {
		t.Fatalf("go list reported %d packages; expected the whole module", seen)
	}
}

func isStd(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}
