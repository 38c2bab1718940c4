// Command op is the OpenID Provider of the benchmark (bench/run): an
// oidctest provider on a loopback port with one known client, so that
// edgeauth and oauth2-proxy can be pointed at the same provider, and a
// login driver that measures edgeauth's CPU time per whole login.
//
//	op -addr 127.0.0.1:9100 -redirect http://127.0.0.1:9200/callback,http://127.0.0.1:9300/oauth2/callback
//
// prints "issuer <URL>" once it listens. GET /bench/logins?edge=<edgeauth
// URL>&pid=<edgeauth pid>&n=2000&c=8 then runs n logins, c at a time
// (GET /oauth2/url, sign-in at this provider without HTTP, POST
// /oauth2/token) and answers the CPU time edgeauth spent (utime + stime
// from /proc/<pid>/stat) per login. Everything runs against loopback only.
//
//	op -wait http://127.0.0.1:9200/healthz edgeauth serve
//
// starts the command (its output to op's stderr), polls the URL every 100 µs (for
// at most 10 s) and prints the command's pid and the microseconds from its
// start to the first 200, then exits leaving the command running: bench/run
// takes the start-up time from it.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/edgeauth/edgeauth/oidc/oidctest"
)

// The client both services are configured with.
const (
	clientID     = "bench"
	clientSecret = "bench-secret"
	provider     = "bench" // edgeauth's name for this provider
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address (loopback)")
	redirects := flag.String("redirect", "", "comma-separated redirect URIs of the client")
	wait := flag.String("wait", "", "start the command in the arguments, poll this URL until it answers 200")
	flag.Parse()
	if *wait != "" {
		pid, d, err := startAndWait(*wait, flag.Args())
		if err != nil {
			fmt.Fprintln(os.Stderr, "op:", err)
			os.Exit(1)
		}
		fmt.Println(pid, d.Microseconds())
		return
	}
	if err := run(*addr, strings.Split(*redirects, ",")); err != nil {
		fmt.Fprintln(os.Stderr, "op:", err)
		os.Exit(1)
	}
}

func run(addr string, redirects []string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	if !ln.Addr().(*net.TCPAddr).IP.IsLoopback() {
		return errors.New("refusing a non-loopback address")
	}
	base := "http://" + ln.Addr().String()
	op, err := oidctest.New(oidctest.Options{
		Issuer:  base + "/op",
		Clients: []oidctest.Client{{ID: clientID, Secret: clientSecret, RedirectURIs: redirects}},
	})
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/op/", op)
	mux.HandleFunc("GET /bench/logins", func(w http.ResponseWriter, r *http.Request) {
		res, err := drive(r.Context(), op, r.URL.Query())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		_, _ = io.WriteString(w, res)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	fmt.Println("issuer", op.Issuer())

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(shut)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// drive runs the logins of a /bench/logins request and reports edgeauth's
// CPU time per login.
func drive(ctx context.Context, op *oidctest.Provider, q url.Values) (string, error) {
	edge := q.Get("edge")
	if u, err := url.Parse(edge); err != nil || u.Hostname() != "127.0.0.1" {
		return "", errors.New("edge must be an http://127.0.0.1:port URL")
	}
	pid, err := strconv.Atoi(q.Get("pid"))
	if err != nil {
		return "", errors.New("pid: not a number")
	}
	n, _ := strconv.Atoi(q.Get("n"))
	c, _ := strconv.Atoi(q.Get("c"))
	n, c = max(n, 1), min(max(c, 1), 64)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: c}}

	// Warm up: discovery and JWKS fetched, connections open.
	for range c {
		if err := login(ctx, client, op, edge); err != nil {
			return "", fmt.Errorf("warm-up login: %w", err)
		}
	}
	cpu0, err := procCPU(pid)
	if err != nil {
		return "", err
	}
	start := time.Now()
	var next, failed atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	for range c {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				if err := login(ctx, client, op, edge); err != nil {
					failed.Add(1)
					once.Do(func() { firstErr = err })
				}
			}
		})
	}
	wg.Wait()
	wall := time.Since(start)
	cpu1, err := procCPU(pid)
	if err != nil {
		return "", err
	}
	if failed.Load() > 0 {
		return "", fmt.Errorf("%d of %d logins failed, first: %w", failed.Load(), n, firstErr)
	}
	per := (cpu1 - cpu0) / time.Duration(n)
	return fmt.Sprintf("logins %d concurrency %d wall %.2fs logins/s %.0f edgeauth_cpu_us_per_login %.0f\n",
		n, c, wall.Seconds(), float64(n)/wall.Seconds(), float64(per)/float64(time.Microsecond)), nil
}

// login is one whole login as an app does it, with the binding parameter
// (no cookie): the provider's part runs in this process, so edgeauth's
// CPU time is its own.
func login(ctx context.Context, client *http.Client, op *oidctest.Provider, edge string) error {
	const binding = "bench-binding-0123456789abcdef"
	var u struct {
		URL   string `json:"url"`
		State string `json:"state"`
	}
	if err := call(ctx, client, http.MethodGet, edge+"/oauth2/url?provider="+provider+"&binding="+binding, nil, &u); err != nil {
		return err
	}
	cb, err := op.Login(u.URL, "bench@example.com")
	if err != nil {
		return err
	}
	q := cb.Query()
	body, _ := json.Marshal(map[string]string{
		"provider": provider, "code": q.Get("code"), "state": q.Get("state"), "iss": q.Get("iss"), "binding": binding,
	})
	return call(ctx, client, http.MethodPost, edge+"/oauth2/token", body, nil)
}

func call(ctx context.Context, client *http.Client, method, u string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %d %.200s", method, req.URL.Path, res.StatusCode, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// procCPU returns the user plus system CPU time of process pid, from
// fields 14 and 15 of /proc/<pid>/stat (proc(5)), in clock ticks of 1/100 s
// on Linux.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	return parseStat(b)
}

// parseStat reads utime and stime from the text of /proc/<pid>/stat.
func parseStat(b []byte) (time.Duration, error) {
	// The command name (field 2) may hold blanks; fields after it follow
	// its closing parenthesis.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("unexpected /proc stat format")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("unexpected /proc stat format")
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("unexpected /proc stat format")
	}
	const tick = 10 * time.Millisecond // USER_HZ is 100 on Linux
	return time.Duration(utime+stime) * tick, nil
}

// startAndWait starts args and polls u until it answers 200; it returns
// the process id and how long that took from the start.
func startAndWait(u string, args []string) (int, time.Duration, error) {
	if len(args) == 0 {
		return 0, 0, errors.New("-wait: no command")
	}
	// Warm the client first, so that its own set-up is not counted.
	client := &http.Client{Timeout: 100 * time.Millisecond}
	_, _ = client.Get(u)
	cmd := exec.Command(args[0], args[1:]...)
	// Not our stdout: the caller reads it to its end.
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	t, err := waitOK(client, u, 10*time.Second)
	if err != nil {
		_ = cmd.Process.Kill()
		return 0, 0, err
	}
	return cmd.Process.Pid, t.Sub(start), nil
}

// waitOK polls u until it answers 200 and returns when it did.
func waitOK(client *http.Client, u string, limit time.Duration) (time.Time, error) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		res, err := client.Get(u)
		if err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return time.Now(), nil
			}
		}
		time.Sleep(100 * time.Microsecond)
	}
	return time.Time{}, fmt.Errorf("%s: no 200 within %v", u, limit)
}
