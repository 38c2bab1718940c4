package main

// Forward authentication (GET /oauth2/verify) behind a real nginx, the way
// DESIGN.md promises it: nginx's auth_request asks edgeauth about each
// request's bearer token and passes the user on to the upstream.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"text/template"
	"time"

	"github.com/edgeauth/edgeauth/oidc/oidctest"
)

// nginxForwardAuth is the configuration under test. The server block is what
// an operator puts in front of an app; the rest keeps nginx inside the test's
// directory (pid, logs, temp files), runnable as any user.
var nginxForwardAuth = template.Must(template.New("nginx.conf").Parse(`# edgeauth forward-auth test: nginx -p {{.Dir}} -c {{.Dir}}/nginx.conf -g 'daemon off;'
{{if .Root}}user root;
{{end}}worker_processes 1;
pid {{.Dir}}/nginx.pid;
error_log {{.Dir}}/error.log info;
events { worker_connections 64; }

http {
  access_log {{.Dir}}/access.log;
  client_body_temp_path {{.Dir}}/client_body;
  proxy_temp_path {{.Dir}}/proxy;
  fastcgi_temp_path {{.Dir}}/fastcgi;
  uwsgi_temp_path {{.Dir}}/uwsgi;
  scgi_temp_path {{.Dir}}/scgi;

  server {
    listen {{.Listen}};

    location / {
      auth_request /_auth;
      # The user edgeauth vouches for replaces whatever the client sent.
      auth_request_set $user $upstream_http_x_auth_request_user;
      auth_request_set $email $upstream_http_x_auth_request_email;
      proxy_set_header X-Auth-Request-User $user;
      proxy_set_header X-Auth-Request-Email $email;
      proxy_pass {{.Upstream}};
    }

    location = /_auth {
      internal;
      proxy_pass {{.Edgeauth}}/oauth2/verify;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header Authorization $http_authorization;
    }
  }
}
`))

// TestForwardAuthBehindNginx logs in (no browser: an in-process provider),
// then sends requests through nginx to an upstream that echoes the user
// header it got: a valid API access token passes with the token's sub; no
// token, a tampered one, the refresh token, and the provider's own tokens are
// refused with 401, and a client cannot forge the user header.
func TestForwardAuthBehindNginx(t *testing.T) {
	nginx := lookPath(t, "nginx not installed: apt-get install nginx-light (bash .ci/run does it)",
		os.Getenv("EDGEAUTH_NGINX"), "nginx", "/usr/sbin/nginx")
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()

	const (
		provider     = "op"
		clientID     = "edgeauth-forwardauth"
		clientSecret = "forwardauth-client-secret"
		redirectURI  = "https://app.example.test/callback" // never fetched: op.Login returns it
		email        = "grace@example.com"
	)
	op := oidctest.NewServer(oidctest.Options{Clients: []oidctest.Client{
		{ID: clientID, Secret: clientSecret, RedirectURIs: []string{redirectURI}},
	}})
	t.Cleanup(op.Close)
	env := map[string]string{
		"EDGEAUTH_PROVIDERS":        provider,
		"EDGEAUTH_OP_ISSUER":        op.Issuer(),
		"EDGEAUTH_OP_CLIENT_ID":     clientID,
		"EDGEAUTH_OP_CLIENT_SECRET": clientSecret,
		"EDGEAUTH_OP_REDIRECT_URI":  redirectURI,
	}
	maps.Copy(env, freshKeys(t))
	publicURL := startEdgeauth(t, []string{"serve"}, env)

	status, body := loginWithoutBrowser(ctx, t, publicURL, provider, op, email)
	if status != http.StatusOK {
		t.Fatalf("login: %d %s", status, body)
	}
	var login lifecycleTokens
	if err := json.Unmarshal(body, &login); err != nil {
		t.Fatalf("token response: %v\n%s", err, body)
	}
	sub := verifyAccessToken(ctx, t, publicURL, login.API.Access).Subject()
	if want := provider + "|" + oidctest.Subject(email); sub != want {
		t.Fatalf("api.access sub %q, want %q", sub, want)
	}

	// The upstream: what the app behind nginx sees.
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{
			"user":  r.Header.Get("X-Auth-Request-User"),
			"email": r.Header.Get("X-Auth-Request-Email"),
			"path":  r.URL.Path,
		})
	}))
	t.Cleanup(upstream.Close)
	front := startNginx(t, nginx, nginxConfig{Upstream: upstream.URL, Edgeauth: publicURL})

	// The token with its sub changed and the signature kept.
	tampered := func() string {
		parts := strings.Split(login.API.Access, ".")
		payload, err := base64.RawURLEncoding.DecodeString(parts[1])
		if err != nil {
			t.Fatal(err)
		}
		var claims map[string]any
		if err := json.Unmarshal(payload, &claims); err != nil {
			t.Fatal(err)
		}
		claims["sub"] = provider + "|someone-else"
		payload, _ = json.Marshal(claims)
		parts[1] = base64.RawURLEncoding.EncodeToString(payload)
		return strings.Join(parts, ".")
	}()

	tests := []struct {
		name   string
		header http.Header
		status int
		user   string // what the upstream saw, for a 200
	}{
		{"API access token", http.Header{"Authorization": {"Bearer " + login.API.Access}}, http.StatusOK, sub},
		{"API access token and a forged user header", http.Header{"Authorization": {"Bearer " + login.API.Access},
			"X-Auth-Request-User": {"admin"}}, http.StatusOK, sub},
		{"no token", nil, http.StatusUnauthorized, ""},
		{"no token and a forged user header", http.Header{"X-Auth-Request-User": {sub}}, http.StatusUnauthorized, ""},
		{"tampered token", http.Header{"Authorization": {"Bearer " + tampered}}, http.StatusUnauthorized, ""},
		{"refresh token", http.Header{"Authorization": {"Bearer " + login.API.Refresh}}, http.StatusUnauthorized, ""},
		{"provider ID token", http.Header{"Authorization": {"Bearer " + login.Provider.IDToken}}, http.StatusUnauthorized, ""},
		{"provider access token", http.Header{"Authorization": {"Bearer " + login.Provider.AccessToken}}, http.StatusUnauthorized, ""},
		{"not Bearer", http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte("a:b"))}}, http.StatusUnauthorized, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, h, body := callAPI(ctx, t, http.MethodGet, front+"/app/page", nil, tc.header)
			if status != tc.status {
				t.Fatalf("through nginx: %d %s, want %d", status, body, tc.status)
			}
			if tc.status != http.StatusOK {
				// nginx passes edgeauth's challenge on with a 401.
				if got := h.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
					t.Errorf("WWW-Authenticate %q, want a Bearer challenge", got)
				}
				if strings.Contains(string(body), `"user"`) {
					t.Errorf("the upstream answered a refused request: %s", body)
				}
				return
			}
			var seen map[string]string
			if err := json.Unmarshal(body, &seen); err != nil {
				t.Fatalf("upstream answer: %v\n%s", err, body)
			}
			if seen["user"] != tc.user || seen["path"] != "/app/page" {
				t.Errorf("upstream saw user %q path %q, want %q /app/page", seen["user"], seen["path"], tc.user)
			}
			if seen["email"] != email {
				t.Errorf("upstream saw email %q, want %q", seen["email"], email)
			}
		})
	}

	// edgeauth's own answer, without nginx: the claims, and invalid_token.
	t.Run("verify directly", func(t *testing.T) {
		status, h, body := callAPI(ctx, t, http.MethodGet, publicURL+"/oauth2/verify", nil,
			http.Header{"Authorization": {"Bearer " + login.API.Access}})
		var claims map[string]any
		if status != http.StatusOK || json.Unmarshal(body, &claims) != nil {
			t.Fatalf("GET /oauth2/verify: %d %s", status, body)
		}
		if claims["sub"] != sub || h.Get("X-Auth-Request-User") != sub || h.Get("X-Auth-Request-Email") != email {
			t.Errorf("claims %v, X-Auth-Request-User %q, X-Auth-Request-Email %q", claims, h.Get("X-Auth-Request-User"), h.Get("X-Auth-Request-Email"))
		}
		status, h, body = callAPI(ctx, t, http.MethodGet, publicURL+"/oauth2/verify", nil,
			http.Header{"Authorization": {"Bearer " + tampered}})
		if status != http.StatusUnauthorized || !strings.Contains(h.Get("WWW-Authenticate"), `error="invalid_token"`) {
			t.Errorf("tampered token: %d WWW-Authenticate %q %s", status, h.Get("WWW-Authenticate"), body)
		}
	})
}

// nginxConfig fills nginxForwardAuth.
type nginxConfig struct {
	Dir      string // prefix: config, pid, logs, temp files
	Listen   string // 127.0.0.1:port
	Upstream string // the app, http://host:port
	Edgeauth string // edgeauth's URL, http://host:port
	Root     bool   // run the workers as root (the default user, nobody, cannot enter Dir)
}

// startNginx runs nginx in the foreground with c and returns its URL. The
// listening socket is made here and handed to nginx (its NGINX environment
// variable, the mechanism of its binary upgrade), so requests can be sent at
// once: they wait in the socket's backlog until nginx accepts them. nginx
// stops when the test ends (SIGQUIT, a graceful shutdown) and must exit
// cleanly; its error log is shown when the test failed.
func startNginx(t *testing.T, nginx string, c nginxConfig) string {
	t.Helper()
	c.Dir = t.TempDir()
	c.Root = os.Geteuid() == 0
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c.Listen = ln.Addr().String()
	sock, err := ln.(*net.TCPListener).File()
	ln.Close() // the duplicate in sock keeps the socket listening
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close() // nginx has its own copy once started
	if err := syscall.SetNonblock(int(sock.Fd()), true); err != nil {
		t.Fatal(err)
	}

	conf := filepath.Join(c.Dir, "nginx.conf")
	f, err := os.Create(conf)
	if err != nil {
		t.Fatal(err)
	}
	if err := nginxForwardAuth.Execute(f, c); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	errorLog := filepath.Join(c.Dir, "error.log")

	// -e: errors before the configuration is read go there too (nginx 1.19.5+).
	cmd := exec.CommandContext(t.Context(), nginx, "-p", c.Dir, "-c", conf, "-e", errorLog, "-g", "daemon off;")
	cmd.Env = append(os.Environ(), "NGINX=3;") // fd 3 is ExtraFiles[0]
	cmd.ExtraFiles = []*os.File{sock}
	stderr := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = io.Discard, stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGQUIT) }
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatalf("start nginx: %v", err)
	}
	logs := func() string {
		b, _ := os.ReadFile(errorLog)
		return "stderr:\n" + stderr.String() + "\nerror.log:\n" + string(b)
	}
	t.Cleanup(func() { // t.Context() is done: nginx has had SIGQUIT
		if err := cmd.Wait(); err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("nginx did not stop cleanly: %v\n%s", err, logs())
		} else if t.Failed() {
			t.Logf("nginx config:\n%s\n%s", mustRead(conf), logs())
		}
	})
	return "http://" + c.Listen
}

func mustRead(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	return string(b)
}
