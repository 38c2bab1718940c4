package oidctest

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// pageCSS is inline and allowed by its hash, so the pages need no other
// origin and the Content-Security-Policy can forbid everything else.
const pageCSS = `
:root{color-scheme:light dark;--bg:#f3f4f7;--card:#fff;--fg:#1b2230;--muted:#5e6779;--line:#d8dce4;--accent:#3056e8;--accent-fg:#fff;--err:#b42318}
@media (prefers-color-scheme:dark){:root{--bg:#0e1116;--card:#171b22;--fg:#e7e9ee;--muted:#9aa3b3;--line:#2a303a;--accent:#5c7cff;--err:#ff8b80}}
*{box-sizing:border-box}
body{margin:0;min-height:100vh;display:grid;place-items:center;padding:24px;background:var(--bg);color:var(--fg);font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{width:100%;max-width:400px;background:var(--card);border:1px solid var(--line);border-radius:14px;padding:32px;box-shadow:0 10px 30px rgba(0,0,0,.07)}
.badge{display:inline-block;font-size:12px;letter-spacing:.05em;text-transform:uppercase;color:var(--muted);border:1px solid var(--line);border-radius:999px;padding:2px 10px}
h1{font-size:24px;line-height:1.25;margin:16px 0 4px}
.sub{margin:0 0 24px;color:var(--muted)}
.sub strong{color:var(--fg)}
label{display:block;font-weight:600;font-size:14px;margin-bottom:6px}
input[type=email]{width:100%;padding:11px 12px;font:inherit;color:inherit;background:transparent;border:1px solid var(--line);border-radius:8px}
input[type=email]:focus{outline:2px solid var(--accent);outline-offset:1px;border-color:transparent}
.error{color:var(--err);font-size:14px;margin:8px 0 0}
.actions{display:flex;flex-direction:row-reverse;gap:8px;margin-top:20px}
button{flex:1;padding:11px 14px;font:inherit;font-weight:600;border-radius:8px;border:1px solid var(--line);background:transparent;color:inherit;cursor:pointer}
button:hover{border-color:var(--muted)}
button.primary{background:var(--accent);border-color:var(--accent);color:var(--accent-fg)}
button.primary:hover{filter:brightness(1.08)}
dl{display:grid;grid-template-columns:auto 1fr;gap:4px 12px;margin:24px 0 0;padding-top:16px;border-top:1px solid var(--line);font-size:13px;color:var(--muted)}
dt{font-weight:600}
dd{margin:0;overflow-wrap:anywhere}
.note{margin:16px 0 0;font-size:13px;color:var(--muted)}
`

const pageTemplates = `
{{define "head"}}<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex">
<title>{{.Title}}</title>
<style>{{.CSS}}</style>
</head>
<body>
<main>
<span class="badge">Test identity provider</span>
{{end}}

{{define "foot"}}<p class="note">Issuer {{.Issuer}}</p>
</main>
</body>
</html>
{{end}}

{{define "login"}}{{template "head" .}}<h1>Sign in</h1>
<p class="sub">to continue to <strong>{{.ClientName}}</strong></p>
<form method="post">
{{- range .Hidden}}
<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{- end}}
<label for="email">Email</label>
<input id="email" name="email" type="email" value="{{.Email}}" required autofocus autocomplete="email" maxlength="254" placeholder="you@example.com">
{{- if .Error}}
<p class="error" role="alert">{{.Error}}</p>
{{- end}}
<div class="actions">
<button class="primary" type="submit" name="action" value="login">Continue</button>
<button type="submit" name="action" value="cancel" formnovalidate>Cancel</button>
</div>
</form>
<dl>
<dt>Client</dt><dd>{{.ClientID}}</dd>
<dt>Returns to</dt><dd>{{.RedirectTo}}</dd>
<dt>Scopes</dt><dd>{{if .Scopes}}{{.Scopes}}{{else}}none{{end}}</dd>
</dl>
<p class="note">Any email address signs in; there is no password.</p>
{{template "foot" .}}{{end}}

{{define "message"}}{{template "head" .}}<h1>{{.Title}}</h1>
<p class="sub">{{.Message}}</p>
{{template "foot" .}}{{end}}
`

type hiddenField struct{ Name, Value string }

type pageData struct {
	Title, Message, Issuer                   string
	CSS                                      template.CSS
	ClientName, ClientID, RedirectTo, Scopes string
	Email, Error                             string
	Hidden                                   []hiddenField
}

func (p *Provider) parsePages() error {
	t, err := template.New("pages").Parse(pageTemplates)
	if err != nil {
		return fmt.Errorf("oidctest: page templates: %w", err)
	}
	sum := sha256.Sum256([]byte(pageCSS))
	p.pages = t
	p.csp = "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) +
		"'; base-uri 'none'; frame-ancestors 'none'"
	// No form-action: browsers apply it to the redirect that follows the
	// form, and the redirect goes to the client.
	return nil
}

func (p *Provider) renderLogin(w http.ResponseWriter, status int, r *authRequest, email, errMsg string) {
	name := r.client.Name
	if name == "" {
		name = r.client.ID
	}
	d := p.page(name)
	d.Title = "Sign in · " + d.ClientName
	d.ClientID = r.client.ID
	d.RedirectTo = r.redirectURI
	if u, err := url.Parse(r.redirectURI); err == nil && u.Host != "" {
		d.RedirectTo = u.Scheme + "://" + u.Host
	}
	d.Scopes = strings.Join(r.scopes, " ")
	d.Email, d.Error = email, errMsg
	// The form carries the authorization request as received, so a POST is
	// validated exactly as the GET was.
	names := make([]string, 0, len(r.values))
	for name := range r.values {
		if name != "email" && name != "action" { // the form's own fields
			names = append(names, name)
		}
	}
	// Protocol parameters first, in their usual order, then any others.
	order := []string{"client_id", "redirect_uri", "response_type", "scope", "state", "nonce",
		"code_challenge", "code_challenge_method", "response_mode", "prompt", "login_hint"}
	rank := func(name string) int {
		if i := slices.Index(order, name); i >= 0 {
			return i
		}
		return len(order)
	}
	slices.SortFunc(names, func(a, b string) int {
		if d := rank(a) - rank(b); d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})
	for _, name := range names {
		d.Hidden = append(d.Hidden, hiddenField{Name: name, Value: r.values.Get(name)})
	}
	p.render(w, status, "login", d)
}

func (p *Provider) renderMessage(w http.ResponseWriter, status int, title, msg string) {
	d := p.page("")
	d.Title, d.Message = title, msg
	p.render(w, status, "message", d)
}

func (p *Provider) page(clientName string) pageData {
	return pageData{CSS: template.CSS(pageCSS), Issuer: p.issuer, ClientName: clientName}
}

func (p *Provider) render(w http.ResponseWriter, status int, name string, d pageData) {
	var buf bytes.Buffer
	if err := p.pages.ExecuteTemplate(&buf, name, d); err != nil {
		http.Error(w, "oidctest: cannot render page", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", p.csp)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
