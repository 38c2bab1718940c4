package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/oidc/oidctest"
)

const djangoDir = "examples/django/demo"

// TestDjangoExample runs examples/django as its README tells a Django user to: the demo
// project (edgeauth_django in INSTALLED_APPS, EdgeauthAuthentication on a DRF route, the
// webhook view in urls.py) beside `edgeauth dev --userhook-url`, both as processes, with a
// migrated SQLite database of its own. A person logs in through the embedded provider over
// HTTP; the webhook creates their Django user; the API token authenticates them at a
// protected route, and nothing else does. The app's own Django tests run first.
func TestDjangoExample(t *testing.T) {
	python := djangoPython(t)

	t.Run("django unit tests", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
		defer cancel()
		out, err := djangoManage(ctx, python, []string{"DEMO_DATABASE=" + t.TempDir() + "/db.sqlite3"}, "test", "edgeauth_django", "--noinput")
		ran := regexp.MustCompile(`(?m)^Ran (\d+) tests? in`).FindStringSubmatch(out)
		if err != nil || ran == nil || !regexp.MustCompile(`(?m)^OK\b`).MatchString(out) {
			t.Fatalf("manage.py test edgeauth_django: %v\n%s", err, out)
		}
		n, _ := strconv.Atoi(ran[1])
		if n < 30 {
			t.Errorf("ran %d Django tests, want the app's whole suite (30+)\n%s", n, out)
		}
		t.Logf("edgeauth_django: %d Django tests passed", n)
	})

	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	secret := newSecret(t)
	edgeAddr := freeAddr(t)
	publicURL := "http://" + edgeAddr
	djangoEnv := []string{
		"DEMO_DATABASE=" + t.TempDir() + "/db.sqlite3",
		"EDGEAUTH_ISSUER=" + publicURL,
		"EDGEAUTH_USERHOOK_SECRET=" + secret,
		"DEMO_DENY_DOMAINS=denied.test",
		"PYTHONUNBUFFERED=1",
	}
	if out, err := djangoManage(ctx, python, djangoEnv, "migrate", "--noinput"); err != nil {
		t.Fatalf("manage.py migrate: %v\n%s", err, out)
	}
	port, _ := process{
		name:  "django demo",
		argv:  []string{python, "serve.py"},
		dir:   djangoDir,
		env:   append(djangoEnv, "PORT=0"),
		stop:  os.Interrupt,
		ready: "listening on :",
	}.start(ctx, t)
	app := "http://127.0.0.1:" + port
	hookURL := app + "/edgeauth/webhook"
	startEdgeauth(t, []string{"dev", "--userhook-url", hookURL}, map[string]string{
		"EDGEAUTH_ADDR":            edgeAddr,
		"EDGEAUTH_PUBLIC_URL":      publicURL,
		"EDGEAUTH_USERHOOK_SECRET": secret,
	})

	// A first login: the webhook creates ada's Django user, whose pk is the token's sub.
	const ada = "ada@example.com"
	status, body := devLogin(ctx, t, publicURL, ada)
	if status != http.StatusOK {
		t.Fatalf("POST /oauth2/token for %s: %d %s", ada, status, body)
	}
	var res struct {
		API struct{ Access, Refresh string } `json:"api"`
	}
	if err := json.Unmarshal(body, &res); err != nil {
		t.Fatalf("token response: %v\n%s", err, body)
	}
	sub := verifyAccessToken(ctx, t, publicURL, res.API.Access).Subject()
	rows := djangoUsers(ctx, t, python, djangoEnv)
	adaRow, ok := rows.identity("dev", oidctest.Subject(ada))
	if !ok || len(rows) != 1 {
		t.Fatalf("after %s's login the database holds %+v, want one user with identity (dev, %s)", ada, rows, oidctest.Subject(ada))
	}
	if adaRow.ID != sub || adaRow.Username != ada || adaRow.Email != ada {
		t.Errorf("user row %+v, want id = the token's sub %q, username and email %s", adaRow, sub, ada)
	}

	// The protected route: the API token and nothing else.
	me := func(t *testing.T, token string) (int, http.Header, map[string]any) {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, app+"/api/me", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("GET /api/me: %v", err)
		}
		defer resp.Body.Close()
		var out map[string]any
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("GET /api/me: %d, not JSON: %s", resp.StatusCode, raw)
		}
		return resp.StatusCode, resp.Header, out
	}
	code, _, got := me(t, res.API.Access)
	if code != http.StatusOK || got["username"] != ada || got["sub"] != sub || got["user_id"] != sub {
		t.Errorf("GET /api/me with the API token: %d %v, want 200 with username %s and sub %s", code, got, ada, sub)
	}
	for name, token := range map[string]string{
		"no token":         "",
		"tampered token":   flipSignature(res.API.Access),
		"refresh token":    res.API.Refresh,
		"not a token":      "definitely-not-a-jwt",
		"payload swapped":  swapPayload(t, res.API.Access, map[string]any{"sub": "1", "iss": publicURL}),
		"signature of nil": strings.Join(strings.Split(res.API.Access, ".")[:2], ".") + ".",
	} {
		code, h, got := me(t, token)
		if code != http.StatusUnauthorized || !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("GET /api/me with %s: %d %v (WWW-Authenticate %q), want 401 with a Bearer challenge", name, code, got, h.Get("WWW-Authenticate"))
		}
	}

	// A second login and a refresh find the same user (user.login, user.refresh).
	status, body = devLogin(ctx, t, publicURL, ada)
	if status != http.StatusOK {
		t.Fatalf("second login: %d %s", status, body)
	}
	var again struct {
		API struct{ Access string } `json:"api"`
	}
	_ = json.Unmarshal(body, &again)
	if s := verifyAccessToken(ctx, t, publicURL, again.API.Access).Subject(); s != sub {
		t.Errorf("second login: sub %q, want the same user %q", s, sub)
	}
	refreshed := postJSON(ctx, t, publicURL+"/oauth2/refresh", map[string]string{"refresh": res.API.Refresh})
	if refreshed.status != http.StatusOK {
		t.Fatalf("POST /oauth2/refresh: %d %s", refreshed.status, refreshed.body)
	}
	var ref struct {
		API struct{ Access string } `json:"api"`
	}
	_ = json.Unmarshal(refreshed.body, &ref)
	if code, _, got := me(t, ref.API.Access); code != http.StatusOK || got["sub"] != sub {
		t.Errorf("GET /api/me with the refreshed token: %d %v", code, got)
	}

	// A retried delivery (the same webhook-id) answers the same user and creates no second one.
	event, _ := json.Marshal(map[string]any{"type": "user.login", "timestamp": time.Now().UTC().Format(time.RFC3339),
		"data": map[string]any{"provider": "dev", "issuer": publicURL + "/dev/op", "subject": "replayed-subject",
			"email": "replay@example.com", "email_verified": true}})
	first := postSigned(ctx, t, hookURL, secret, "msg_replayed", event)
	second := postSigned(ctx, t, hookURL, secret, "msg_replayed", event)
	if first.status != http.StatusOK || second.status != http.StatusOK || !bytes.Equal(first.body, second.body) {
		t.Errorf("the same delivery twice: %d %s, then %d %s; want 200 and the same answer", first.status, first.body, second.status, second.body)
	}
	if forged := postSigned(ctx, t, hookURL, newSecret(t), "msg_forged", event); forged.status != http.StatusUnauthorized {
		t.Errorf("an event signed with another secret: %d %s, want 401", forged.status, forged.body)
	}
	rows = djangoUsers(ctx, t, python, djangoEnv)
	if n := rows.count("dev", "replayed-subject"); n != 1 || len(rows) != 2 {
		t.Errorf("after a replayed delivery: %d users with identity (dev, replayed-subject), %d users in all; want 1 and 2\n%+v", n, len(rows), rows)
	}

	// The DENY hook refuses a domain: the person sees its message, and no user is created.
	status, body = devLogin(ctx, t, publicURL, "eve@denied.test")
	if detail := checkProblem(t, status, body, http.StatusForbidden, "user_denied", "", ""); detail != "Sign-ups from denied.test are not allowed." {
		t.Errorf("denied login: detail %q, want the DENY hook's message", detail)
	}
	if _, ok := djangoUsers(ctx, t, python, djangoEnv).identity("dev", oidctest.Subject("eve@denied.test")); ok {
		t.Error("a denied login created a user")
	}

	// A deactivated user cannot log in, and their unexpired token stops working.
	if out, err := djangoManage(ctx, python, djangoEnv, "shell", "-c",
		"from django.contrib.auth import get_user_model as m; m().objects.filter(pk="+strconv.Quote(sub)+").update(is_active=False)"); err != nil {
		t.Fatalf("deactivate: %v\n%s", err, out)
	}
	status, body = devLogin(ctx, t, publicURL, ada)
	if detail := checkProblem(t, status, body, http.StatusForbidden, "user_denied", "", ""); detail != "This account is disabled." {
		t.Errorf("login of a deactivated user: detail %q", detail)
	}
	if code, _, got := me(t, res.API.Access); code != http.StatusUnauthorized {
		t.Errorf("GET /api/me as a deactivated user: %d %v, want 401", code, got)
	}
}

// djangoPython returns the Python that has Django, DRF and PyJWT: EDGEAUTH_DJANGO_PYTHON,
// else Debian's /usr/bin/python3 (the python3-* packages install there, not into a pyenv).
func djangoPython(t *testing.T) string {
	t.Helper()
	hint := "examples/django needs Python 3 with Django, Django REST framework and PyJWT: " +
		"apt-get install python3-django python3-djangorestframework python3-jwt (bash .ci/run does it)"
	python := os.Getenv("EDGEAUTH_DJANGO_PYTHON")
	if python == "" {
		python = "/usr/bin/python3"
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, python, "-c",
		"import django, rest_framework, jwt; print(django.get_version(), rest_framework.VERSION, jwt.__version__)").CombinedOutput()
	if err != nil {
		missing(t, fmt.Sprintf("%s: %v %s\n%s", python, err, bytes.TrimSpace(out), hint))
	}
	t.Logf("%s: Django, DRF, PyJWT %s", python, bytes.TrimSpace(out))
	return python
}

// djangoManage runs `python manage.py args…` in the demo project and returns its output.
func djangoManage(ctx context.Context, python string, env []string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, python, append([]string{"manage.py"}, args...)...)
	cmd.Dir = djangoDir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

type djangoUser struct {
	ID         string      `json:"id"`
	Username   string      `json:"username"`
	Email      string      `json:"email"`
	Identities [][2]string `json:"identities"`
}

type djangoRows []djangoUser

func (rs djangoRows) identity(provider, subject string) (djangoUser, bool) {
	for _, r := range rs {
		for _, id := range r.Identities {
			if id == [2]string{provider, subject} {
				return r, true
			}
		}
	}
	return djangoUser{}, false
}

func (rs djangoRows) count(provider, subject string) int {
	n := 0
	for _, r := range rs {
		for _, id := range r.Identities {
			if id == [2]string{provider, subject} {
				n++
			}
		}
	}
	return n
}

// djangoUsers reads the demo's user table with its identities, through manage.py shell.
func djangoUsers(ctx context.Context, t *testing.T, python string, env []string) djangoRows {
	t.Helper()
	const script = `import json
from django.contrib.auth import get_user_model
print(json.dumps([{"id": str(u.pk), "username": u.get_username(), "email": u.email,
  "identities": [[i.provider, i.subject] for i in u.edgeauth_identities.all()]}
  for u in get_user_model().objects.order_by("pk")]))`
	out, err := djangoManage(ctx, python, env, "shell", "-c", script)
	if err != nil {
		t.Fatalf("manage.py shell: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var rows djangoRows
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &rows); err != nil {
		t.Fatalf("manage.py shell: %v\n%s", err, out)
	}
	return rows
}

type answer struct {
	status int
	body   []byte
}

func postJSON(ctx context.Context, t *testing.T, u string, in any) answer {
	t.Helper()
	body, _ := json.Marshal(in)
	return post(ctx, t, u, body, nil)
}

// postSigned posts body to a webhook receiver as edgeauth does (Standard Webhooks, "v1"),
// computed here rather than by the userhook package, as a second implementation.
func postSigned(ctx context.Context, t *testing.T, u, secret, id string, body []byte) answer {
	t.Helper()
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		t.Fatal(err)
	}
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%s.%s", id, ts, body)
	return post(ctx, t, u, body, map[string]string{
		"webhook-id":        id,
		"webhook-timestamp": ts,
		"webhook-signature": "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)),
	})
}

func post(ctx context.Context, t *testing.T, u string, body []byte, headers map[string]string) answer {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", u, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return answer{resp.StatusCode, out}
}

// flipSignature changes one character in the middle of a JWS's signature.
func flipSignature(token string) string {
	i := strings.LastIndexByte(token, '.') + 10
	c := byte('A')
	if token[i] == 'A' {
		c = 'B'
	}
	return token[:i] + string(c) + token[i+1:]
}

// swapPayload keeps a JWS's header and signature around another payload.
func swapPayload(t *testing.T, token string, claims map[string]any) string {
	t.Helper()
	parts := strings.Split(token, ".")
	p, _ := json.Marshal(claims)
	return parts[0] + "." + base64.RawURLEncoding.EncodeToString(p) + "." + parts[2]
}
