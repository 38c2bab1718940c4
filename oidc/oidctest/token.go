package oidctest

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// oauthError is an error response of the token or revocation endpoint
// (RFC 6749 §5.2).
type oauthError struct {
	status int
	code   string
	desc   string
}

func badRequest(code, desc string) *oauthError {
	return &oauthError{status: http.StatusBadRequest, code: code, desc: desc}
}

func invalidClient(desc string) *oauthError {
	return &oauthError{status: http.StatusUnauthorized, code: "invalid_client", desc: desc}
}

func writeOAuthError(w http.ResponseWriter, e *oauthError) {
	if e.status == http.StatusUnauthorized {
		// RFC 6749 §5.2: 401 comes with the scheme the client may use.
		w.Header().Set("WWW-Authenticate", `Basic realm="oidctest"`)
	}
	body := map[string]any{"error": e.code}
	if e.desc != "" {
		body["error_description"] = e.desc
	}
	writeJSON(w, e.status, body)
}

// serveToken is the token endpoint (RFC 6749 §3.2, §4.1.3, §6).
func (p *Provider) serveToken(w http.ResponseWriter, r *http.Request) {
	var tr TokenRequest
	resp, oerr := p.token(w, r, &tr)
	if oerr != nil {
		tr.Error = oerr.code
		p.recordToken(tr)
		writeOAuthError(w, oerr)
		return
	}
	p.recordToken(tr)
	writeJSON(w, http.StatusOK, resp)
}

func (p *Provider) token(w http.ResponseWriter, r *http.Request, tr *TokenRequest) (map[string]any, *oauthError) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return nil, &oauthError{status: http.StatusMethodNotAllowed, code: "invalid_request", desc: "use POST"}
	}
	form, err := readForm(w, r)
	if err != nil {
		return nil, badRequest("invalid_request", err.Error())
	}
	tr.GrantType = form.Get("grant_type")
	tr.RedirectURI = form.Get("redirect_uri")
	tr.CodeVerifier = form.Get("code_verifier")
	tr.Scope = form.Get("scope")
	client, method, oerr := p.authenticateClient(r, form)
	tr.ClientAuth, tr.ClientID = method, client.ID
	if oerr != nil {
		return nil, oerr
	}
	for name, vs := range form {
		if len(vs) > 1 { // RFC 6749 §3.2
			return nil, badRequest("invalid_request", name+" given more than once")
		}
	}
	f := p.currentFaults()
	if f.TokenError != "" {
		e := &oauthError{status: f.TokenErrorStatus, code: f.TokenError, desc: "oidctest: fault injected"}
		if e.status == 0 {
			e.status = http.StatusBadRequest
			if e.code == "invalid_client" {
				e.status = http.StatusUnauthorized
			}
		}
		return nil, e
	}
	switch tr.GrantType {
	case "authorization_code":
		return p.codeGrant(client, form, &f)
	case "refresh_token":
		return p.refreshGrant(client, form, &f)
	case "":
		return nil, badRequest("invalid_request", "grant_type is required")
	}
	return nil, badRequest("unsupported_grant_type", "grant_type must be authorization_code or refresh_token")
}

// authenticateClient checks the client's credentials (RFC 6749 §2.3.1):
// HTTP Basic with form-encoded id and secret, or both in the body; a public
// client sends client_id alone. It returns the method used, even on failure.
func (p *Provider) authenticateClient(r *http.Request, form url.Values) (Client, string, *oauthError) {
	var id, secret, method string
	basicID, basicSecret, basic, basicOK := parseBasic(r.Header.Get("Authorization"))
	switch {
	case basic && form.Has("client_secret"):
		return Client{ID: basicID}, "", badRequest("invalid_request", "more than one client authentication method")
	case basic:
		if !basicOK {
			return Client{}, "client_secret_basic", invalidClient("malformed Basic credentials")
		}
		if form.Has("client_id") && form.Get("client_id") != basicID {
			return Client{ID: basicID}, "client_secret_basic", badRequest("invalid_request", "client_id differs from the Basic credentials")
		}
		id, secret, method = basicID, basicSecret, "client_secret_basic"
	case form.Has("client_secret"):
		id, secret, method = form.Get("client_id"), form.Get("client_secret"), "client_secret_post"
	case form.Has("client_id"):
		id, method = form.Get("client_id"), "none"
	default:
		return Client{}, "", invalidClient("client authentication required")
	}
	c, ok := p.clients[id]
	if !ok {
		return Client{ID: id}, method, invalidClient("unknown client")
	}
	switch {
	case method == "none" && c.Secret != "":
		return c, method, invalidClient("client authentication required")
	case method == "none":
		return c, method, nil
	case c.Secret == "":
		return c, method, invalidClient("a public client has no secret")
	case !secretEqual(secret, c.Secret):
		return c, method, invalidClient("client authentication failed")
	}
	return c, method, nil
}

// parseBasic decodes Basic credentials whose id and secret are each
// form-encoded before Base64 (RFC 6749 §2.3.1). present says the header uses
// the Basic scheme; ok says it decoded.
func parseBasic(h string) (id, secret string, present, ok bool) {
	scheme, cred, found := strings.Cut(h, " ")
	if !found || !strings.EqualFold(scheme, "Basic") {
		return "", "", false, false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
	if err != nil {
		return "", "", true, false
	}
	encID, encSecret, found := strings.Cut(string(raw), ":")
	if !found {
		return "", "", true, false
	}
	if id, err = url.QueryUnescape(encID); err != nil {
		return "", "", true, false
	}
	if secret, err = url.QueryUnescape(encSecret); err != nil {
		return "", "", true, false
	}
	return id, secret, true, true
}

// secretEqual compares in constant time; hashing first hides the length too.
func secretEqual(a, b string) bool {
	ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(ha[:], hb[:]) == 1
}

// codeGrant redeems an authorization code (RFC 6749 §4.1.3, RFC 7636 §4.6).
func (p *Provider) codeGrant(client Client, form url.Values, f *Faults) (map[string]any, *oauthError) {
	code, verifier, redirectURI := form.Get("code"), form.Get("code_verifier"), form.Get("redirect_uri")
	if code == "" {
		return nil, badRequest("invalid_request", "code is required")
	}
	now := p.now()
	p.mu.Lock()
	c := p.codes[tokenKey(code)]
	var oerr *oauthError
	switch {
	case c == nil || !now.Before(c.expires):
		oerr = badRequest("invalid_grant", "authorization code is unknown or expired")
	case c.used:
		// RFC 6749 §4.1.2: a replayed code revokes what it gave.
		p.revokeGrantLocked(c.g)
		oerr = badRequest("invalid_grant", "authorization code was already used")
	case c.g.clientID != client.ID:
		oerr = badRequest("invalid_grant", "authorization code was issued to another client")
	case redirectURI == "":
		oerr = badRequest("invalid_request", "redirect_uri is required")
	case redirectURI != c.redirectURI:
		oerr = badRequest("invalid_grant", "redirect_uri differs from the authorization request")
	case verifier == "":
		oerr = badRequest("invalid_grant", "code_verifier is required (PKCE)")
	case !isVerifier(verifier):
		oerr = badRequest("invalid_grant", "code_verifier must be 43 to 128 unreserved characters")
	case !s256Matches(verifier, c.challenge):
		oerr = badRequest("invalid_grant", "code_verifier does not match code_challenge")
	default:
		c.used = true
	}
	p.mu.Unlock()
	if oerr != nil {
		return nil, oerr
	}
	return p.tokenResponse(client, c.g, c.g.scopes, c.nonce, "", f)
}

// isVerifier: RFC 7636 §4.1, 43 to 128 characters of [A-Za-z0-9-._~].
func isVerifier(s string) bool {
	if len(s) < 43 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("-._~", c) >= 0) {
			return false
		}
	}
	return true
}

// s256Matches: BASE64URL(SHA256(ASCII(verifier))) == challenge (RFC 7636 §4.6).
func s256Matches(verifier, challenge string) bool {
	sum := sha256.Sum256([]byte(verifier))
	got := base64.RawURLEncoding.EncodeToString(sum[:])
	return subtle.ConstantTimeCompare([]byte(got), []byte(challenge)) == 1
}

// refreshGrant uses a refresh token (RFC 6749 §6). Refresh tokens do not
// rotate: the same one comes back.
func (p *Provider) refreshGrant(client Client, form url.Values, f *Faults) (map[string]any, *oauthError) {
	rt := form.Get("refresh_token")
	if rt == "" {
		return nil, badRequest("invalid_request", "refresh_token is required")
	}
	e := p.lookupToken(p.refresh, rt)
	if e == nil {
		return nil, badRequest("invalid_grant", "refresh token is unknown, expired or revoked")
	}
	if e.g.clientID != client.ID {
		return nil, badRequest("invalid_grant", "refresh token was issued to another client")
	}
	scopes := e.scopes
	if form.Has("scope") {
		scopes = nil
		for s := range strings.FieldsSeq(form.Get("scope")) {
			if !slices.Contains(e.scopes, s) {
				return nil, badRequest("invalid_scope", fmt.Sprintf("scope %q was not granted", truncate(s)))
			}
			if !slices.Contains(scopes, s) {
				scopes = append(scopes, s)
			}
		}
	}
	// OpenID Connect Core §12.2: no nonce in an ID token from a refresh.
	return p.tokenResponse(client, e.g, scopes, "", rt, f)
}

// tokenResponse mints tokens for g (RFC 6749 §5.1, OpenID Connect Core
// §3.1.3.3). A refresh token is always issued, whatever the scopes, so a
// relying party's refresh path can be tested with default scopes.
func (p *Provider) tokenResponse(client Client, g *grant, scopes []string, nonce, refresh string, f *Faults) (map[string]any, *oauthError) {
	at := p.storeToken(p.access, g, scopes, accessTTL)
	if refresh == "" {
		refresh = p.storeToken(p.refresh, g, scopes, refreshTTL)
	}
	resp := map[string]any{
		"access_token":  at,
		"token_type":    "Bearer",
		"expires_in":    int64(accessTTL / time.Second),
		"refresh_token": refresh,
		"scope":         strings.Join(scopes, " "),
	}
	if slices.Contains(scopes, "openid") && !f.MissingIDToken {
		idt, err := p.idToken(client, g, nonce, at, f)
		if err != nil {
			return nil, &oauthError{status: http.StatusInternalServerError, code: "server_error", desc: "cannot sign the ID token"}
		}
		resp["id_token"] = idt
	}
	if f.TokenResponse != nil {
		f.TokenResponse(resp)
	}
	return resp, nil
}

// idToken makes the ID token of g (OpenID Connect Core §2), with f's claim
// faults applied.
func (p *Provider) idToken(client Client, g *grant, nonce, accessToken string, f *Faults) (string, error) {
	iat := p.now()
	switch {
	case f.Expired:
		iat = iat.Add(-2 * idTokenTTL)
	case f.IssuedInFuture:
		iat = iat.Add(time.Hour)
	}
	authTime := g.authTime
	if iat.Before(authTime) {
		authTime = iat
	}
	claims := map[string]any{
		"iss":            p.issuer,
		"sub":            Subject(g.email),
		"aud":            client.ID,
		"azp":            client.ID,
		"iat":            iat.Unix(),
		"exp":            iat.Add(idTokenTTL).Unix(),
		"auth_time":      authTime.Unix(),
		"email":          g.email,
		"email_verified": true,
		"name":           nameFromEmail(g.email),
	}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	if accessToken != "" {
		if f.WrongAtHash {
			accessToken += "-not-this-one"
		}
		claims["at_hash"] = halfHash(f.headerAlg(p.alg), accessToken)
	}
	if f.Issuer != "" {
		claims["iss"] = f.Issuer
	}
	if f.Audience != nil {
		claims["aud"] = slices.Clone(f.Audience)
	}
	if f.AuthorizedParty != "" {
		claims["azp"] = f.AuthorizedParty
	}
	if f.Nonce != "" {
		claims["nonce"] = f.Nonce
	}
	for _, c := range f.OmitClaims {
		delete(claims, c)
	}
	if f.IDTokenClaims != nil {
		f.IDTokenClaims(claims)
	}
	tok, err := p.signJWT(claims, f, client.Secret)
	if err != nil {
		return "", fmt.Errorf("oidctest: ID token: %w", err)
	}
	return tok, nil
}

// Tokens are what IssueTokens mints.
type Tokens struct {
	AccessToken, IDToken, RefreshToken string
}

// IssueTokens mints tokens for email as if clientID had just redeemed a code
// for scopes "openid email profile offline_access" with nonce (which may be
// empty), without a browser: for tests of token conversion, userinfo and
// revocation. Faults apply as at the token endpoint.
func (p *Provider) IssueTokens(clientID, email, nonce string) (Tokens, error) {
	client, ok := p.clients[clientID]
	if !ok {
		return Tokens{}, fmt.Errorf("oidctest: issue tokens: unknown client %q", clientID)
	}
	addr, ok := normalizeEmail(email)
	if !ok {
		return Tokens{}, fmt.Errorf("oidctest: issue tokens: %q is not an email address", truncate(email))
	}
	f := p.currentFaults()
	g := &grant{clientID: clientID, email: addr, scopes: supportedScopes(), authTime: p.now()}
	resp, oerr := p.tokenResponse(client, g, g.scopes, nonce, "", &f)
	if oerr != nil {
		return Tokens{}, errors.New("oidctest: issue tokens: " + oerr.desc)
	}
	str := func(k string) string { s, _ := resp[k].(string); return s }
	return Tokens{AccessToken: str("access_token"), IDToken: str("id_token"), RefreshToken: str("refresh_token")}, nil
}
