package main

import (
	"bufio"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/courier-proxy/courier/testbed"
)

// TestImage builds courier and courierctl exactly as the Dockerfile's
// build stage does, runs courier with the image's environment (its ENV
// lines: every interface of the container; only the ports moved to free
// ones) and a mounted configuration, and checks that it listens on every
// interface, accepts a client, and that the image's HEALTHCHECK command
// passes.
func TestImage(t *testing.T) {
	dockerfile, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var builds []string
	env := map[string]string{}
	var health []string
	for _, line := range strings.Split(strings.ReplaceAll(string(dockerfile), "\\\n", " "), "\n") {
		switch {
		case strings.HasPrefix(line, "RUN CGO_ENABLED=0"):
			for _, b := range strings.Split(strings.TrimPrefix(line, "RUN "), "&&") {
				builds = append(builds, strings.TrimSpace(b))
			}
		case strings.HasPrefix(line, "ENV "):
			k, v, _ := strings.Cut(strings.TrimPrefix(line, "ENV "), "=")
			env[k] = v
		case strings.HasPrefix(line, "HEALTHCHECK "):
			m := regexp.MustCompile(`CMD \[(.*)\]`).FindStringSubmatch(line)
			for _, a := range strings.Split(m[1], ",") {
				health = append(health, strings.Trim(strings.TrimSpace(a), `"`))
			}
		}
	}
	if len(builds) != 2 || env["COURIER_LISTEN"] == "" || env["COURIER_ADMIN"] == "" || len(health) == 0 {
		t.Fatalf("the Dockerfile's builds %q, environment %v, health check %q", builds, env, health)
	}
	out := t.TempDir()
	for _, b := range builds {
		// "CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/X ./cmd/X"
		b = strings.ReplaceAll(b, "/out/", out+"/")
		args := strings.Fields(strings.ReplaceAll(b, `-ldflags="-s -w"`, "-ldflags=-s_-w"))
		for i, a := range args {
			args[i] = strings.ReplaceAll(a, "-s_-w", "-s -w")
		}
		cmd := exec.Command(args[1], args[2:]...)
		cmd.Dir, cmd.Env = "../..", append(os.Environ(), args[0])
		if o, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", b, err, o)
		}
	}

	lc := testbed.ClusterT(t, filepath.Join(t.TempDir(), "db"), 1, 1)
	port, err := testbed.FreePorts(2)
	if err != nil {
		t.Fatal(err)
	}
	mounted := filepath.Join(t.TempDir(), "courier.yaml")
	yaml := fmt.Sprintf("users: [{name: app, password: app}]\nclusters:\n  - name: main\n    user: %s\n    password: %s\n    primary: {address: %q}\n    replicas: [{address: %q}]\n",
		lc.Spec.User, lc.Spec.Password, lc.Primary(0).Addr, lc.Replicas(0)[0].Addr)
	if err := os.WriteFile(mounted, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	withPort := func(addr string, p int) string {
		host, _, _ := strings.Cut(addr, ":")
		if host != "0.0.0.0" {
			t.Fatalf("the image listens on %q: not every interface", addr)
		}
		return host + ":" + strconv.Itoa(p)
	}
	listen, admin := withPort(env["COURIER_LISTEN"], port), withPort(env["COURIER_ADMIN"], port+1)
	courier := exec.Command(filepath.Join(out, "courier"), "--config", mounted)
	courier.Env = append(os.Environ(), "COURIER_LISTEN="+listen, "COURIER_ADMIN="+admin)
	courier.Stderr = os.Stderr
	if err := courier.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = courier.Process.Kill()
		_ = courier.Wait()
	}()

	// The image's health check, its admin address moved like the rest.
	check := append([]string(nil), health...)
	for i, a := range check {
		if strings.HasSuffix(a, ":9104") {
			check[i] = "127.0.0.1:" + strconv.Itoa(port+1)
		}
	}
	check[0] = filepath.Join(out, filepath.Base(check[0]))
	var last []byte
	for end := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if last, err = exec.Command(check[0], check[1:]...).CombinedOutput(); err == nil {
			break
		}
		if time.Now().After(end) {
			t.Fatalf("the health check did not pass: %v\n%s", err, last)
		}
	}
	if !listensOnAll(t, port) {
		t.Fatalf("port %d is not bound to every interface", port)
	}
	db, err := sql.Open("mysql", fmt.Sprintf("app:app@tcp(127.0.0.1:%d)/", port))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var one int
	if err := db.QueryRow("SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("a client through the image's binary: %d, %v", one, err)
	}
}

// listensOnAll reports whether a TCP socket listens on port on every
// IPv4 (0.0.0.0) or IPv6 (::) interface, from /proc/net.
func listensOnAll(t *testing.T, port int) bool {
	hex := fmt.Sprintf(":%04X", port)
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		file, err := os.Open(f)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(file)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) > 3 && fields[3] == "0A" && strings.HasSuffix(fields[1], hex) {
				addr := strings.TrimSuffix(fields[1], hex)
				if strings.Trim(addr, "0") == "" {
					file.Close()
					return true
				}
			}
		}
		file.Close()
	}
	return false
}
