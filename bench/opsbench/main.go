// Command opsbench measures a built edgeauth binary against an in-process
// oidctest provider: time from start to the first /healthz 200, idle RSS
// after start, and peak RSS after a number of logins (VmRSS and VmHWM from
// /proc, Linux only).
//
//	CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /tmp/edgeauth .
//	go run ./bench/opsbench -bin /tmp/edgeauth -runs 5 -logins 1000
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/edgeauth/edgeauth/oidc/oidctest"
)

const (
	clientID = "bench"
	secret   = "bench-secret-bench-secret"
	redirect = "http://127.0.0.1/callback"
)

func main() {
	bin := flag.String("bin", "/tmp/edgeauth", "edgeauth binary")
	runs := flag.Int("runs", 5, "runs")
	logins := flag.Int("logins", 1000, "logins per run")
	flag.Parse()

	op := oidctest.NewServer(oidctest.Options{Clients: []oidctest.Client{{ID: clientID, Secret: secret, RedirectURIs: []string{redirect}}}})
	defer op.Close()
	keys, err := exec.Command(*bin, "keygen").Output()
	if err != nil {
		log.Fatalf("keygen: %v", err)
	}
	var starts, firstURLs []time.Duration
	var idle, peak []int
	for i := range *runs {
		s, u, r, h := run(*bin, op, string(keys), *logins)
		fmt.Printf("run %d: start→healthz %v, start→first /oauth2/url 200 %v, idle VmRSS %d kB, after %d logins VmHWM %d kB\n", i+1, s, u, r, *logins, h)
		starts, firstURLs, idle, peak = append(starts, s), append(firstURLs, u), append(idle, r), append(peak, h)
	}
	slices.Sort(starts)
	slices.Sort(firstURLs)
	slices.Sort(idle)
	slices.Sort(peak)
	m := len(starts) / 2
	fmt.Printf("median of %d: start→healthz %v, start→first /oauth2/url 200 %v, idle VmRSS %d kB, peak VmHWM %d kB after %d logins\n", *runs, starts[m], firstURLs[m], idle[m], peak[m], *logins)
}

func freePort() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func run(bin string, op *oidctest.Server, keys string, logins int) (time.Duration, time.Duration, int, int) {
	addr := freePort()
	env := []string{
		"EDGEAUTH_ENV=development", "EDGEAUTH_ADDR=" + addr, "EDGEAUTH_PUBLIC_URL=http://" + addr,
		"EDGEAUTH_PROVIDERS=op", "EDGEAUTH_OP_ISSUER=" + op.Issuer(), "EDGEAUTH_OP_CLIENT_ID=" + clientID,
		"EDGEAUTH_OP_CLIENT_SECRET=" + secret, "EDGEAUTH_OP_REDIRECT_URI=" + redirect,
		"EDGEAUTH_RATE_LIMIT=0", "EDGEAUTH_LOG_LEVEL=error",
	}
	for _, line := range strings.Split(strings.TrimSpace(keys), "\n") {
		env = append(env, strings.ReplaceAll(line, "'", ""))
	}
	cmd := exec.Command(bin, "serve")
	cmd.Env = env
	cmd.Stderr = os.Stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		log.Fatal(err)
	}
	defer func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() }()
	base := "http://" + addr
	c := &http.Client{Timeout: 5 * time.Second}
	var ready time.Duration
	for {
		res, err := c.Get(base + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				ready = time.Since(start)
				break
			}
		}
		if time.Since(start) > 10*time.Second {
			log.Fatal("edgeauth did not become healthy")
		}
		time.Sleep(time.Millisecond) // polling an external process: there is nothing to wait on
	}
	// The first login start: discovery is warming up in the background, and
	// the request waits for that same fetch.
	var firstURL time.Duration
	for {
		res, err := c.Get(base + "/oauth2/url?provider=op&binding=bench-binding-first-url")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				firstURL = time.Since(start)
				break
			}
		}
		if time.Since(start) > 10*time.Second {
			log.Fatal("no /oauth2/url 200 within 10 s")
		}
		time.Sleep(time.Millisecond)
	}
	// Idle: after the background warm-up has settled.
	for {
		res, err := c.Get(base + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				break
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	idle := procKB(cmd.Process.Pid, "VmRSS")
	for i := range logins {
		login(c, base, op, fmt.Sprintf("bench-binding-%08d", i))
	}
	return ready, firstURL, idle, procKB(cmd.Process.Pid, "VmHWM")
}

func login(c *http.Client, base string, op *oidctest.Server, binding string) {
	res, err := c.Get(base + "/oauth2/url?provider=op&binding=" + binding)
	if err != nil {
		log.Fatal(err)
	}
	var u struct{ URL string }
	_ = json.NewDecoder(res.Body).Decode(&u)
	res.Body.Close()
	cb, err := op.Login(u.URL, "ada@example.com")
	if err != nil {
		log.Fatal(err)
	}
	q := cb.Query()
	body, _ := json.Marshal(map[string]string{"provider": "op", "code": q.Get("code"), "state": q.Get("state"), "iss": q.Get("iss"), "binding": binding})
	res, err = c.Post(base+"/oauth2/token", "application/json", bytes.NewReader(body))
	if err != nil {
		log.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		log.Fatalf("token: %d", res.StatusCode)
	}
}

func procKB(pid int, field string) int {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			var kb int
			fmt.Sscanf(strings.TrimSpace(v), "%d", &kb)
			return kb
		}
	}
	return 0
}
