package userhook

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestExampleReceivers runs the receivers in ../examples as real processes and checks that
// each accepts what Send signs and refuses what it must. A receiver whose runtime (python3,
// node with `npm ci` done in examples/node, go) is missing is skipped, not failed.
func TestExampleReceivers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	examples := filepath.Join("..", "examples")
	receivers := []struct {
		name    string
		command func(t *testing.T) []string
	}{
		{"python", func(t *testing.T) []string {
			return []string{need(t, "python3"), script(t, examples, "python/receiver.py")}
		}},
		{"node", func(t *testing.T) []string {
			if _, err := os.Stat(filepath.Join(examples, "node", "node_modules", "standardwebhooks")); err != nil {
				t.Skip("examples/node/node_modules missing: run npm ci in examples/node")
			}
			return []string{need(t, "node"), script(t, examples, "node/server.js")}
		}},
		{"go", func(t *testing.T) []string {
			bin := filepath.Join(t.TempDir(), "receiver")
			out, err := exec.Command(need(t, "go"), "build", "-o", bin, "../examples/go").CombinedOutput()
			if err != nil {
				t.Fatalf("go build: %v\n%s", err, out)
			}
			return []string{bin}
		}},
	}
	for _, rc := range receivers {
		t.Run(rc.name, func(t *testing.T) {
			t.Parallel()
			eventsLog := filepath.Join(t.TempDir(), "events.jsonl")
			url := startReceiver(t, rc.command(t),
				"EDGEAUTH_USERHOOK_SECRET="+secretB, // the receiver already has the new secret only
				"DENY_DOMAINS=denied.test, spam.test",
				"EVENTS_LOG="+eventsLog)
			// edgeauth mid-rotation: signs with the old and the new secret.
			c := newTestClient(t, Config{URL: url, Secret: secretA + " " + secretB, Retries: new(0)})

			member := map[string]any{"role": "member"}
			steps := []struct {
				name          string
				provider, sub string
				email         string
				want          Decision
			}{
				{"new user", "google", "s1", "ada@example.com", Decision{Allowed: true, UserID: "user-1", Claims: member}},
				{"known user", "google", "s1", "ada@example.com", Decision{Allowed: true, UserID: "user-1", Claims: member}},
				{"other provider, same subject", "github", "s1", "ada@example.com", Decision{Allowed: true, UserID: "user-2", Claims: member}},
				{"denied domain", "google", "s2", "eve@Denied.TEST", Decision{Message: "Sign-ups from denied.test are not allowed."}},
			}
			for _, s := range steps {
				e := testEvent
				e.Data.Provider, e.Data.Subject, e.Data.Email = s.provider, s.sub, s.email
				got, err := c.Send(t.Context(), e)
				if err != nil {
					t.Fatalf("%s: Send: %v", s.name, err)
				}
				s.want.Attempts = 1
				if !reflect.DeepEqual(got, s.want) {
					t.Errorf("%s: decision = %+v, want %+v", s.name, got, s.want)
				}
			}

			old := newTestClient(t, Config{URL: url, Secret: secretA, Retries: new(0)})
			if _, err := old.Send(t.Context(), testEvent); !isStatus(err, http.StatusUnauthorized) {
				t.Errorf("signed with a secret the receiver lacks: err = %v, want 401", err)
			}
			body, _ := json.Marshal(testEvent)
			if got := postSigned(t, url, secretB, body, bytes.Replace(body, []byte("1234567890"), []byte("1234567891"), 1), time.Now()); got != http.StatusUnauthorized {
				t.Errorf("tampered body: status %d, want 401", got)
			}
			if got := postSigned(t, url, secretB, body, body, time.Now().Add(-6*time.Minute)); got != http.StatusUnauthorized {
				t.Errorf("stale timestamp: status %d, want 401", got)
			}
			if got := postSigned(t, url, secretB, body, body, time.Now()); got != http.StatusOK {
				t.Errorf("the same request untampered: status %d, want 200", got)
			}

			data, err := os.ReadFile(eventsLog)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(string(data)), "\n")
			if len(lines) != 5 {
				t.Fatalf("EVENTS_LOG has %d lines, want the 5 verified events:\n%s", len(lines), data)
			}
			for _, l := range lines {
				var e Event
				if err := json.Unmarshal([]byte(l), &e); err != nil || e.Type != EventLogin || e.Data.Subject == "" {
					t.Errorf("EVENTS_LOG line %q is not an event (%v)", l, err)
				}
			}
		})
	}
}

func need(t *testing.T, bin string) string {
	t.Helper()
	p, err := exec.LookPath(bin)
	if err != nil {
		t.Skipf("%s not installed", bin)
	}
	return p
}

// script returns the path of an example script; reading it also makes `go test` cache
// results on its content.
func script(t *testing.T, dir, name string) string {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	if _, err := os.ReadFile(p); err != nil {
		t.Fatal(err)
	}
	return p
}

// startReceiver runs argv with PORT=0 and env, waits for its "listening on :<port>" line and
// returns its URL. The process is killed when the test ends.
func startReceiver(t *testing.T, argv []string, env ...string) string {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), append([]string{"PORT=0"}, env...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	port := make(chan string, 1)
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if p, ok := strings.CutPrefix(sc.Text(), "listening on :"); ok {
				port <- p
				break
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-drained // Wait closes the pipe: let the reader finish first
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("receiver %s stderr:\n%s", argv[len(argv)-1], stderr.String())
		}
	})
	select {
	case p := <-port:
		return "http://127.0.0.1:" + p + "/edgeauth/userhook"
	case <-drained:
		t.Fatal("receiver exited before printing its port")
		return ""
	case <-time.After(30 * time.Second):
		t.Fatal("receiver did not print its port within 30s")
		return ""
	}
}

func isStatus(err error, status int) bool {
	var he *Error
	return errors.As(err, &he) && he.Reason == ReasonStatus && he.Status == status
}

// postSigned signs signedBody under secret at ts, but sends sentBody.
func postSigned(t *testing.T, url, secret string, signedBody, sentBody []byte, ts time.Time) int {
	t.Helper()
	h := signed(t, "msg_manual", ts, signedBody, secret)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, bytes.NewReader(sentBody))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = h
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
