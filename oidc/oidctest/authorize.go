package oidctest

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// supportedScopes are granted when asked for; other scopes are ignored, as
// RFC 6749 §3.3 allows.
func supportedScopes() []string { return []string{"openid", "email", "profile", "offline_access"} }

// AuthError is an error the authorization endpoint reports (RFC 6749
// §4.1.2.1). Redirect is true when it goes back to the client in the redirect;
// otherwise the client or redirect_uri could not be trusted and the user sees
// it instead.
type AuthError struct {
	Code        string // e.g. "invalid_request", "access_denied"
	Description string
	Redirect    bool
}

func (e *AuthError) Error() string {
	return "oidctest: authorization error " + e.Code + ": " + e.Description
}

// authRequest is a validated authorization request.
type authRequest struct {
	client      Client
	redirectURI string
	scopes      []string
	state       string
	nonce       string
	challenge   string
	prompt      string
	loginHint   string
	values      url.Values // the request as received, carried by the login form
}

// parseAuthRequest validates an authorization request the way RFC 6749 §4.1.1,
// RFC 7636 §4.3 and OpenID Connect Core §3.1.2.2 say; the order of checks
// decides which errors may be redirected (§4.1.2.1: never before client_id
// and redirect_uri are known good).
func (p *Provider) parseAuthRequest(q url.Values) (*authRequest, *AuthError) {
	fail := func(code, desc string, redirect bool) (*authRequest, *AuthError) {
		return nil, &AuthError{Code: code, Description: desc, Redirect: redirect}
	}
	for _, name := range []string{"client_id", "redirect_uri"} {
		if len(q[name]) > 1 {
			return fail("invalid_request", name+" given more than once", false)
		}
	}
	client, ok := p.clients[q.Get("client_id")]
	if !ok {
		return fail("invalid_client", fmt.Sprintf("unknown client_id %q", truncate(q.Get("client_id"))), false)
	}
	redirectURI := q.Get("redirect_uri")
	if redirectURI == "" {
		return fail("invalid_request", "redirect_uri is required", false)
	}
	if !slices.Contains(client.RedirectURIs, redirectURI) {
		return fail("invalid_request", fmt.Sprintf("redirect_uri %q is not registered for client %q", truncate(redirectURI), client.ID), false)
	}
	for name, vs := range q {
		if len(vs) == 0 {
			continue
		}
		if len(vs) > 1 { // RFC 6749 §3.1
			return fail("invalid_request", name+" given more than once", true)
		}
		if len(vs[0]) > maxParam {
			return fail("invalid_request", name+" is too long", true)
		}
	}
	r := &authRequest{
		client:      client,
		redirectURI: redirectURI,
		state:       q.Get("state"),
		nonce:       q.Get("nonce"),
		challenge:   q.Get("code_challenge"),
		prompt:      q.Get("prompt"),
		loginHint:   q.Get("login_hint"),
		values:      q,
	}
	switch {
	case q.Has("request"):
		return fail("request_not_supported", "request objects are not supported", true)
	case q.Has("request_uri"):
		return fail("request_uri_not_supported", "request_uri is not supported", true)
	case q.Get("response_type") != "code":
		return fail("unsupported_response_type", "response_type must be code", true)
	case q.Has("response_mode") && q.Get("response_mode") != "query":
		return fail("invalid_request", "response_mode must be query", true)
	case r.challenge == "":
		return fail("invalid_request", "code_challenge is required (PKCE, RFC 7636)", true)
	case q.Get("code_challenge_method") != "S256":
		return fail("invalid_request", "code_challenge_method must be S256; plain is not supported", true)
	case !isS256Challenge(r.challenge):
		return fail("invalid_request", "code_challenge must be 43 base64url characters", true)
	}
	for s := range strings.FieldsSeq(q.Get("scope")) {
		if slices.Contains(supportedScopes(), s) && !slices.Contains(r.scopes, s) {
			r.scopes = append(r.scopes, s)
		}
	}
	return r, nil
}

// isS256Challenge: BASE64URL(SHA256(verifier)) without padding is 43 chars.
func isS256Challenge(s string) bool {
	if len(s) != 43 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// errorRedirect is the client's redirect_uri with an error response
// (RFC 6749 §4.1.2.1) and, as RFC 9207 asks, iss.
func (p *Provider) errorRedirect(r *authRequest, e *AuthError, f *Faults) *url.URL {
	return p.redirect(r, url.Values{"error": {e.Code}, "error_description": {e.Description}}, f)
}

// redirect adds params, state and iss to the client's redirect URI, keeping
// any query it was registered with (RFC 6749 §3.1.2).
func (p *Provider) redirect(r *authRequest, params url.Values, f *Faults) *url.URL {
	u, _ := url.Parse(r.redirectURI) // checked in New
	q := u.Query()
	for k, v := range params {
		q[k] = v
	}
	if r.state != "" {
		q.Set("state", r.state)
	}
	switch {
	case f.IssParameter != "":
		q.Set("iss", f.IssParameter)
	case p.issParam && !f.OmitIssParameter:
		q.Set("iss", p.issuer)
	}
	u.RawQuery = q.Encode()
	return u
}

// completeLogin finishes an authorization request for email: a code, or the
// error Faults.AuthorizeError asks for.
func (p *Provider) completeLogin(r *authRequest, email string, f *Faults) (*url.URL, *AuthError) {
	if f.AuthorizeError != "" {
		e := &AuthError{Code: f.AuthorizeError, Description: "oidctest: fault injected", Redirect: true}
		return p.errorRedirect(r, e, f), e
	}
	now := p.now()
	code := p.storeCode(&authCode{
		g:           &grant{clientID: r.client.ID, email: email, scopes: r.scopes, authTime: now},
		redirectURI: r.redirectURI,
		challenge:   r.challenge,
		nonce:       r.nonce,
		expires:     now.Add(codeTTL),
	})
	p.mu.Lock()
	p.log.Logins++
	p.mu.Unlock()
	return p.redirect(r, url.Values{"code": {code}}, f), nil
}

// Login signs email in to the authorization request authURL, as a person
// submitting the login page would, and returns where the browser would be
// sent: the client's redirect_uri with code, state and iss. It validates the
// request as the endpoint does (prompt=none is not refused: this is a login). When the answer is an error redirect (a bad request or
// Faults.AuthorizeError), Login returns that redirect and an *AuthError; when
// nothing can be redirected (unknown client, unregistered redirect_uri, an
// URL that is not this provider's), the URL is nil.
func (p *Provider) Login(authURL, email string) (*url.URL, error) {
	u, err := url.Parse(authURL)
	if err != nil {
		return nil, errors.New("oidctest: login: malformed authorization URL")
	}
	if got := u.Scheme + "://" + u.Host + u.EscapedPath(); got != p.EndpointURL(AuthorizeEndpoint) {
		return nil, fmt.Errorf("oidctest: login: %q is not this provider's authorization endpoint %q", got, p.EndpointURL(AuthorizeEndpoint))
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, errors.New("oidctest: login: malformed query")
	}
	f := p.currentFaults()
	r, aerr := p.parseAuthRequest(q)
	if aerr != nil {
		if aerr.Redirect {
			return p.errorRedirect(&authRequest{redirectURI: q.Get("redirect_uri"), state: q.Get("state")}, aerr, &f), aerr
		}
		return nil, aerr
	}
	addr, ok := normalizeEmail(email)
	if !ok {
		return nil, fmt.Errorf("oidctest: login: %q is not an email address", truncate(email))
	}
	to, aerr := p.completeLogin(r, addr, &f)
	if aerr != nil {
		return to, aerr // not a nil *AuthError in a non-nil error
	}
	return to, nil
}

// serveAuthorize shows the login page (GET) and completes it (POST).
func (p *Provider) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	var q url.Values
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		var err error
		if q, err = url.ParseQuery(r.URL.RawQuery); err != nil {
			p.renderMessage(w, http.StatusBadRequest, "Bad request", "The authorization request is malformed.")
			return
		}
	case http.MethodPost:
		// The form is the provider's own page; a cross-site post would sign a
		// visitor in under someone else's email (login CSRF).
		if err := p.xorigin.Check(r); err != nil {
			p.renderMessage(w, http.StatusForbidden, "Forbidden", "Cross-site form submission refused.")
			return
		}
		var err error
		if q, err = readForm(w, r); err != nil {
			p.renderMessage(w, http.StatusBadRequest, "Bad request", "The form is malformed.")
			return
		}
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		p.renderMessage(w, http.StatusMethodNotAllowed, "Method not allowed", "Use GET or POST.")
		return
	}
	var action, email string
	if r.Method == http.MethodPost {
		// The form fields that are not part of the authorization request.
		action, email = q.Get("action"), q.Get("email")
		q.Del("action")
		q.Del("email")
	}
	f := p.currentFaults()
	ar, aerr := p.parseAuthRequest(q)
	if aerr != nil {
		if !aerr.Redirect {
			p.renderMessage(w, http.StatusBadRequest, "Invalid authorization request", aerr.Description)
			return
		}
		to := p.errorRedirect(&authRequest{redirectURI: q.Get("redirect_uri"), state: q.Get("state")}, aerr, &f)
		http.Redirect(w, r, to.String(), http.StatusFound)
		return
	}
	switch {
	case r.Method != http.MethodPost && slices.Contains(strings.Fields(ar.prompt), "none"):
		// There is no session to reuse: OpenID Connect Core §3.1.2.6.
		e := &AuthError{Code: "login_required", Description: "no session", Redirect: true}
		http.Redirect(w, r, p.errorRedirect(ar, e, &f).String(), http.StatusFound)
	case r.Method != http.MethodPost:
		p.renderLogin(w, http.StatusOK, ar, ar.loginHint, "")
	case action == "cancel":
		e := &AuthError{Code: "access_denied", Description: "the user cancelled", Redirect: true}
		http.Redirect(w, r, p.errorRedirect(ar, e, &f).String(), http.StatusFound)
	default:
		addr, ok := normalizeEmail(email)
		if !ok {
			p.renderLogin(w, http.StatusBadRequest, ar, email, "Enter an email address, like jane@example.com.")
			return
		}
		to, _ := p.completeLogin(ar, addr, &f)
		http.Redirect(w, r, to.String(), http.StatusFound)
	}
}

// readForm reads an application/x-www-form-urlencoded body of at most
// maxBody bytes, ignoring the URL's query.
func readForm(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, errors.New("content type must be application/x-www-form-urlencoded")
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := r.ParseForm(); err != nil {
		return nil, errors.New("malformed form body")
	}
	return r.PostForm, nil
}

// normalizeEmail accepts a bare address (no display name) and lower-cases
// it, so one person gets one subject whatever the case they type.
func normalizeEmail(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if len(s) > 254 || !utf8.ValidString(s) {
		return "", false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s || strings.ContainsFunc(s, unicode.IsSpace) {
		return "", false
	}
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || domain == "" || strings.Contains(domain, "@") {
		return "", false
	}
	return strings.ToLower(s), true
}

// Subject returns the sub the provider gives email: a stable hash, the same
// on every run and for every issuer, so tests can predict it.
func Subject(email string) string {
	if e, ok := normalizeEmail(email); ok {
		email = e
	}
	sum := sha256.Sum256([]byte("oidctest sub\x00" + email))
	return hex.EncodeToString(sum[:16])
}

// nameFromEmail makes a display name from the local part:
// "jane.doe+test@example.com" is "Jane Doe".
func nameFromEmail(email string) string {
	local, _, _ := strings.Cut(email, "@")
	local, _, _ = strings.Cut(local, "+")
	words := strings.FieldsFunc(local, func(r rune) bool { return r == '.' || r == '_' || r == '-' })
	for i, w := range words {
		r, n := utf8.DecodeRuneInString(w)
		words[i] = string(unicode.ToUpper(r)) + w[n:]
	}
	if len(words) == 0 {
		return local
	}
	return strings.Join(words, " ")
}

// truncate keeps echoed input short in error messages.
func truncate(s string) string {
	if len(s) <= 100 {
		return s
	}
	return strings.ToValidUTF8(s[:100], "") + "…"
}
